package dev.gaffer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.db.Database;
import dev.gaffer.db.WorkerStore;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.JobStore;
import dev.gaffer.job.NewJob;
import dev.gaffer.job.SubJob;
import dev.gaffer.testing.TestPostgres;
import dev.gaffer.worker.maintenance.Pruner;
import dev.gaffer.worker.maintenance.WorkerExpiry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class MaintenanceTest {

    static Database db;
    static JobStore store;
    static JobFixtures fixtures;

    @BeforeAll
    static void setUp() {
        db = TestPostgres.freshDatabase("maintenance");
        store = new JobStore(db.dataSource());
        fixtures = new JobFixtures(db);
    }

    @AfterAll
    static void tearDown() {
        db.close();
    }

    @Test
    void thePrunerDeletesFinishedJobsOlderThanTheRetentionWithTheirSubJobsAndEvents() {
        Job old = fixtures.processing("noop", "p/00000001");
        store.waitForSubJobs(old.lease(), List.of(SubJob.of("noop", null)), "fan", "done");
        Job child = store.subJobs(old.id()).getFirst();
        Job childRun =
                store.claim("p/00000001", List.of("default"), 1, List.of()).getFirst();
        assertThat(childRun.id()).isEqualTo(child.id());
        store.complete(childRun.lease(), null);
        Job resumed =
                store.claim("p/00000001", List.of("default"), 1, List.of()).getFirst();
        store.complete(resumed.lease(), null);
        Job recent = fixtures.processing("noop", "p/00000001");
        store.complete(recent.lease(), null);
        Job unfinished = fixtures.approved("noop");
        fixtures.exec("UPDATE jobs SET finished_at = now() - interval '8 days' WHERE id IN (" + old.id() + ", "
                + child.id() + ")");

        int pruned = new Pruner(store, Pruner.Config.of(Duration.ofDays(7))).runOnce();

        assertThat(pruned).isEqualTo(1);
        assertThat(store.find(old.id())).isEmpty();
        assertThat(store.find(child.id())).isEmpty();
        assertThat(fixtures.count(
                        "SELECT count(*) FROM job_events WHERE job_id IN (" + old.id() + ", " + child.id() + ")"))
                .isZero();
        assertThat(store.find(recent.id())).isPresent();
        assertThat(store.find(unfinished.id())).isPresent();
        store.cancel(unfinished.id(), "tester");
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
        fixtures.exec("UPDATE workers SET last_seen_at = now() - interval '5 minutes' WHERE id = 'quiet/1'");

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
        try (Worker w = new Worker(TestSupport.config("registry"), db, HandlerRegistry.discover())) {
            w.start();
            WorkerStore workers = new WorkerStore(db.dataSource());
            fixtures.exec("DELETE FROM workers WHERE id = '" + w.id() + "'");
            w.heartbeatOnce();
            WorkerStore.WorkerRow row = workers.find(w.id()).orElseThrow();
            assertThat(row.name()).isEqualTo("registry");
            assertThat(row.running()).isZero();
            Job job = TestSupport.approve(store, NewJob.of("noop", null));
            TestSupport.await(
                    "done", () -> store.find(job.id()).orElseThrow().status().isTerminal());
        }
    }
}
