package dev.gaffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's run command, for real: {@code gaffer dev} as a process on an embedded PostgreSQL,
 * driven by {@code gaffer jobs} processes, stopped with SIGTERM, restarted on the same data.
 */
class GafferDevIT {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Duration COMMAND_LIMIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void devRunsAJobThroughTheCliStopsCleanlyAndKeepsItsDataAcrossRestarts() throws Exception {
        int port = GafferProcess.freePort();
        String url = "http://127.0.0.1:" + port;
        Map<String, String> cli = Map.of("GAFFER_URL", url);
        Path data = dir.resolve("pg");

        Process dev = startDev(port, data, false);
        long id;
        try {
            var created = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "create", "sleep", "-p", "ms=1500", "--json");
            assertThat(created.exitCode()).as(created.err()).isZero();
            JsonNode job = JSON.readTree(created.out());
            id = job.get("job_id").asLong();
            assertThat(job.get("status").asText()).isEqualTo("pending");

            var approved = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "approve", String.valueOf(id));
            assertThat(approved.exitCode()).as(approved.err()).isZero();
            assertThat(approved.out()).contains("Job approved successfully");

            var again = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "approve", String.valueOf(id));
            assertThat(again.exitCode()).isEqualTo(1);
            assertThat(again.err()).contains("HTTP 422");

            var watched = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "watch", String.valueOf(id));
            assertThat(watched.exitCode()).as(watched.out() + watched.err()).isZero();
            assertThat(watched.out()).contains("100%").contains("completed");

            var shown = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "show", String.valueOf(id), "--json");
            assertThat(JSON.readTree(shown.out()).get("status").asText()).isEqualTo("completed");

            var listed = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "list", "--status", "completed");
            assertThat(listed.exitCode()).isZero();
            assertThat(listed.out()).containsPattern("(?m)^" + id + "\\s+sleep\\s+completed\\s+100%");

            var bad = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "create", "no-such-type");
            assertThat(bad.exitCode()).isEqualTo(1);
            assertThat(bad.err()).contains("HTTP 422").contains("type");

            var cancelDone = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "cancel", String.valueOf(id));
            assertThat(cancelDone.exitCode()).isEqualTo(1);
            assertThat(cancelDone.err()).contains("HTTP 422");
        } finally {
            stop(dev);
        }
        assertThat(dev.exitValue()).isZero();
        assertThat(Files.readString(dir.resolve("dev.log"))).contains("stopped");

        var unreachable = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "show", String.valueOf(id));
        assertThat(unreachable.exitCode()).isEqualTo(1);
        assertThat(unreachable.err()).contains("cannot reach the API");

        Process again = startDev(port, data, false);
        try {
            var kept = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "show", String.valueOf(id), "--json");
            assertThat(kept.exitCode()).as(kept.err()).isZero();
            assertThat(JSON.readTree(kept.out()).get("status").asText()).isEqualTo("completed");
        } finally {
            stop(again);
        }

        Process fresh = startDev(port, data, true);
        try {
            var gone = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "show", String.valueOf(id));
            assertThat(gone.exitCode()).isEqualTo(1);
            assertThat(gone.err()).contains("HTTP 404");
        } finally {
            stop(fresh);
        }
    }

    private Process startDev(int port, Path data, boolean fresh) throws Exception {
        Path log = dir.resolve("dev.log");
        var args = fresh
                ? new String[] {"dev", "--port", String.valueOf(port), "--data-dir", data.toString(), "--fresh"}
                : new String[] {"dev", "--port", String.valueOf(port), "--data-dir", data.toString()};
        Process p = GafferProcess.builder(Map.of(), args)
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        GafferProcess.awaitReady("http://127.0.0.1:" + port + "/health/ready", p, log, Duration.ofSeconds(90));
        return p;
    }

    /** SIGTERM, as Ctrl-C or a container stop would send; it must be done within a bounded time. */
    private static void stop(Process p) throws InterruptedException {
        p.destroy();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("gaffer dev did not stop within 30 s of SIGTERM");
        }
    }
}
