package dev.gaffer.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** Scenarios 4, 5, 6 and 7: the database side fails under a running cluster. */
class DatabaseFaultsIT {

    @Test
    void terminatingEveryWorkerBackendEachSecondLeavesNoJobProcessingPastTheTimeout() {
        try (Cluster c = new Cluster("s4-terminate-backends")) {
            List<GafferProc> workers = new ArrayList<>();
            for (int i = 1; i <= 3; i++) {
                workers.add(c.worker("t" + i, c.workerEnv("t" + i)).start());
            }
            workers.forEach(c::awaitRegistered);
            c.awaitUntil("three LISTEN connections", Duration.ofSeconds(20), () -> listeners(c) == 3);

            c.insertApproved(800, "{\"sleep_ms\": 150}", 20);
            long terminated = 0;
            long listenTerminated = 0;
            double maxLeaseAge = 0;
            for (int round = 0; round < 10; round++) {
                Cluster.sleep(Duration.ofSeconds(1));
                listenTerminated += c.longOf("""
                        SELECT count(*) FROM pg_stat_activity
                         WHERE datname = current_database() AND application_name = 'gaffer-worker-listen'""");
                terminated += c.longOf("""
                        SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                         WHERE datname = current_database() AND application_name LIKE 'gaffer-worker%'""");
                maxLeaseAge = Math.max(maxLeaseAge, leaseAge(c));
            }
            Object faultsEnded = c.valueOf("SELECT clock_timestamp()");
            c.awaitUntil("every worker LISTENs again", Duration.ofSeconds(20), () -> listeners(c) == 3);
            long listenBackMs = c.longOf("""
                    SELECT (extract(epoch FROM max(backend_start) - ?::timestamptz) * 1000)::bigint FROM pg_stat_activity
                     WHERE datname = current_database() AND application_name = 'gaffer-worker-listen'""", faultsEnded);
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (c.unfinished() > 0 && System.nanoTime() < deadline) {
                maxLeaseAge = Math.max(maxLeaseAge, leaseAge(c));
                Cluster.sleep(Duration.ofMillis(500));
            }
            c.awaitAllTerminal(Duration.ofSeconds(5));
            // Pickup works again through the recovered pools and listeners.
            c.insertApproved(20, "{}", 3);
            c.awaitAllTerminal(Duration.ofSeconds(15));

            Cluster.Invariants inv = c.invariants();
            new Summary("4-terminate-backends")
                    .invariants(inv)
                    .put("faults", terminated)
                    .put("listen_terminated", listenTerminated)
                    .put("max_lease_age_ms", Math.round(maxLeaseAge * 1000))
                    .put("listen_back_ms", listenBackMs)
                    .write();
            assertThat(terminated).as("backends terminated").isGreaterThan(30);
            assertThat(listenTerminated).as("LISTEN backends terminated").isGreaterThanOrEqualTo(10);
            assertThat(workers).allMatch(GafferProc::alive, "worker alive");
            assertThat(inv.lost()).isZero();
            assertThat(inv.completed()).isEqualTo(820);
            assertThat(inv.duplicateCompletions()).isZero();
            assertThat(inv.wrongResults()).isZero();
            assertThat(inv.unexplainedExecutions()).isZero();
            // Heartbeat timeout 3 s, reclaim every 0.5 s: no lease may stay older than that for long.
            assertThat(maxLeaseAge)
                    .as("oldest heartbeat of a processing job, s")
                    .isLessThan(Cluster.HEARTBEAT_TIMEOUT.toSeconds() + 3.0);
        }
    }

    private static long listeners(Cluster c) {
        return c.longOf("""
                SELECT count(*) FROM pg_stat_activity
                 WHERE datname = current_database() AND application_name = 'gaffer-worker-listen'""");
    }

    private static double leaseAge(Cluster c) {
        Object v = c.valueOf(
                "SELECT coalesce(max(extract(epoch FROM now() - heartbeat_at)), 0) FROM jobs WHERE status = 'processing'");
        return ((Number) v).doubleValue();
    }

