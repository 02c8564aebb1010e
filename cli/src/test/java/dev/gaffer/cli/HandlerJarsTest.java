package dev.gaffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.JobTypeValidator;
import dev.gaffer.job.JobTypeValidators;
import dev.gaffer.job.SubJobFailurePolicy;
import dev.gaffer.worker.JobContext;
import dev.gaffer.worker.JobHandlerProvider;
import dev.gaffer.worker.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Handler jars loaded from a folder: real jars, compiled here, in class loaders of their own. */
class HandlerJarsTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    static String provider(String pkg, String cls, String type, String body) {
        return """
                package %1$s;
                import dev.gaffer.worker.*;
                import com.fasterxml.jackson.databind.node.JsonNodeFactory;
                public final class %2$s implements JobHandlerProvider {
                    public java.util.Map<String, JobHandler> handlers() {
                        return java.util.Map.of("%3$s", ctx -> %4$s);
                    }
                }
                """.formatted(pkg, cls, type, body);
    }

    static final String GREET_PARAMETERS = """
            package acme;
            import com.fasterxml.jackson.databind.JsonNode;
            import dev.gaffer.job.InvalidJobException;
            public final class GreetParameters implements dev.gaffer.job.JobTypeValidator {
                public java.util.Set<String> types() { return java.util.Set.of("greet"); }
                public void validate(String type, JsonNode parameters, JsonNode storyboard) {
                    if (parameters == null || !parameters.path("name").isTextual()) {
                        throw new InvalidJobException("parameters.name", "must be a string");
                    }
                }
            }
            """;

    /** greet/ holds the handler and, beside it, the library it uses; shout.jar stands alone. */
    private Path folderWithTwoHandlers() throws Exception {
        Path folder = dir.resolve("handlers");
        Path lib = TestJars.build(
                folder.resolve("greet").resolve("acme-names.jar"), Map.of("acme.lib.Names", """
                        package acme.lib;
                        public final class Names {
                            public static String upper(String s) { return s.toUpperCase(java.util.Locale.ROOT); }
                        }
                        """), Map.of(), List.of());
        TestJars.build(
                folder.resolve("greet").resolve("greet.jar"),
                Map.of(
                        "acme.GreetProvider",
                        provider(
                                "acme",
                                "GreetProvider",
                                "greet",
                                "Outcome.complete(JsonNodeFactory.instance.objectNode().put(\"hello\","
                                        + " acme.lib.Names.upper(ctx.parameters().path(\"name\").asText())))"),
                        "acme.GreetParameters",
                        GREET_PARAMETERS),
                Map.ofEntries(
                        TestJars.service(JobHandlerProvider.class, "acme.GreetProvider"),
                        TestJars.service(JobTypeValidator.class, "acme.GreetParameters")),
                List.of(lib));
        TestJars.build(
                folder.resolve("shout.jar"),
                Map.of("shouty.ShoutProvider", provider("shouty", "ShoutProvider", "shout", "Outcome.complete(null)")),
                Map.ofEntries(TestJars.service(JobHandlerProvider.class, "shouty.ShoutProvider")),
                List.of());
        Files.writeString(folder.resolve("README.txt"), "not a jar: ignored");
        return folder;
    }

    @Test
    void loadsEachJarAndEachFolderOfJarsWithItsDependenciesInALoaderOfItsOwn() throws Exception {
        List<HandlerJars.Loaded> loaded =
                HandlerJars.load(folderWithTwoHandlers(), getClass().getClassLoader());

        assertThat(loaded).extracting(HandlerJars.Loaded::source).containsExactly("greet", "shout.jar");
        var handlers = HandlerJars.handlers(loaded);
        assertThat(handlers).containsOnlyKeys("greet", "shout");
        Outcome greeted = handlers.get("greet").handle(context("greet", JSON.readTree("{\"name\":\"alice\"}")));
        assertThat(((Outcome.Complete) greeted).result().path("hello").asText()).isEqualTo("ALICE");

        JobTypeValidators validators = JobTypeValidators.discover().plus(HandlerJars.validators(loaded));
        assertThat(HandlerJars.acceptedTypes(validators, loaded)).contains("greet", "shout", "noop", "sleep");
        assertThatThrownBy(() -> validators.validate("greet", JSON.readTree("{\"name\":7}"), null))
                .isInstanceOf(InvalidJobException.class)
                .hasMessageContaining("must be a string");
        validators.validate("greet", JSON.readTree("{\"name\":\"bob\"}"), null);
    }

    @Test
    void anEmptyFolderHasNoHandlersAndAMissingOneIsRefused() throws Exception {
        Path empty = Files.createDirectories(dir.resolve("empty"));
        assertThat(HandlerJars.load(empty, getClass().getClassLoader())).isEmpty();
        assertThatThrownBy(() ->
                        HandlerJars.load(dir.resolve("nowhere"), getClass().getClassLoader()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("GAFFER_HANDLERS must be a folder")
                .hasMessageContaining("no such folder");
    }

    @Test
    void aJarWithoutAProviderIsRefusedByName() throws Exception {
        Path folder = dir.resolve("h");
        TestJars.build(
                folder.resolve("forgot-services.jar"),
                Map.of("acme.P", provider("acme", "P", "greet", "Outcome.complete(null)")),
                Map.of(),
                List.of());
        assertThatThrownBy(() -> HandlerJars.load(folder, getClass().getClassLoader()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("forgot-services.jar declares no job type")
                .hasMessageContaining("META-INF/services/dev.gaffer.worker.JobHandlerProvider");
    }

    @Test
    void twoHandlersOfOneTypeAreRefusedNamingBoth() throws Exception {
        Path folder = dir.resolve("h");
        for (String name : List.of("a", "b")) {
            TestJars.build(
                    folder.resolve(name + ".jar"),
                    Map.of(name + ".P", provider(name, "P", "greet", "Outcome.complete(null)")),
                    Map.ofEntries(TestJars.service(JobHandlerProvider.class, name + ".P")),
                    List.of());
        }
        assertThatThrownBy(() -> HandlerJars.load(folder, getClass().getClassLoader()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("two handlers for job type 'greet': a.jar and b.jar");
    }

    @Test
    void aHandlerForABuiltInTypeIsRefused() throws Exception {
        Path folder = dir.resolve("h");
        TestJars.build(
                folder.resolve("my-noop.jar"),
                Map.of("mine.P", provider("mine", "P", "noop", "Outcome.complete(null)")),
                Map.ofEntries(TestJars.service(JobHandlerProvider.class, "mine.P")),
                List.of());
        assertThatThrownBy(() -> WorkerCommand.handlers(
                        Map.of("GAFFER_HANDLERS", folder.toString(), "GAFFER_JOB_TYPES", "noop"), null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("two handlers for job type 'noop'");
    }

    @Test
    void aValidatorForATypeItsHandlerDoesNotRunIsRefused() throws Exception {
        Path folder = dir.resolve("h");
        TestJars.build(
                folder.resolve("mismatch.jar"),
                Map.of(
                        "acme.P",
                        provider("acme", "P", "greeting", "Outcome.complete(null)"),
                        "acme.GreetParameters",
                        GREET_PARAMETERS),
                Map.ofEntries(
                        TestJars.service(JobHandlerProvider.class, "acme.P"),
                        TestJars.service(JobTypeValidator.class, "acme.GreetParameters")),
                List.of());
        assertThatThrownBy(() -> HandlerJars.load(folder, getClass().getClassLoader()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("mismatch.jar: validator acme.GreetParameters checks job type 'greet'")
                .hasMessageContaining("they run [greeting]");
    }

    /** The little a handler reads, for calling it outside a worker. */
    private static JobContext context(String type, JsonNode parameters) {
        Instant now = Instant.now();
        Job job = new Job(
                1,
                null,
                type,
                "default",
                0,
                parameters,
                null,
                null,
                JobStatus.PROCESSING,
                null,
                0,
                1,
                3,
                now,
                null,
                "w",
                now,
                now,
                0,
                0,
                null,
                null,
                SubJobFailurePolicy.WAIT_ALL,
                null,
                null,
                null,
                now,
                null,
                now,
                null,
                now,
                1,
                "plan",
                null,
                0);
        return new JobContext() {
            @Override
            public Job job() {
                return job;
            }

            @Override
            public Duration timeout() {
                return Duration.ofMinutes(1);
            }

            @Override
            public void progress(Integer percentage, String stage) {}

            @Override
            public boolean isCancelled() {
                return false;
            }

            @Override
            public List<Job> subJobs() {
                return List.of();
            }
        };
    }
}
