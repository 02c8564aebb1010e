package dev.gaffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseConfig;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.testing.TestPostgres;
import java.net.InetAddress;
import java.net.ServerSocket;
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

            // Review beyond one yes: changes requested, the storyboard revised, then rejected.
            var other = JSON.readTree(GafferProcess.run(
                                    cli, COMMAND_LIMIT, "jobs", "create", "noop", "--storyboard", "{\"v\":1}", "--json")
                            .out())
                    .get("job_id")
                    .asText();
            var asked = GafferProcess.run(
                    cli, COMMAND_LIMIT, "jobs", "request-changes", other, "--comment", "make it v2", "--revision", "1");
            assertThat(asked.exitCode()).as(asked.err()).isZero();
            var stale = GafferProcess.run(
                    cli, COMMAND_LIMIT, "jobs", "revise", other, "--storyboard", "{\"v\":2}", "--revision", "5");
            assertThat(stale.exitCode()).isEqualTo(1);
            assertThat(stale.err()).contains("HTTP 412");
            var revised = GafferProcess.run(
                    cli, COMMAND_LIMIT, "jobs", "revise", other, "--storyboard", "{\"v\":2}", "--revision", "1");
            assertThat(revised.exitCode()).as(revised.err()).isZero();
            assertThat(revised.out()).contains("revision 2");
            var noReason = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "reject", other);
            assertThat(noReason.exitCode()).isNotZero();
            var rejected = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "reject", other, "--reason", "not needed");
            assertThat(rejected.exitCode()).as(rejected.err()).isZero();
            assertThat(rejected.out()).contains("rejected");
            var policy = GafferProcess.run(
                    cli, COMMAND_LIMIT, "reviews", "policy", "noop", "--four-eyes", "--expires-after", "7d");
            assertThat(policy.exitCode()).as(policy.err()).isZero();
            assertThat(policy.out()).contains("noop: role approve, four eyes, expires after 7d");
            var policies = GafferProcess.run(cli, COMMAND_LIMIT, "reviews", "policy");
            assertThat(policies.out()).contains("noop: role approve, four eyes");
            var badPolicy = GafferProcess.run(cli, COMMAND_LIMIT, "reviews", "policy", "noop", "--role", "read");
            assertThat(badPolicy.exitCode()).isEqualTo(1);
            assertThat(badPolicy.err()).contains("HTTP 422").contains("required_role");
            assertThat(GafferProcess.run(cli, COMMAND_LIMIT, "reviews", "policy", "noop", "--delete")
                            .exitCode())
                    .isZero();
            // Gates: a policy for the video's scenes gate; a decision on a gate that is not open.
            var gatePolicy = GafferProcess.run(
                    cli, COMMAND_LIMIT, "reviews", "policy", "video", "--gate", "scenes", "--quorum", "2");
            assertThat(gatePolicy.exitCode()).as(gatePolicy.err()).isZero();
            assertThat(gatePolicy.out()).contains("video at gate scenes: role approve, quorum 2");
            var escalating = GafferProcess.run(
                    cli,
                    COMMAND_LIMIT,
                    "reviews",
                    "policy",
                    "video",
                    "--gate",
                    "scenes",
                    "--expires-after",
                    "2h",
                    "--on-expiry",
                    "escalate");
            assertThat(escalating.exitCode()).as(escalating.err()).isZero();
            assertThat(escalating.out()).contains("video at gate scenes: role approve, escalates after 2h");
            var undeclared = GafferProcess.run(cli, COMMAND_LIMIT, "reviews", "policy", "video", "--gate", "stitch");
            assertThat(undeclared.exitCode()).isEqualTo(1);
            assertThat(undeclared.err()).contains("HTTP 422").contains("plan, scenes");
            var planned = JSON.readTree(GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "create", "noop", "--json")
                            .out())
                    .get("job_id")
                    .asText();
            var notOpen = GafferProcess.run(cli, COMMAND_LIMIT, "jobs", "approve", planned, "--gate", "scenes");
            assertThat(notOpen.exitCode()).isEqualTo(1);
            assertThat(notOpen.err()).contains("HTTP 422").contains("'plan'");
            var exported =
                    GafferProcess.run(cli, COMMAND_LIMIT, "reviews", "export", "--format", "csv", "--job", other);
            assertThat(exported.exitCode()).as(exported.err()).isZero();
            assertThat(exported.out().split("\r\n"))
                    .hasSize(3)
                    .satisfies(lines ->
                            assertThat(lines[1]).contains("changes_requested").contains("make it v2"))
                    .satisfies(
                            lines -> assertThat(lines[2]).contains("rejected").contains("not needed"));
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

    @Test
    void aBusyPortIsReportedBeforeAnythingStarts() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            var r = GafferProcess.run(
                    Map.of(),
                    COMMAND_LIMIT,
                    "dev",
                    "--port",
                    String.valueOf(taken.getLocalPort()),
                    "--data-dir",
                    dir.resolve("never").toString());
            assertThat(r.exitCode()).isEqualTo(2);
            assertThat(r.err()).contains("port " + taken.getLocalPort()).contains("already in use");
            assertThat(r.out()).doesNotContain("embedded PostgreSQL");
            assertThat(dir.resolve("never")).doesNotExist();
        }
    }

    @Test
    void stoppingDevStopsEveryWorkerClaimingAtOnceSoNoReleasedJobRunsAgain() throws Exception {
        String database = TestPostgres.newEmptyDatabase("dev_stop");
        int port = GafferProcess.freePort();
        Path log = dir.resolve("dev-stop.log");
        Process dev = GafferProcess.builder(
                        Map.of("DATABASE_URL", TestPostgres.postgresUrl(database), "GAFFER_SHUTDOWN_GRACE", "1s"),
                        "dev",
                        "--port",
                        String.valueOf(port),
                        "--workers",
                        "2",
                        "--concurrency",
                        "2")
                .directory(dir.toFile())
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try (Database db = Database.open(DatabaseConfig.of(TestPostgres.url(database), "dev-stop-test"))) {
            JobFixtures fx = new JobFixtures(db);
            try {
                GafferProcess.awaitReady(
                        "http://127.0.0.1:" + port + "/health/ready", dev, log, Duration.ofSeconds(90));
                // The CLI started in the same directory finds this dev through .gaffer/url.
                assertThat(Files.readString(dir.resolve(".gaffer").resolve("url"))
                                .strip())
                        .isEqualTo("http://127.0.0.1:" + port);
                Process listed = GafferProcess.builder(Map.of(), "jobs", "list")
                        .directory(dir.toFile())
                        .redirectErrorStream(true)
                        .start();
                assertThat(listed.waitFor(60, TimeUnit.SECONDS)).isTrue();
                assertThat(listed.exitValue())
                        .as(new String(listed.getInputStream().readAllBytes()))
                        .isZero();

                // Four long jobs on two workers of two slots each: every slot is busy.
                fx.exec("INSERT INTO jobs (type, parameters, status, approved_by, approved_at)"
                        + " SELECT 'sleep', '{\"ms\": 60000}', 'approved', 'test', now() FROM generate_series(1, 4)");
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (fx.count("SELECT count(*) FROM jobs WHERE status = 'processing'") < 4) {
                    assertThat(System.nanoTime() - deadline)
                            .as("4 jobs running in time")
                            .isNegative();
                    Thread.sleep(100);
                }
            } finally {
                stop(dev);
            }
            assertThat(dev.exitValue()).isZero();
            // Each job was claimed once and given back once: none was claimed again by the other
            // worker while the first one drained.
            assertThat(fx.count("SELECT count(*) FROM job_history WHERE attempt_started_at IS NOT NULL"))
                    .isEqualTo(4);
            assertThat(fx.count("SELECT count(*) FROM job_history WHERE kind = 'released'"))
                    .isEqualTo(4);
            assertThat(fx.count("SELECT count(*) FROM jobs WHERE status = 'approved' AND attempt = 0"))
                    .isEqualTo(4);
            // They drained side by side: both had begun before either one was done.
            String text = Files.readString(log);
            assertThat(text.lastIndexOf("shutting down")).isLessThan(text.indexOf("stopped; released"));
            assertThat(dir.resolve(".gaffer").resolve("url"))
                    .as("forgotten at the stop")
                    .doesNotExist();
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