    @Test
    void aPostgresRestartMidRunFinishesEveryJobAndTheApiAnswers503UntilItRecoversByItself() throws Exception {
        FaultPostgres pg = FaultPostgres.get();
        try (Cluster c = new Cluster("s5-postgres-restart")) {
            List<GafferProc> workers = new ArrayList<>();
            for (int i = 1; i <= 2; i++) {
                workers.add(c.worker("r" + i, c.workerEnv("r" + i)).start());
            }
            workers.forEach(c::awaitRegistered);
            Cluster.Api api = c.startApi(Map.of("GAFFER_DEV", "true", "GAFFER_AUTH", "false"));

            c.insertApproved(400, "{\"sleep_ms\": 100}", 20);
            c.awaitUntil(
                    "some jobs completed",
                    Duration.ofSeconds(20),
                    () -> c.longOf("SELECT count(*) FROM jobs WHERE status = 'completed'") >= 50);
            long firstId = c.longOf("SELECT min(id) FROM jobs");
            String jobUrl = api.base() + "/api/v3/jobs/" + firstId;

            Map<Integer, Integer> whileDown = new TreeMap<>();
            String problem = "";
            long slowest503 = 0;
            long downAt = System.nanoTime();
            long upAt;
            pg.stop();
            try {
                // The API must answer while its database is gone: a request waits at most the
                // pool's connection timeout, then gets a 503 problem.
                for (String url : List.of(jobUrl, jobUrl, api.base() + "/health/ready")) {
                    long t = System.nanoTime();
                    HttpResponse<String> r = Cluster.HTTP.send(
                            HttpRequest.newBuilder(URI.create(url))
                                    .timeout(Duration.ofSeconds(15))
                                    .build(),
                            HttpResponse.BodyHandlers.ofString());
                    slowest503 = Math.max(slowest503, (System.nanoTime() - t) / 1_000_000);
                    whileDown.merge(r.statusCode(), 1, Integer::sum);
                    if (url.equals(jobUrl)) {
                        problem = r.headers().firstValue("Content-Type").orElse("") + " " + r.body();
                    }
                }
            } finally {
                pg.start();
                upAt = System.nanoTime();
            }
            c.awaitUntil("the API answers 200 again", Duration.ofSeconds(30), () -> Cluster.httpStatus(jobUrl) == 200);
            long apiBackMs = (System.nanoTime() - upAt) / 1_000_000;
            Object restartedAt = c.valueOf("SELECT pg_postmaster_start_time()");
            c.awaitUntil(
                    "a job completed after the restart",
                    Duration.ofSeconds(30),
                    () -> c.longOf("SELECT count(*) FROM jobs WHERE finished_at > ?::timestamptz", restartedAt) > 0);
            long firstCompletionMs = c.longOf(
                    "SELECT (extract(epoch FROM min(finished_at) - ?::timestamptz) * 1000)::bigint FROM jobs WHERE finished_at > ?::timestamptz",
                    restartedAt,
                    restartedAt);
            c.awaitAllTerminal(Duration.ofSeconds(90));

            Cluster.Invariants inv = c.invariants();
            new Summary("5-postgres-restart")
                    .invariants(inv)
                    .put("faults", 1)
                    .put("down_ms", (upAt - downAt) / 1_000_000)
                    .put("api_statuses_while_down", whileDown.toString().replace(" ", ""))
                    .put("slowest_503_ms", slowest503)
                    .put("api_back_ms", apiBackMs)
                    .put("first_completion_after_restart_ms", firstCompletionMs)
                    .write();
            assertThat(whileDown.keySet())
                    .as("API statuses while PostgreSQL was down")
                    .containsOnly(503);
            assertThat(problem).contains("application/problem+json").contains("database");
            assertThat(workers).allMatch(GafferProc::alive, "worker alive");
            assertThat(api.process().alive()).isTrue();
            assertThat(inv.lost()).isZero();
            assertThat(inv.completed() + inv.failed()).isEqualTo(400);
            assertThat(inv.duplicateCompletions()).isZero();
            assertThat(inv.wrongResults()).isZero();
            assertThat(inv.unexplainedExecutions()).isZero();
        } finally {
            pg.start();
        }
    }

