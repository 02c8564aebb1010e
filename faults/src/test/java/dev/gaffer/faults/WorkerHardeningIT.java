package dev.gaffer.faults;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Scenarios 11 to 13 (issue 13, items 1 to 3), with real worker processes: faults that once made
 * jobs that never really ran end up failed, or ran twice. A poison job in a claim batch; a second
 * live worker started under the first one's name; workers whose heartbeat timeouts differ.
 */
class WorkerHardeningIT {

    @Test
    void aPoisonJobInAClaimBatchFailsAloneAndTheRestOfTheBatchRunsOnce() {
        try (Cluster c = new Cluster("s11-poison-batch")) {
            // Written past the API, which refuses it: a timeout that overflows a long of nanoseconds.
            c.insertApproved(8, "{\"sleep_ms\": 100}", 3);
            long poison = c.longOf("SELECT min(id) + 3 FROM jobs");
            c.exec("UPDATE jobs SET parameters = '{\"timeout_ms\": 10000000000000}' WHERE id = ?", poison);
            Map<String, String> env = c.workerEnv("p1");
            env.put("GAFFER_CONCURRENCY", "8");
            GafferProc w = c.startWorker("p1", env);
            c.awaitAllTerminal(Duration.ofSeconds(60));

            Cluster.Invariants inv = c.invariants();
            long failMs = c.longOf("""
                    SELECT (extract(epoch FROM f.created_at - f.attempt_started_at) * 1000)::bigint
                      FROM job_history f
                     WHERE f.job_id = ? AND f.kind = 'failed'""", poison);
            new Summary("11-poison-batch")
                    .invariants(inv)
                    .put("batch", 8)
                    .put("poison_jobs", 1)
                    .put("poison_failed_ms_after_claim", failMs)
                    .put(
                            "innocent_failed",
                            c.longOf("SELECT count(*) FROM jobs WHERE status = 'failed' AND id <> ?", poison))
                    .write();
            assertThat(c.textOf("SELECT status FROM jobs WHERE id = ?", poison)).isEqualTo("failed");
            assertThat(c.longOf("SELECT attempt FROM jobs WHERE id = ?", poison))
                    .as("failed on its first claim")
                    .isEqualTo(1);
            assertThat(c.textOf("SELECT last_error FROM jobs WHERE id = ?", poison))
                    .contains("parameters.timeout_ms");
            assertThat(inv.completed()).isEqualTo(7);
            assertThat(inv.executions()).as("each innocent job ran once").isEqualTo(7);
            assertThat(inv.reclaims()).isZero();
            assertThat(c.longOf("SELECT count(*) FROM job_history WHERE attempt_started_at IS NOT NULL"))
                    .as("one attempt per job")
                    .isEqualTo(8);
            assertThat(w.alive()).isTrue();
        }
    }

