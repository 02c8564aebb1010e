package dev.gaffer.bench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Child processes of the bench: real {@code gaffer worker} and {@code gaffer api} processes from
 * the built jar, started by the {@code gaffer} launcher script with its JVM defaults as a person or
 * the container image starts them, and the db-scheduler peer. The launcher execs the JVM, so a
 * child's pid is its JVM's. Each one's output goes to a log file. A shutdown hook kills whatever
 * is still running, by pid, so no child outlives the bench.
 */
final class Children implements AutoCloseable {

    private final Path gafferJar;
    private final Path launcher;
    private final Path logDirectory;
    private final String java;
    private final List<Process> started = new ArrayList<>();

    Children(Path gafferJar, Path launcher, Path logDirectory) {
        this.gafferJar = gafferJar;
        this.launcher = launcher;
        this.logDirectory = logDirectory;
        this.java = ProcessHandle.current().info().command().orElse("java");
        if (!Files.isRegularFile(gafferJar)) {
            throw new IllegalStateException(gafferJar + " is missing: build it first (bench/run does)");
        }
        if (!Files.isExecutable(launcher)) {
            throw new IllegalStateException(launcher + " (the gaffer launcher script) is missing or not executable");
        }
        try {
            Files.createDirectories(logDirectory);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Runtime.getRuntime().addShutdownHook(new Thread(this::killAll, "bench-children-cleanup"));
    }

    /** {@code gaffer worker}, configured only through its environment, as in production. */
    Process worker(String logName, Map<String, String> env) {
        return start(logName, List.of(launcher.toString(), "worker"), launcherEnv(env));
    }

    /**
     * {@code java -jar gaffer.jar worker} without the launcher: the JVM's own defaults only (the
     * memory scenario's comparison).
     */
    Process plainJavaWorker(String logName, Map<String, String> env) {
        return start(logName, List.of(java, "-jar", gafferJar.toString(), "worker"), env);
    }

    Process api(String logName, Map<String, String> env, List<String> flags) {
        List<String> cmd = new ArrayList<>(List.of(launcher.toString(), "api"));
        cmd.addAll(flags);
        return start(logName, cmd, launcherEnv(env));
    }

    private Map<String, String> launcherEnv(Map<String, String> env) {
        Map<String, String> all = new java.util.LinkedHashMap<>(env);
        all.put("GAFFER_JAR", gafferJar.toString());
        // The launcher takes JAVA_HOME first: the JDK of the bench itself.
        all.put("JAVA_HOME", Path.of(java).getParent().getParent().toString());
        return all;
    }

    /** A main class of the bench itself, in a JVM of its own with the bench's class path. */
    Process benchMain(String logName, Class<?> main, List<String> args, List<String> jvmFlags) {
        List<String> cmd = new ArrayList<>();
        cmd.add(java);
        cmd.addAll(jvmFlags);
        cmd.add("-cp");
        cmd.add(System.getProperty("java.class.path"));
        cmd.add(main.getName());
        cmd.addAll(args);
        return start(logName, cmd, Map.of());
    }

    Process command(String logName, List<String> cmd, Map<String, String> env) {
        return start(logName, cmd, env);
    }

    Path log(String logName) {
        return logDirectory.resolve(logName + ".log");
    }

    private synchronized Process start(String logName, List<String> cmd, Map<String, String> env) {
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().putAll(env);
        pb.redirectErrorStream(true);
        pb.redirectOutput(log(logName).toFile());
        try {
            Process p = pb.start();
            started.add(p);
            return p;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + cmd, e);
        }
    }

    /** SIGTERM, then SIGKILL if it has not exited within {@code grace}. */
    static void stop(Process p, Duration grace) {
        if (!p.isAlive()) {
            return;
        }
        p.destroy();
        try {
            if (!p.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                kill(p);
            }
        } catch (InterruptedException e) {
            kill(p);
            Thread.currentThread().interrupt();
        }
    }

    /** SIGKILL, and wait until it is gone. */
    static void kill(Process p) {
        p.destroyForcibly();
        try {
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * SIGKILL to a process and everything below it (the peers harness: bash → timeout → node →
     * pgbench), by pid; the descendants are listed before anything is killed, since an orphan is
     * no longer a descendant.
     */
    static void killTree(Process p) {
        List<ProcessHandle> below = p.descendants().toList();
        p.destroyForcibly();
        below.forEach(ProcessHandle::destroyForcibly);
        try {
            p.waitFor(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    synchronized void killAll() {
        for (Process p : started) {
            if (p.isAlive()) {
                List<ProcessHandle> below = p.descendants().toList();
                p.destroyForcibly();
                below.forEach(ProcessHandle::destroyForcibly);
            }
        }
        for (Process p : started) {
            try {
                p.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        started.removeIf(p -> !p.isAlive());
    }

    @Override
    public void close() {
        killAll();
    }
}