    @Test
    void aHalfOpenListenConnectionIsReplacedAndPickupNeverStops() throws Exception {
        try (Cluster c = new Cluster("s6-half-open-listen");
                TcpProxy proxy = new TcpProxy(FaultPostgres.get().port())) {
            Map<String, String> env = c.workerEnv("p1");
            env.put("DATABASE_URL", "postgres://postgres@127.0.0.1:" + proxy.port() + "/" + c.database);
            env.put("GAFFER_POLL_INTERVAL", "2s");
            GafferProc w = c.startWorker("p1", env);
            c.awaitUntil("a LISTEN connection", Duration.ofSeconds(20), () -> listeners(c) == 1);
            int clientPort = (int) c.longOf("""
                    SELECT client_port FROM pg_stat_activity
                     WHERE datname = current_database() AND application_name = 'gaffer-worker-listen'""");
            // Pickup before the fault, through LISTEN: a few jobs one at a time.
            c.exec("CREATE TABLE pickups (job_id bigint, phase text)");
            feed(c, "before", 5, Duration.ofMillis(300));

            Object frozenAt = c.valueOf("SELECT clock_timestamp()");
            assertThat(proxy.freeze(clientPort))
                    .as("the LISTEN connection is proxied")
                    .isTrue();
            feed(c, "during", 25, Duration.ofMillis(300));
            c.awaitUntil("a new LISTEN connection", Duration.ofSeconds(20), () -> c.longOf("""
                                    SELECT count(*) FROM pg_stat_activity
                                     WHERE datname = current_database() AND application_name = 'gaffer-worker-listen'
                                       AND backend_start > ?::timestamptz""", frozenAt) == 1);
            long replacedMs = c.longOf("""
                    SELECT (extract(epoch FROM backend_start - ?::timestamptz) * 1000)::bigint FROM pg_stat_activity
                     WHERE datname = current_database() AND application_name = 'gaffer-worker-listen'
                       AND backend_start > ?::timestamptz""", frozenAt, frozenAt);
            Cluster.sleep(Duration.ofMillis(500));
            feed(c, "after", 10, Duration.ofMillis(300));
            c.awaitAllTerminal(Duration.ofSeconds(15));

            Map<String, Long> maxLatency = new TreeMap<>();
            for (var row : c.rows("""
                    SELECT p.phase, max((extract(epoch FROM j.started_at - j.created_at) * 1000))::bigint AS ms
                      FROM pickups p JOIN jobs j ON j.id = p.job_id
                     GROUP BY p.phase""")) {
                maxLatency.put((String) row.get("phase"), ((Number) row.get("ms")).longValue());
            }
            Cluster.Invariants inv = c.invariants();
            new Summary("6-half-open-listen")
                    .invariants(inv)
                    .put("faults", 1)
                    .put("listen_replaced_ms", replacedMs)
                    .put("max_pickup_ms_before", maxLatency.get("before"))
                    .put("max_pickup_ms_during", maxLatency.get("during"))
                    .put("max_pickup_ms_after", maxLatency.get("after"))
                    .write();
            assertThat(w.alive()).isTrue();
            assertThat(replacedMs)
                    .as("ms until the half-open LISTEN connection was replaced")
                    .isLessThan(5_000);
            assertThat(maxLatency.get("during"))
                    .as("pickup while LISTEN is half-open (polling every 2 s)")
                    .isLessThan(4_000);
            assertThat(maxLatency.get("after"))
                    .as("pickup through the new LISTEN connection")
                    .isLessThan(1_500);
            assertThat(inv.lost()).isZero();
            assertThat(inv.completed()).isEqualTo(40);
            assertThat(inv.duplicateCompletions()).isZero();
        }
    }