    @Test
    void aSecondLiveWorkerWithTheSameNameLeavesTheFirstOnesJobsAlone() {
        try (Cluster c = new Cluster("s12-same-name")) {
            // A's leases last 30 s, so that only startup recovery (never the reclaimer) can free
            // them while this scenario runs.
            Map<String, String> envA = c.workerEnv("twin");
            envA.put("GAFFER_CONCURRENCY", "4");
            envA.put("GAFFER_HEARTBEAT_TIMEOUT", "30s");
            GafferProc a = c.worker("twin", envA).start();
            c.awaitRegistered(a);
            String aId = c.workerId(a);
            c.insertApproved(4, "{\"sleep_ms\": 4000}", 3);
            c.awaitUntil(
                    "A holds 4 jobs",
                    Duration.ofSeconds(20),
                    () -> c.longOf("SELECT count(*) FROM jobs WHERE status = 'processing' AND locked_by = ?", aId)
                            == 4);

            // B: the same name on the same host, as two workers left at the old default name were.
            Map<String, String> envB = c.workerEnv("twin");
            envB.put("GAFFER_CONCURRENCY", "4");
            GafferProc b = c.worker("twin-b", envB).start();
            c.awaitUntil(
                    "B registered",
                    Duration.ofSeconds(60),
                    () -> c.longOf("SELECT count(*) FROM workers WHERE name = 'twin'") == 2);
            String bId = c.textOf("SELECT id FROM workers WHERE name = 'twin' AND id <> ?", aId);
            c.awaitUntil(
                    "A's jobs done",
                    Duration.ofSeconds(30),
                    () -> c.longOf(
                                    "SELECT count(*) FROM jobs WHERE status = 'completed' AND result->>'worker' = ?",
                                    aId)
                            == 4);
            long reclaimedWhileTwinsLive = c.longOf("SELECT count(*) FROM job_history WHERE kind = 'reclaimed'");
            assertThat(b.logText()).contains("another worker named twin may still be running");

            // Now A dies holding jobs; a third process of the name frees them at once, and B's stay.
            c.insertApproved(8, "{\"sleep_ms\": 6000}", 3);
            c.awaitUntil(
                    "A and B hold 4 each",
                    Duration.ofSeconds(20),
                    () -> c.longOf("SELECT count(*) FROM jobs WHERE status = 'processing' AND locked_by = ?", aId) == 4
                            && c.longOf("SELECT count(*) FROM jobs WHERE status = 'processing' AND locked_by = ?", bId)
                                    == 4);
            a.kill();
            Object killedAt = c.valueOf("SELECT clock_timestamp()");
            GafferProc third = c.worker("twin-c", envA).start();
            c.awaitAllTerminal(Duration.ofSeconds(60));
            Cluster.Invariants inv = c.invariants();
            long recoveredMs = c.longOf("""
                    SELECT (extract(epoch FROM max(created_at) - ?::timestamptz) * 1000)::bigint
                      FROM job_history WHERE kind = 'reclaimed' AND worker_id = ?""", killedAt, aId);
            long bReclaimed =
                    c.longOf("SELECT count(*) FROM job_history WHERE kind = 'reclaimed' AND worker_id = ?", bId);
            new Summary("12-same-name")
                    .invariants(inv)
                    .put("reclaims_while_both_alive", reclaimedWhileTwinsLive)
                    .put("reclaims_of_the_live_twin", bReclaimed)
                    .put("dead_twin_jobs_freed_ms_after_kill", recoveredMs)
                    .write();
            assertThat(reclaimedWhileTwinsLive)
                    .as("jobs taken from a live worker")
                    .isZero();
            assertThat(bReclaimed).as("jobs taken from the live twin B").isZero();
            assertThat(c.longOf("""
                            SELECT count(*) FROM job_history WHERE kind = 'reclaimed' AND worker_id = ?
                               AND message LIKE '%was restarted%'""", aId))
                    .as("A's jobs freed by startup recovery")
                    .isEqualTo(4);
            assertThat(inv.lost()).isZero();
            assertThat(inv.completed()).isEqualTo(12);
            assertThat(inv.duplicateCompletions()).isZero();
            assertThat(inv.unexplainedExecutions()).isZero();
            assertThat(inv.extraExecutions())
                    .as("only A's killed attempts ran again")
                    .isEqualTo(4);
            assertThat(third.alive()).isTrue();
        }
    }

    @Test
    void workersWithDifferentHeartbeatTimeoutsLeaveEachOthersHealthyJobsAlone() {
        try (Cluster c = new Cluster("s13-mixed-timeouts")) {
            // B reclaims with a 1 s timeout of its own and runs no record jobs; A beats every 2 s
            // with a 10 s timeout. B once reclaimed A's jobs between two of A's beats.
            Map<String, String> envB = c.workerEnv("strict");
            envB.put("GAFFER_JOB_TYPES", "noop");
            envB.put("GAFFER_HEARTBEAT_INTERVAL", "250ms");
            envB.put("GAFFER_HEARTBEAT_TIMEOUT", "1s");
            envB.put("GAFFER_RECLAIM_INTERVAL", "250ms");
            c.startWorker("strict", envB);
            Map<String, String> envA = c.workerEnv("patient");
            envA.put("GAFFER_HEARTBEAT_INTERVAL", "2s");
            envA.put("GAFFER_HEARTBEAT_TIMEOUT", "10s");
            envA.put("GAFFER_MAINTENANCE", "false");
            GafferProc a = c.startWorker("patient", envA);
            String aId = c.workerId(a);
            c.insertApproved(4, "{\"sleep_ms\": 7000}", 3);
            c.awaitAllTerminal(Duration.ofSeconds(60));
            Cluster.Invariants inv = c.invariants();
            new Summary("13-mixed-timeouts")
                    .invariants(inv)
                    .put("holder_interval_ms", 2000)
                    .put("holder_timeout_ms", 10000)
                    .put("reclaimer_timeout_ms", 1000)
                    .put("job_ms", 7000)
                    .write();
            assertThat(inv.reclaims()).as("healthy jobs reclaimed").isZero();
            assertThat(inv.completed()).isEqualTo(4);
            assertThat(inv.extraExecutions()).isZero();
            assertThat(c.longOf("SELECT count(*) FROM jobs WHERE result->>'worker' = ? AND attempt = 1", aId))
                    .isEqualTo(4);
            assertThat(c.longOf("SELECT count(*) FROM scheduled_tasks WHERE task_name = 'gaffer-reclaim'"
                            + " AND last_success IS NOT NULL"))
                    .as("B's reclaimer ran")
                    .isEqualTo(1);
        }
    }
}
