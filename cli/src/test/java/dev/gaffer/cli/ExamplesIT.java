package dev.gaffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.testing.TestPostgres;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The projects in {@code examples/}, built the way a user builds them, against this build's
 * artifacts as {@code ./mvnw install} installs them, and run as real processes:
 *
 * <ul>
 *   <li>(a) the handler jar, dropped into {@code --handlers} of the stock {@code gaffer} launcher's
 *       {@code api} and {@code worker}, runs its job type end to end;
 *   <li>(c) the REST client creates, approves and follows a job of that type to completion;
 *   <li>(b) the orders app rolls one order (and its job) back, commits another, and checks that its
 *       embedded worker confirmed exactly the committed one.
 * </ul>
 *
 * The examples are copied out of the source tree first, so they build on their own. Their Maven
 * build takes Gaffer's artifacts from a staging repository filled from this build's
 * {@code target} folders (what {@code install} would copy) and everything else from the local
 * repository, so it never sees a stale Gaffer from an earlier {@code install}.
 */
class ExamplesIT {

    static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    static final Path LAUNCHER = ROOT.resolve("gaffer");
    static final String VERSION = System.getProperty("gaffer.version", "");
    static final String[][] PUBLISHED = {
        {"handler-api", "gaffer-handler-api"},
        {"schema", "gaffer-schema"},
        {"worker", "gaffer-worker"},
        {"client", "gaffer-client"}
    };

    @TempDir
    static Path dir;

    static Path examples;