    /** Creates {@code n} jobs one at a time, each with a NOTIFY, recording the phase. */
    private static void feed(Cluster c, String phase, int n, Duration gap) {
        for (int i = 0; i < n; i++) {
            c.exec("""
                    WITH j AS (
                        INSERT INTO jobs (type, parameters, status, approved_by, approved_at)
                        VALUES ('record', '{}', 'approved', 'faults', now()) RETURNING id)
                    INSERT INTO pickups SELECT id, ? FROM j""", phase);
            c.exec("SELECT pg_notify('gaffer_jobs', '{\"event\":\"approved\",\"queue\":\"default\"}')");
            Cluster.sleep(gap);
        }
    }

    @Test
    void anIdleInTransactionSessionHoldingTheXminHorizonSlowsTheChurnWhichRecoversAfterwards() throws Exception {
        try (Cluster c = new Cluster("s7-xmin-horizon")) {
            List<GafferProc> workers = new ArrayList<>();
            for (int i = 1; i <= 4; i++) {
                Map<String, String> env = c.workerEnv("x" + i);
                env.put("GAFFER_CONCURRENCY", "16");
                workers.add(c.worker("x" + i, env).start());
            }
            workers.forEach(c::awaitRegistered);

            // A churn that never runs dry: the backlog is topped up whenever it falls below
            // 3 000, so each window below measures what the workers can do, not what was left.
            long inserted = 0;
            Object holdStart = null;
            Object holdEnd = null;
            long t0 = System.nanoTime();
            try (Connection holder = c.connect();
                    Statement st = holder.createStatement()) {
                holder.setAutoCommit(false);
                while (true) {
                    long elapsedMs = (System.nanoTime() - t0) / 1_000_000;
                    if (elapsedMs >= 14_000) {
                        break;
                    }
                    if (holdStart == null && elapsedMs >= 5_000) {
                        st.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
                        st.execute("SELECT count(*) FROM jobs"); // takes the snapshot: xmin is held
                        holdStart = c.valueOf("SELECT clock_timestamp()");
                    }
                    if (holdStart != null && holdEnd == null && elapsedMs >= 11_000) {
                        holdEnd = c.valueOf("SELECT clock_timestamp()");
                        holder.rollback(); // the idle transaction ends; the horizon moves on
                    }
                    if (c.unfinished() < 3000) {
                        c.insertApproved(2000, "{}", 3);
                        inserted += 2000;
                    }
                    Cluster.sleep(Duration.ofMillis(200));
                }
            }
            c.awaitAllTerminal(Duration.ofSeconds(90));

            double before = rate(c, "?::timestamptz - interval '2 seconds'", "?::timestamptz", holdStart, holdStart);
            double during = rate(c, "?::timestamptz", "?::timestamptz", holdStart, holdEnd);
            double after = rate(c, "?::timestamptz", "?::timestamptz + interval '2 seconds'", holdEnd, holdEnd);
            Cluster.Invariants inv = c.invariants();
            new Summary("7-xmin-horizon")
                    .invariants(inv)
                    .put("faults", 1)
                    .put("jobs_per_s_before", Math.round(before))
                    .put("jobs_per_s_during", Math.round(during))
                    .put("jobs_per_s_after", Math.round(after))
                    .put("hold_s", 6)
                    .write();
            assertThat(after).as("jobs/s after the hold vs before").isGreaterThan(before * 0.5);
            assertThat(inv.lost()).isZero();
            assertThat(inv.completed()).isEqualTo(inserted);
            assertThat(inv.duplicateCompletions()).isZero();
            assertThat(inv.extraExecutions()).isZero();
        }
    }

    private static double rate(Cluster c, String from, String to, Object a, Object b) {
        return ((Number) c.valueOf("""
                                SELECT count(*) / extract(epoch FROM (%2$s) - (%1$s)) FROM jobs
                                 WHERE finished_at >= %1$s AND finished_at < %2$s""".formatted(from, to), b, a, a, b)).doubleValue();
    }
}
