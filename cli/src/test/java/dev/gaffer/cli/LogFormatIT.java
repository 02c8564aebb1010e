package dev.gaffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Logs are plain text by default and one JSON object per line with GAFFER_LOG_FORMAT=json. */
class LogFormatIT {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void jsonLogsAreOneObjectPerLine() throws Exception {
        List<String> lines = waitingWorkerLog(Map.of("GAFFER_LOG_FORMAT", "json"));
        JsonNode warning = null;
        for (String line : lines) {
            JsonNode n = JSON.readTree(line); // every line is JSON
            if (n.path("formattedMessage").asText().contains("database not reachable")) {
                warning = n;
            }
        }
        assertThat(warning)
                .as("a JSON line about the unreachable database in %s", lines)
                .isNotNull();
        assertThat(warning.get("level").asText()).isEqualTo("WARN");
        assertThat(warning.get("loggerName").asText()).contains("WorkerCommand");
    }

    @Test
    void plainLogsByDefault() throws Exception {
        List<String> lines = waitingWorkerLog(Map.of());
        assertThat(lines).anySatisfy(l -> assertThat(l).contains(" WARN ").contains("database not reachable"));
        assertThat(lines).noneSatisfy(l -> assertThat(l).startsWith("{"));
    }

    /** A worker whose database is not there yet logs that it waits; SIGTERM ends it with 0. */
    private List<String> waitingWorkerLog(Map<String, String> env) throws Exception {
        Path log = dir.resolve("worker.log");
        Map<String, String> all = new java.util.HashMap<>(env);
        all.put("DATABASE_URL", "postgres://nobody@127.0.0.1:" + GafferProcess.freePort() + "/none");
        all.put("GAFFER_JOB_TYPES", "noop");
        Process p = GafferProcess.builder(all, "worker")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!Files.readString(log).contains("database not reachable")) {
                if (!p.isAlive() || System.nanoTime() > deadline) {
                    throw new AssertionError("no waiting message; log:\n" + Files.readString(log));
                }
                Thread.sleep(100);
            }
        } finally {
            p.destroy();
            if (!p.waitFor(30, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError("the worker did not stop on SIGTERM");
            }
        }
        assertThat(p.exitValue()).isZero();
        return Files.readAllLines(log).stream().filter(l -> !l.isBlank()).toList();
    }
}
