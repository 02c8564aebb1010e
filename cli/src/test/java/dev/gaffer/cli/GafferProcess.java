package dev.gaffer.cli;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The built {@code gaffer} jar run as a real process, the way a person runs it. */
final class GafferProcess {

    static final Path JAR = Path.of("target", "gaffer.jar").toAbsolutePath();

    record Result(int exitCode, String out, String err) {}

    private GafferProcess() {}

    static ProcessBuilder builder(Map<String, String> env, String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-jar");
        cmd.add(JAR.toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        // Only what the test sets: no DATABASE_URL or GAFFER_* from the machine leaks in.
        pb.environment().keySet().removeIf(k -> k.startsWith("GAFFER_") || k.equals("DATABASE_URL"));
        pb.environment().putAll(env);
        return pb;
    }

    /** Runs a short command to its end (bounded) and returns its exit code and output. */
    static Result run(Map<String, String> env, Duration limit, String... args)
            throws IOException, InterruptedException {
        Path out = Files.createTempFile("gaffer-out", ".txt");
        Path err = Files.createTempFile("gaffer-err", ".txt");
        Process p = builder(env, args)
                .redirectOutput(out.toFile())
                .redirectError(err.toFile())
                .start();
        if (!p.waitFor(limit.toMillis(), TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("gaffer " + String.join(" ", args) + " did not finish within " + limit);
        }
        return new Result(
                p.exitValue(),
                Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /** Polls {@code url} until it answers 200, or fails after {@code limit}. */
    static void awaitReady(String url, Process process, Path log, Duration limit) throws Exception {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long deadline = System.nanoTime() + limit.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new AssertionError("gaffer exited with " + process.exitValue() + ":\n" + Files.readString(log));
            }
            try {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // still starting
            }
            Thread.sleep(200);
        }
        throw new AssertionError(url + " not ready within " + limit + ":\n" + Files.readString(log));
    }
}
