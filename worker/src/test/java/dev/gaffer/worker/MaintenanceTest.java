package dev.gaffer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.db.WorkerStore;
import dev.gaffer.job.Job;
import dev.gaffer.job.NewJob;
import dev.gaffer.job.ReviewTrail;
import dev.gaffer.job.SubJob;
import dev.gaffer.testing.TestDatabase;
import dev.gaffer.worker.maintenance.Pruner;
import dev.gaffer.worker.maintenance.WorkerExpiry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class MaintenanceTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("maintenance");

    @Test
    void thePrunerDeletesFinishedJobsOlderThanTheRetentionWithTheirSubJobsAndEvents() {
        Job old = db.fixtures().processing("noop", "p/00000001");
        db.outcomes().waitForSubJobs(old.lease(), List.of(SubJob.of("noop", null)), "fan", "done");
        Job child = db.queries().subJobs(old.id()).getFirst();
        Job childRun = db.leases()
                .claim("p/00000001", List.of("default"), 1, List.of())
                .getFirst();
        assertThat(childRun.id()).isEqualTo(child.id());
        db.outcomes().complete(childRun.lease(), null);
        Job resumed = db.leases()
                .claim("p/00000001", List.of("default"), 1, List.of())
                .getFirst();
        db.outcomes().complete(resumed.lease(), null);
        Job recent = db.fixtures().processing("noop", "p/00000001");
        db.outcomes().complete(recent.lease(), null);
        Job unfinished = db.fixtures().approved("noop");
        db.fixtures()
                .exec("UPDATE jobs SET finished_at = now() - interval '8 days' WHERE id IN (" + old.id() + ", "
                        + child.id() + ")");

        int pruned = new Pruner(
                        db.reclaims(),
                        new ReviewTrail(db.dataSource()),
                        Pruner.Config.of(Duration.ofDays(7), Duration.ofDays(400)))
                .runOnce();

        assertThat(pruned).isEqualTo(1);
        assertThat(db.queries().find(old.id())).isEmpty();
        assertThat(db.queries().find(child.id())).isEmpty();
        assertThat(db.fixtures()
                        .count("SELECT count(*) FROM job_history WHERE job_id IN (" + old.id() + ", " + child.id()
                                + ")"))
                .isZero();
        assertThat(db.queries().find(recent.id())).isPresent();
        assertThat(db.queries().find(unfinished.id())).isPresent();
        db.requests().cancel(unfinished.id(), "tester");
    }

    @Test
    void workerExpiryDeletesWorkersThatStoppedReporting() {
        WorkerStore workers = new WorkerStore(db.dataSource());
        workers.register(
                new WorkerStore.Registration("quiet/1", "quiet", "h", 1, List.of("default"), 4, Duration.ofSeconds(15)),
                0);
        workers.register(
                new WorkerStore.Registration("alive/1", "alive", "h", 2, List.of("default"), 4, Duration.ofSeconds(15)),
                3);
        db.fixtures().exec("UPDATE workers SET last_seen_at = now() - interval '5 minutes' WHERE id = 'quiet/1'");

        int expired = new WorkerExpiry(workers, new WorkerExpiry.Config(Duration.ofMinutes(1))).runOnce();

        assertThat(expired).isEqualTo(1);
        assertThat(workers.list())
                .extracting(WorkerStore.WorkerRow::id)
                .contains("alive/1")
                .doesNotContain("quiet/1");
        assertThat(workers.find("alive/1").orElseThrow().running()).isEqualTo(3);
        workers.deregister("alive/1");
    }

    @Test
    void theHeartbeatKeepsTheWorkersRowCurrentAndReRegistersAfterExpiry() {
        try (Worker w = new Worker(TestSupport.config("registry"), db.database(), HandlerRegistry.discover())) {
            w.start();
            WorkerStore workers = new WorkerStore(db.dataSource());
            db.fixtures().exec("DELETE FROM workers WHERE id = '" + w.id() + "'");
            w.heartbeatOnce();
            WorkerStore.WorkerRow row = workers.find(w.id()).orElseThrow();
            assertThat(row.name()).isEqualTo("registry");
            assertThat(row.running()).isZero();
            Job job = TestSupport.approve(db.requests(), NewJob.of("noop", null));
            TestSupport.await(
                    "done",
                    () -> db.queries().find(job.id()).orElseThrow().status().isTerminal());
        }
    }
}