    @BeforeAll
    static void buildTheExamples() throws Exception {
        assertThat(VERSION)
                .as("gaffer.version (set by the cli module's failsafe configuration)")
                .isNotBlank();
        String examplesPom = Files.readString(ROOT.resolve("examples/pom.xml"));
        assertThat(examplesPom)
                .as("examples/pom.xml builds against this version of Gaffer")
                .contains("<gaffer.version>" + VERSION + "</gaffer.version>");
        Path repo = dir.resolve("repository");
        stage(repo);
        examples = dir.resolve("examples");
        copyTree(ROOT.resolve("examples"), examples);

        List<String> cmd = new ArrayList<>(List.of(
                ROOT.resolve("mvnw").toString(),
                "-B",
                "-o", // everything they need besides Gaffer, this build has already fetched
                "-f",
                examples.resolve("pom.xml").toString(),
                "-Dmaven.repo.local=" + repo,
                "-Dmaven.repo.local.tail=" + System.getProperty("gaffer.localRepository"),
                "package"));
        Path log = dir.resolve("examples-build.log");
        ProcessBuilder pb = new ProcessBuilder(cmd)
                .directory(examples.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().remove("MAVEN_ARGS");
        Process build = pb.start();
        if (!build.waitFor(10, TimeUnit.MINUTES)) {
            build.destroyForcibly();
            throw new AssertionError("the examples' build did not finish in 10 minutes:\n" + tail(log));
        }
        assertThat(build.exitValue())
                .as("the examples' build (mvnw package in a copy of examples/):\n%s", tail(log))
                .isZero();
        assertThat(Files.readString(log))
                .as("the handler's own test ran against a real PostgreSQL")
                .containsPattern("Tests run: 2, Failures: 0, Errors: 0, Skipped: 0.*WordCountTest");
    }

    @Test
    void theHandlerJarRunsInTheStockLauncherAndTheRestClientFollowsItsJobToTheEnd() throws Exception {
        Path handlers = Files.createDirectories(dir.resolve("handlers"));
        Files.copy(
                examples.resolve("wordcount-handler/target/wordcount-handler-1.0.0.jar"),
                handlers.resolve("wordcount.jar"));
        String db = TestPostgres.newEmptyDatabase("examples_handler");
        Map<String, String> env = Map.of("DATABASE_URL", TestPostgres.postgresUrl(db));
        var migrated = GafferProcess.run(env, Duration.ofSeconds(60), "migrate");
        assertThat(migrated.exitCode()).as(migrated.err()).isZero();
        var key = GafferProcess.run(
                env, Duration.ofSeconds(60), "keys", "create", "--name", "examples", "--role", "approve");
        assertThat(key.exitCode()).as(key.err()).isZero();

        int port = GafferProcess.freePort();
        String base = "http://127.0.0.1:" + port;
        Path apiLog = dir.resolve("api.log");
        Path workerLog = dir.resolve("worker.log");
        Process api = launch(
                env,
                apiLog,
                "api",
                "--host",
                "127.0.0.1",
                "--port",
                String.valueOf(port),
                "--handlers",
                handlers.toString());
        Process worker = launch(env, workerLog, "worker", "--handlers", handlers.toString());
        try {
            GafferProcess.awaitReady(base + "/health/ready", api, apiLog, Duration.ofSeconds(60));
            Path client = examples.resolve("rest-client/target/rest-client.jar");
            Map<String, String> clientEnv = Map.of("GAFFER_API_KEY", key.out().strip());

            var followed = java(clientEnv, client, base, "wordcount", "{\"text\": \"to be or not to be\", \"top\": 2}");
            assertThat(followed.exitCode())
                    .as(followed.out() + followed.err() + tail(workerLog))
                    .isZero();
            assertThat(followed.out())
                    .containsPattern("event \\d+: created")
                    .containsPattern("event \\d+: approved")
                    .containsPattern("event \\d+: completed")
                    .containsPattern("job \\d+ completed");
            Matcher result = Pattern.compile("result: (.*)").matcher(followed.out());
            assertThat(result.find()).isTrue();
            assertThat(result.group(1))
                    .contains("\"words\":6")
                    .contains("\"distinct\":4")
                    .contains("{\"word\":\"be\",\"count\":2},{\"word\":\"to\",\"count\":2}");

            // The API learnt the type's validator from the same folder: a bad request is refused.
            var refused = java(clientEnv, client, base, "wordcount", "{\"text\": \"x\", \"top\": 1000}");
            assertThat(refused.exitCode()).as(refused.out()).isEqualTo(2);
            assertThat(refused.err()).contains("parameters.top").contains("from 1 to 100");
        } finally {
            stop(api, apiLog);
            stop(worker, workerLog);
        }
    }

    @Test
    void theOrdersAppCommitsAJobWithItsOrderAndARollbackLeavesNone() throws Exception {
        String db = TestPostgres.newEmptyDatabase("examples_orders");
        var ran = java(
                Map.of("DATABASE_URL", TestPostgres.postgresUrl(db)),
                examples.resolve("orders-app/target/orders-app.jar"));
        assertThat(ran.exitCode()).as(ran.out() + ran.err()).isZero();
        assertThat(ran.out())
                .contains("rolled back: payment declined for ada")
                .containsPattern("committed: order (\\d+)")
                .contains("confirmation jobs: 1, completed: 1")
                .endsWith("OK\n");
        Matcher committed = Pattern.compile("committed: order (\\d+)").matcher(ran.out());
        assertThat(committed.find()).isTrue();
        assertThat(ran.out()).contains("confirmed orders: [" + committed.group(1) + "]");
        // The worker handed its LISTEN connection back to the app's pool clean, not broken.
        assertThat(ran.err()).doesNotContain("marked as broken").doesNotContain("ERROR");
    }

    /** Copies what `install` would put in the local repository: pom, jar, sources, Javadoc, tests. */
    private static void stage(Path repo) throws IOException {
        put(repo, "gaffer-parent", ROOT.resolve("pom.xml"), "pom");
        for (String[] m : PUBLISHED) {
            Path module = ROOT.resolve(m[0]);
            String artifact = m[1];
            put(repo, artifact, module.resolve("pom.xml"), "pom");
            for (String classifier : new String[] {"", "-sources", "-javadoc"}) {
                Path jar = module.resolve("target/" + artifact + "-" + VERSION + classifier + ".jar");
                assertThat(jar)
                        .as("%s is built with its sources and Javadoc", artifact)
                        .isRegularFile();
                put(repo, artifact + classifier, jar, "jar");
            }
            Path tests = module.resolve("target/" + artifact + "-" + VERSION + "-tests.jar");
            if (Files.exists(tests)) {
                put(repo, artifact + "-tests", tests, "jar");
            }
        }
    }

    private static void put(Path repo, String artifactAndClassifier, Path file, String extension) throws IOException {
        String artifact = artifactAndClassifier.replaceFirst("-(sources|javadoc|tests)$", "");
        Path folder = Files.createDirectories(
                repo.resolve("dev/gaffer").resolve(artifact).resolve(VERSION));
        String classifier = artifactAndClassifier.substring(artifact.length());
        Files.copy(
                file,
                folder.resolve(artifact + "-" + VERSION + classifier + "." + extension),
                StandardCopyOption.REPLACE_EXISTING);
    }

    private static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> files = Files.walk(from)) {
            for (Path f : (Iterable<Path>) files::iterator) {
                Path rel = from.relativize(f);
                if (rel.toString().contains("target")) {
                    continue; // an earlier build's output in the source tree
                }
                Path target = to.resolve(rel.toString());
                if (Files.isDirectory(f)) {
                    Files.createDirectories(target);
                } else {
                    Files.copy(f, target);
                }
            }
        }
    }

    private static Process launch(Map<String, String> env, Path log, String... args) throws IOException {
        assertThat(Files.isExecutable(LAUNCHER)).as(LAUNCHER + " is executable").isTrue();
        List<String> cmd = new ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("GAFFER_") || k.equals("DATABASE_URL"));
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().put("GAFFER_JAR", GafferProcess.JAR.toString());
        pb.environment().putAll(env);
        return pb.start();
    }

    private static GafferProcess.Result java(Map<String, String> env, Path jar, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(
                List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", jar.toString()));
        cmd.addAll(List.of(args));
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile());
        pb.environment().keySet().removeIf(k -> k.startsWith("GAFFER_") || k.equals("DATABASE_URL"));
        pb.environment().putAll(env);
        Process p = pb.start();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError(jar.getFileName() + " did not finish within 2 minutes:\n" + Files.readString(out));
        }
        return new GafferProcess.Result(
                p.exitValue(),
                Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private static void stop(Process p, Path log) throws Exception {
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("a gaffer process did not stop on SIGTERM:\n" + tail(log));
        }
        assertThat(p.exitValue()).as(tail(log)).isZero();
    }

    private static String tail(Path log) throws IOException {
        if (!Files.exists(log)) {
            return "";
        }
        List<String> lines = Files.readAllLines(log);
        return String.join("\n", lines.subList(Math.max(0, lines.size() - 60), lines.size()));
    }
}
