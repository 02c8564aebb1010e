package dev.gaffer.faults;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * One {@code gaffer} process started from the built jar (with this module's test classes on the
 * class path, for the recording handlers), its output in a log file. Signals go to its pid only.
 */
final class GafferProc {

    static final Path BUILT_JAR = Path.of(System.getProperty("gaffer.jar", "../cli/target/gaffer.jar"))
            .toAbsolutePath()
            .normalize();
    /**
     * A private copy of the built jar: processes are restarted throughout the suite, and each
     * must run the same bytes even if cli/target/gaffer.jar is rebuilt meanwhile.
     */
    static final Path JAR = copyOfJar();

    static final Path TEST_CLASSES = Path.of(System.getProperty("faults.classes", "target/test-classes"))
            .toAbsolutePath()
            .normalize();

    final String name;
    final Path log;
    private final List<String> command;
    private final Map<String, String> env;
    private Process process;
    private int starts;

    GafferProc(String name, Path logDir, Map<String, String> env, String... args) {
        this.name = name;
        this.log = logDir.resolve(name + ".log");
        this.env = Map.copyOf(env);
        this.command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m",
                "-Xss512k",
                "-XX:+UseSerialGC",
                "-Xshare:auto",
                "-cp",
                JAR + java.io.File.pathSeparator + TEST_CLASSES,
                "dev.gaffer.cli.Gaffer"));
        this.command.addAll(List.of(args));
    }

    private static Path copyOfJar() {
        if (!Files.isRegularFile(BUILT_JAR)) {
            throw new IllegalStateException(
                    BUILT_JAR + " is missing: build the cli module first (./mvnw -pl cli package)");
        }
        try {
            Path copy = Path.of("target", "gaffer-under-test.jar").toAbsolutePath();
            Files.createDirectories(copy.getParent());
            Files.copy(BUILT_JAR, copy, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            return copy;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot copy " + BUILT_JAR, e);
        }
    }

    synchronized GafferProc start() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(name + " is already running");
        }
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("GAFFER_") || k.equals("DATABASE_URL"));
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        pb.redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        try {
            Files.writeString(
                    log,
                    "---- start " + (++starts) + " ----\n",
                    StandardCharsets.UTF_8,
                    java.nio.file.StandardOpenOption.CREATE,
                    java.nio.file.StandardOpenOption.APPEND);
            process = pb.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + name, e);
        }
        return this;
    }

    synchronized long pid() {
        return process.pid();
    }

    synchronized boolean alive() {
        return process != null && process.isAlive();
    }

    synchronized Process process() {
        return process;
    }

    /** SIGKILL, and wait until it is gone. */
    synchronized void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                throw new AssertionError(name + " did not die within 10 s of SIGKILL");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** SIGTERM, bounded; SIGKILL if it does not stop in time. */
    synchronized void stop() {
        if (process == null || !process.isAlive()) {
            return;
        }
        signal("CONT");
        process.destroy();
        try {
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }

    /** kill -STOP / -CONT on this process's pid only. */
    void signal(String sig) {
        long pid;
        synchronized (this) {
            if (process == null || !process.isAlive()) {
                return;
            }
            pid = process.pid();
        }
        try {
            // The shell's built-in kill: no procps needed on a minimal machine.
            Process p = new ProcessBuilder("sh", "-c", "kill -" + sig + " " + pid)
                    .redirectErrorStream(true)
                    .start();
            if (!p.waitFor(5, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new AssertionError("kill -" + sig + " " + pid + " failed");
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    String tail(int lines) {
        try {
            if (!Files.exists(log)) {
                return "(no log)";
            }
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    String logText() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "";
        }
    }
}
