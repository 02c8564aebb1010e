package dev.gaffer.worker;

import static dev.gaffer.worker.TestSupport.approve;
import static dev.gaffer.worker.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.db.Database;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.NewJob;
import dev.gaffer.testing.TestPostgres;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ListenTest {

    /** Long enough that a pickup within the deadline below can only come from LISTEN or a re-LISTEN poll. */
    static final Duration SLOW_POLL = Duration.ofSeconds(60);

    static final Duration PICKUP = Duration.ofSeconds(15);

    @Test
    void pickupContinuesAndTheListenerComesBackAfterItsBackendIsTerminated() {
        try (Database db = TestPostgres.freshDatabase("listen")) {
            JobRequests requests = new JobRequests(db.dataSource());
            JobQueries queries = new JobQueries(db.dataSource());
            JobFixtures fixtures = new JobFixtures(db);
            WorkerConfig config = TestSupport.config("listener").withPolling(SLOW_POLL, true);
            try (Worker w = new Worker(config, db, HandlerRegistry.discover()).start()) {
                await("listening", () -> w.listener().isListening());
                // The first wake-up after start is a poll; wait until the loop sleeps on its poll interval.
                Job before = approve(requests, NewJob.of("noop", null));
                await("picked up via NOTIFY", PICKUP, () -> status(queries, before) == JobStatus.COMPLETED);

                int pid = w.listener().backendPid();
                assertThat(pid).isPositive();
                fixtures.exec("SELECT pg_terminate_backend(" + pid + ")");
                // A job approved while the listener may be down: its hint can be lost, so the
                // re-established listener must trigger a poll.
                Job during = approve(requests, NewJob.of("noop", null));

                await(
                        "listener reconnected",
                        () -> w.listener().connects() >= 2 && w.listener().isListening());
                assertThat(w.listener().backendPid()).isNotEqualTo(pid);
                await(
                        "job approved during the outage picked up",
                        PICKUP,
                        () -> status(queries, during) == JobStatus.COMPLETED);

                Job after = approve(requests, NewJob.of("noop", null));
                await("picked up via the new LISTEN", PICKUP, () -> status(queries, after) == JobStatus.COMPLETED);
            }
        }
    }

    @Test
    void anIdleWorkerPicksUpTheAnnouncedJobOnItsListenConnectionAndABusyOneLeavesItToItsClaims() {
        try (Database db = TestPostgres.freshDatabase("listen_pickup")) {
            JobRequests requests = new JobRequests(db.dataSource());
            JobQueries queries = new JobQueries(db.dataSource());
            WorkerConfig config = TestSupport.config("picker").withPolling(SLOW_POLL, true);
            try (Worker w = new Worker(config, db, HandlerRegistry.discover()).start()) {
                await("listening", () -> w.listener().isListening());
                // One at a time, each while the worker has nothing to do. The first may meet the
                // claim loop's round at start; the others can only be picked up.
                for (int i = 0; i < 3; i++) {
                    Job job = approve(requests, NewJob.of("noop", null));
                    await("noop " + i + " done", PICKUP, () -> status(queries, job) == JobStatus.COMPLETED);
                }
                assertThat(w.stats().pickedUp()).isBetween(2L, 3L);

                Job slow = approve(requests, NewJob.of("sleep", JobFixtures.params("ms", 3000)));
                await("sleep running", PICKUP, () -> status(queries, slow) == JobStatus.PROCESSING);
                long pickedUp = w.stats().pickedUp();
                long claimedByTheLoop = w.stats().claimed() - pickedUp;
                // Busy now: the hint wakes the claim loop, which claims in a round as usual.
                Job quick = approve(requests, NewJob.of("noop", null));
                await("noop done beside the sleep", PICKUP, () -> status(queries, quick) == JobStatus.COMPLETED);
                assertThat(status(queries, slow)).isEqualTo(JobStatus.PROCESSING);
                assertThat(w.stats().pickedUp()).isEqualTo(pickedUp);
                assertThat(w.stats().claimed() - w.stats().pickedUp()).isEqualTo(claimedByTheLoop + 1);
                await("sleep done", PICKUP, () -> status(queries, slow) == JobStatus.COMPLETED);
            }
        }
    }

    @Test
    void pollOnlyModeClaimsWithoutAListener() {
        try (Database db = TestPostgres.freshDatabase("poll_only")) {
            JobRequests requests = new JobRequests(db.dataSource());
            JobQueries queries = new JobQueries(db.dataSource());
            WorkerConfig config = TestSupport.config("poller").withPolling(Duration.ofMillis(100), false);
            try (Worker w = new Worker(config, db, HandlerRegistry.discover()).start()) {
                assertThat(w.listener()).isNull();
                Job job = approve(requests, NewJob.of("noop", null));
                await("picked up by polling", () -> status(queries, job) == JobStatus.COMPLETED);
            }
        }
    }

    @Test
    void theWorkerSurvivesAllItsDatabaseConnectionsBeingTerminated() {
        try (Database db = TestPostgres.freshDatabase("connections_killed", 2);
                Database pool = TestSupport.openAnother(db, 8)) {
            JobRequests requests = new JobRequests(db.dataSource());
            JobQueries queries = new JobQueries(db.dataSource());
            WorkerConfig config = TestSupport.config("survivor");
            try (Worker w = new Worker(config, pool, HandlerRegistry.discover()).start()) {
                Job first = approve(requests, NewJob.of("noop", null));
                await("first job done", () -> status(queries, first) == JobStatus.COMPLETED);
                int pid = w.listener().backendPid();
                long killed = new JobFixtures(db)
                        .count("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                                + " WHERE datname = current_database() AND pid <> pg_backend_pid()");
                assertThat(killed).isGreaterThanOrEqualTo(2);
                // The test's own pool lost its other connections too: read and write through a new one.
                try (Database fresh = TestSupport.openAnother(db, 2)) {
                    JobRequests againRequests = new JobRequests(fresh.dataSource());
                    JobQueries againQueries = new JobQueries(fresh.dataSource());
                    Job second = approve(againRequests, NewJob.of("sleep", JobFixtures.params("ms", 300)));
                    await(
                            "second job done after the outage",
                            () -> status(againQueries, second) == JobStatus.COMPLETED);
                    await(
                            "listener back",
                            () -> w.listener().isListening() && w.listener().backendPid() != pid);
                }
            }
        }
    }

    static JobStatus status(JobQueries queries, Job job) {
        return queries.find(job.id()).orElseThrow().status();
    }
}
