package dev.gaffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The {@code gaffer} launcher script, run as a person (or the container image) runs it: it starts
 * the given jar with Gaffer's JVM defaults, which GAFFER_JAVA_OPTS can override. The JVM reports
 * the flags it ended up with ({@code -XX:+PrintCommandLineFlags}).
 */
class LauncherIT {

    private static final Path LAUNCHER =
            Path.of("..", "gaffer").toAbsolutePath().normalize();

    @Test
    void runsTheJarWithACappedHeapAndTheSerialCollector() throws Exception {
        String flags = launch(Map.of("GAFFER_JAVA_OPTS", "-XX:+PrintCommandLineFlags"), "--version");
        assertThat(flags).contains("-XX:MaxHeapSize=268435456").contains("-XX:+UseSerialGC");
    }

    @Test
    void devModeGetsALargerHeap() throws Exception {
        String flags = launch(Map.of("GAFFER_JAVA_OPTS", "-XX:+PrintCommandLineFlags"), "dev", "--help");
        assertThat(flags).contains("-XX:MaxHeapSize=536870912");
    }

    @Test
    void aWorkerCompilesWithC1OnlyAndGafferJavaOptsGivesC2Back() throws Exception {
        String worker = launch(Map.of("GAFFER_JAVA_OPTS", "-XX:+PrintCommandLineFlags"), "worker", "--help");
        assertThat(worker).contains("-XX:TieredStopAtLevel=1").contains("-XX:NewSize=67108864");
        String api = launch(Map.of("GAFFER_JAVA_OPTS", "-XX:+PrintCommandLineFlags"), "api", "--help");
        assertThat(api).doesNotContain("TieredStopAtLevel").doesNotContain("NewSize=67108864");
        String c2 =
                launch(Map.of("GAFFER_JAVA_OPTS", "-XX:TieredStopAtLevel=4 -XX:+PrintFlagsFinal"), "worker", "--help");
        assertThat(c2).containsPattern("intx TieredStopAtLevel\\s+= 4 ");
    }

    @Test
    void gafferJavaOptsOverrideTheDefaults() throws Exception {
        String flags = launch(Map.of("GAFFER_JAVA_OPTS", "-Xmx300m -XX:+PrintCommandLineFlags"), "--version");
        assertThat(flags).contains("-XX:MaxHeapSize=314572800");
    }

    @Test
    void aMissingJarIsAPlainError() throws Exception {
        Process p = start(Map.of("GAFFER_JAR", "/nonexistent/gaffer.jar"), "--version");
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isEqualTo(1);
        assertThat(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8))
                .contains("GAFFER_JAR=/nonexistent/gaffer.jar does not exist");
    }

    /** Runs the launcher with target/gaffer.jar; returns its output (stdout and stderr). */
    private static String launch(Map<String, String> env, String... args) throws Exception {
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("GAFFER_JAR", GafferProcess.JAR.toString());
        Process p = start(all, args);
        assertThat(p.waitFor(60, TimeUnit.SECONDS))
                .as("gaffer %s finished", List.of(args))
                .isTrue();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    private static Process start(Map<String, String> env, String... args) throws Exception {
        assertThat(Files.isExecutable(LAUNCHER)).as(LAUNCHER + " is executable").isTrue();
        List<String> cmd = new java.util.ArrayList<>(List.of(LAUNCHER.toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().keySet().removeIf(k -> k.startsWith("GAFFER_") || k.equals("DATABASE_URL"));
        // The JDK that runs the tests; the launcher takes JAVA_HOME first.
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        pb.environment().putAll(env);
        return pb.start();
    }
}
