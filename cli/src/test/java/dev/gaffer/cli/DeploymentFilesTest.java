package dev.gaffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * There is no Docker engine where the tests run, so the deployment files are checked for what
 * can be checked without one: the compose file parses, has the services the operators rely on,
 * and every command it and the Dockerfile hand to the jar is a command the jar has.
 */
class DeploymentFilesTest {

    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();

    @Test
    void composeFileHasTheClusterServices() throws Exception {
        JsonNode compose = new ObjectMapper(new YAMLFactory())
                .readTree(ROOT.resolve("compose.yaml").toFile());
        JsonNode services = compose.get("services");
        assertThat(fieldNames(services)).containsExactlyInAnyOrder("postgres", "migrate", "api", "worker");

        assertThat(services.at("/postgres/image").asText()).startsWith("postgres:");
        assertThat(services.at("/postgres/healthcheck/test").toString()).contains("pg_isready");
        assertThat(services.at("/postgres/volumes/0").asText()).startsWith("pgdata:");
        assertThat(fieldNames(compose.get("volumes"))).contains("pgdata");

        assertThat(services.at("/migrate/depends_on/postgres/condition").asText())
                .isEqualTo("service_healthy");
        assertThat(services.at("/api/ports/0").asText()).isEqualTo("4000:4000");
        assertThat(services.at("/api/healthcheck/test").toString()).contains("/health/ready");
        assertThat(services.at("/api/depends_on/migrate/condition").asText())
                .isEqualTo("service_completed_successfully");
        assertThat(services.at("/worker/deploy/replicas").asInt()).isEqualTo(3);
        for (String service : List.of("api", "worker")) {
            assertThat(services.at("/" + service + "/volumes/0").asText())
                    .as(service + " mounts the handler jars where the image looks for them")
                    .isEqualTo("./handlers:/app/handlers:ro");
        }
        assertThat(ROOT.resolve("handlers")).isDirectory();
        for (String service : List.of("migrate", "api", "worker")) {
            assertThat(services.at("/" + service + "/environment/DATABASE_URL").asText())
                    .as(service + " DATABASE_URL")
                    .startsWith("postgres://");
        }
    }

    @Test
    void everyCommandTheContainersRunExistsInTheJar() throws Exception {
        JsonNode services = new ObjectMapper(new YAMLFactory())
                .readTree(ROOT.resolve("compose.yaml").toFile())
                .get("services");
        Set<String> commands = Gaffer.commandLine().getSubcommands().keySet();
        for (String service : List.of("migrate", "api", "worker")) {
            assertThat(commands)
                    .contains(services.at("/" + service + "/command/0").asText());
        }
        String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
        // The image runs the jar through the same launcher as a checkout (its JVM defaults).
        assertThat(dockerfile)
                .contains("COPY gaffer /app/gaffer")
                .contains("ENV GAFFER_JAR=/app/gaffer.jar")
                .contains("ENTRYPOINT [\"/app/gaffer\"]");
        assertThat(dockerfile).contains("USER gaffer").contains("ffmpeg");
        assertThat(dockerfile).contains("ENV GAFFER_HANDLERS=/app/handlers");
    }

    @Test
    void theImageBuildCopiesEveryModulesPom() throws Exception {
        // Maven reads the pom of every module of the reactor, even those it does not build: a
        // module left out of the image's build context fails the build before it starts.
        String pom = Files.readString(ROOT.resolve("pom.xml"));
        String dockerfile = Files.readString(ROOT.resolve("Dockerfile"));
        Matcher module = Pattern.compile("<module>([^<]+)</module>").matcher(pom);
        List<String> modules = new ArrayList<>();
        while (module.find()) {
            modules.add(module.group(1));
        }
        assertThat(modules).contains("schema", "cli");
        for (String m : modules) {
            assertThat(dockerfile)
                    .as("Dockerfile copies %s/pom.xml", m)
                    .contains("COPY " + m + "/pom.xml " + m + "/pom.xml");
        }
    }

    private static List<String> fieldNames(JsonNode node) {
        List<String> names = new ArrayList<>();
        node.fieldNames().forEachRemaining(names::add);
        return names;
    }
}
