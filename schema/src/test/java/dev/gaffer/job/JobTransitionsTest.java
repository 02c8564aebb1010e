package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.json;
import static dev.gaffer.job.JobFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.db.Database;
import dev.gaffer.job.Results.AlreadyExists;
import dev.gaffer.job.Results.Created;
import dev.gaffer.job.Results.IdempotencyConflict;
import dev.gaffer.job.Results.LeaseLost;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.NotFound;
import dev.gaffer.job.Results.SpawnLeaseLost;
import dev.gaffer.job.Results.Spawned;
import dev.gaffer.job.Results.Written;
import dev.gaffer.job.Results.WrongState;
import dev.gaffer.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/** Every job transition (JobRequests, LeaseStore, OutcomeStore, ReclaimStore) on a real PostgreSQL, one behaviour per test. */
class JobTransitionsTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("transitions");

    @BeforeEach
    void emptyQueue() {
        // Claims in one test must not pick up another test's leftovers.
        db.fixtures().cancelUnfinished();
    }

    @Nested
    class Create {
        @Test
        void insertsAPendingJobWithACreatedEvent() {
            var r = db.requests()
                    .create(NewJob.of("video", params("scenes", 3))
                            .withStoryboard(json("{\"scenes\":[1,2,3]}"))
                            .withCreatedBy("alice"));
            assertThat(r).isInstanceOf(Created.class);
            Job job = r.job();
            assertThat(job.status()).isEqualTo(JobStatus.PENDING);
            assertThat(job.parameters()).isEqualTo(params("scenes", 3));
            assertThat(job.storyboard()).isEqualTo(json("{\"scenes\":[1,2,3]}"));
            assertThat(job.attempt()).isZero();
            assertThat(job.queue()).isEqualTo("default");
            assertThat(db.fixtures().eventKinds(job.id())).containsExactly("created");
        }

        @Test
        void sameIdempotencyKeyReturnsTheSameJob() {
            NewJob req = NewJob.of("noop", params("a", 1)).withIdempotencyKey("key-1");
            Job first = db.requests().create(req).job();
            var again = db.requests().create(req);
            assertThat(again).isInstanceOf(AlreadyExists.class);
            assertThat(again.job().id()).isEqualTo(first.id());
            assertThat(db.fixtures().count("SELECT count(*) FROM jobs WHERE idempotency_key = 'key-1'"))
                    .isEqualTo(1);
        }

        @Test
        void sameIdempotencyKeyWithOtherParametersIsAConflict() {
            db.requests().create(NewJob.of("noop", params("a", 1)).withIdempotencyKey("key-2"));
            var r = db.requests().create(NewJob.of("noop", params("a", 2)).withIdempotencyKey("key-2"));
            assertThat(r).isInstanceOf(IdempotencyConflict.class);
            assertThat(db.fixtures().count("SELECT count(*) FROM jobs WHERE idempotency_key = 'key-2'"))
                    .isEqualTo(1);
        }

        @Test
        void storesStringsVerbatim() {
            String nasty = "'; DROP TABLE jobs; -- \u00e9\u4e2d\ud83d\ude00 \\\" \\u0000?";
            Job job = db.requests()
                    .create(NewJob.of("noop", params("text", nasty)).withCreatedBy(nasty))
                    .job();
            Job read = db.queries().find(job.id()).orElseThrow();
            assertThat(read.parameters().get("text").asText()).isEqualTo(nasty);
            assertThat(read.createdBy()).isEqualTo(nasty);
        }

        @Test
        void rejectsBadFieldsNamingTheField() {
            assertThatThrownBy(() -> NewJob.of("Bad Type", null))
                    .isInstanceOf(InvalidJobException.class)
                    .hasMessageStartingWith("type ");
            assertThatThrownBy(() -> NewJob.of("noop", null).withPriority(101))
                    .isInstanceOf(InvalidJobException.class)
                    .hasMessageStartingWith("priority ");
            assertThatThrownBy(() -> NewJob.of("noop", json("[1]")))
                    .isInstanceOf(InvalidJobException.class)
                    .hasMessageStartingWith("parameters ");
            assertThatThrownBy(() -> NewJob.of("noop", null).withMaxAttempts(0))
                    .isInstanceOf(InvalidJobException.class)
                    .hasMessageStartingWith("max_attempts ");
        }
    }

    @Nested
    class Approve {
        @Test
        void movesPendingToApprovedAndRecordsWho() {
            Job job = db.fixtures().pending("noop");
            var r = db.requests().approve(job.id(), "bob");
            assertThat(r).isInstanceOf(Moved.class);
            Job moved = ((Moved) r).job();
            assertThat(moved.status()).isEqualTo(JobStatus.APPROVED);
            assertThat(moved.approvedBy()).isEqualTo("bob");
            assertThat(moved.approvedAt()).isNotNull();
            assertThat(db.fixtures().eventKinds(job.id())).containsExactly("created", "approved");
        }

        @Test
        void secondApprovalIsAWrongState() {
            Job job = db.fixtures().approved("noop");
            assertThat(db.requests().approve(job.id(), "bob"))
                    .isEqualTo(new WrongState(job.id(), JobStatus.APPROVED, "only a pending job can be approved"));
        }

        @Test
        void unknownJobIsNotFound() {
            assertThat(db.requests().approve(987654321L, "bob")).isEqualTo(new NotFound(987654321L));
        }

        @Test
        void announcesItWithANotifyHint() throws Exception {
            try (Connection listener = db.database().dedicatedConnection("test-listen");
                    Statement st = listener.createStatement()) {
                st.execute("LISTEN " + JobHistory.CHANNEL);
                Job job = db.fixtures().pending("noop");
                db.requests().approve(job.id(), "bob");
                PGConnection pg = listener.unwrap(PGConnection.class);
                List<String> payloads = new java.util.ArrayList<>();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (payloads.stream().noneMatch(p -> p.contains("approved")) && System.nanoTime() < deadline) {
                    PGNotification[] ns = pg.getNotifications(500);
                    if (ns != null) {
                        for (PGNotification n : ns) {
                            payloads.add(n.getParameter());
                        }
                    }
                }
                assertThat(payloads).contains("{\"event\":\"approved\",\"id\":" + job.id() + ",\"queue\":\"default\"}");
            }
        }
    }

    @Nested
    class Hints {
        @Test
        void workHintsAndProgressHintsGoToTheirOwnChannels() throws Exception {
            try (Connection listener = db.database().dedicatedConnection("test-listen");
                    Statement st = listener.createStatement()) {
                st.execute("LISTEN " + JobHistory.CHANNEL);
                st.execute("LISTEN " + JobHistory.EVENTS_CHANNEL);
                List<Job> jobs = List.of(
                        db.fixtures().pending("noop"),
                        db.fixtures().pending("noop"),
                        db.fixtures().pending("noop"));
                for (Job job : jobs) {
                    db.requests().approve(job.id(), "bob");
                }
                List<Job> claimed = db.leases().claim("w/hints", List.of("default"), 10, List.of());
                assertThat(claimed).hasSize(3);
                Set<Long> done = db.outcomes()
                        .completeMany(
                                "w/hints",
                                claimed.stream()
                                        .map(j -> new OutcomeStore.Completion(j.lease(), json("{}")))
                                        .toList());
                assertThat(done).hasSize(3);
                // Announced after the claim and the completions: once its hint is here, theirs
                // would have been too.
                Job last = db.fixtures().pending("noop");

                List<String> received = new java.util.ArrayList<>();
                PGConnection pg = listener.unwrap(PGConnection.class);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                String lastHint = "\"id\":" + last.id() + ",";
                while (received.stream().noneMatch(r -> r.contains(lastHint)) && System.nanoTime() < deadline) {
                    PGNotification[] ns = pg.getNotifications(500);
                    if (ns != null) {
                        for (PGNotification n : ns) {
                            received.add(n.getName() + " " + n.getParameter());
                        }
                    }
                }
                String work = JobHistory.CHANNEL + " ";
                String events = JobHistory.EVENTS_CHANNEL + " ";
                // Only the approvals go to the channel workers listen on, one hint each with its
                // id; the claim and the completions are recorded but not announced (a NOTIFY
                // serializes the commits of every notifying transaction: JobHistory.UNANNOUNCED).
                assertThat(received)
                        .containsExactly(
                                events + "{\"event\":\"created\",\"id\":"
                                        + jobs.get(0).id() + ",\"queue\":\"default\"}",
                                events + "{\"event\":\"created\",\"id\":"
                                        + jobs.get(1).id() + ",\"queue\":\"default\"}",
                                events + "{\"event\":\"created\",\"id\":"
                                        + jobs.get(2).id() + ",\"queue\":\"default\"}",
                                work + "{\"event\":\"approved\",\"id\":"
                                        + jobs.get(0).id() + ",\"queue\":\"default\"}",
                                work + "{\"event\":\"approved\",\"id\":"
                                        + jobs.get(1).id() + ",\"queue\":\"default\"}",
                                work + "{\"event\":\"approved\",\"id\":"
                                        + jobs.get(2).id() + ",\"queue\":\"default\"}",
                                events + "{\"event\":\"created\",\"id\":" + last.id() + ",\"queue\":\"default\"}");
            }
        }
    }

    @Nested
    class Claim {
        @Test
        void takesHigherPriorityThenEarlierRunAtThenLowerId() {
            Job low = db.requests()
                    .create(NewJob.of("noop", null).withPriority(-5))
                    .job();
            Job highLate = db.requests()
                    .create(NewJob.of("noop", null).withPriority(10))
                    .job();
            Job highEarly = db.requests()
                    .create(NewJob.of("noop", null)
                            .withPriority(10)
                            .withRunAt(Instant.now().minusSeconds(60)))
                    .job();
            Job mid = db.requests().create(NewJob.of("noop", null)).job();
            for (Job j : List.of(low, highLate, highEarly, mid)) {
                db.requests().approve(j.id(), "t");
            }
            List<Job> claimed = db.leases().claim("w/1", List.of("default"), 10, List.of());
            assertThat(claimed).extracting(Job::id).containsExactly(highEarly.id(), highLate.id(), mid.id(), low.id());
            assertThat(claimed).allSatisfy(j -> {
                assertThat(j.status()).isEqualTo(JobStatus.PROCESSING);
                assertThat(j.attempt()).isEqualTo(1);
                assertThat(j.lockedBy()).isEqualTo("w/1");
                assertThat(j.heartbeatAt()).isNotNull();
                assertThat(j.startedAt()).isNotNull();
            });
        }

        @Test
        void leavesFutureJobsOtherQueuesAndPendingJobs() {
            Job future = db.requests()
                    .create(NewJob.of("noop", null).withRunAt(Instant.now().plusSeconds(3600)))
                    .job();
            db.requests().approve(future.id(), "t");
            Job other = db.requests()
                    .create(NewJob.of("noop", null).withQueue("other"))
                    .job();
            db.requests().approve(other.id(), "t");
            db.fixtures().pending("noop");
            assertThat(db.leases().claim("w/1", List.of("default"), 10, List.of()))
                    .isEmpty();
            assertThat(db.leases().claim("w/1", List.of("other", "default"), 10, List.of()))
                    .extracting(Job::id)
                    .containsExactly(other.id());
        }

        @Test
        void takesOnlyTheTypesItHasHandlersFor() {
            Job video = db.fixtures().approved("video");
            Job noop = db.fixtures().approved("noop");
            assertThat(db.leases().claim("w/1", List.of("default"), List.of("noop", "sleep"), 10, List.of()))
                    .extracting(Job::id)
                    .containsExactly(noop.id());
            assertThat(db.queries().find(video.id()).orElseThrow().status()).isEqualTo(JobStatus.APPROVED);
            assertThat(db.leases().claim("w/2", List.of("default"), null, 10, List.of()))
                    .extracting(Job::id)
                    .containsExactly(video.id());
        }

        @Test
        void commitsUnflushedForItsOwnTransactionOnlyAndARoundWithCompletionsDoesNot() throws Exception {
            // One connection, so that what the claim leaves in the session is what comes next; its
            // session commits durably (the tests' server is set not to).
            try (Database one = db.database().sibling("one", 1, java.util.Map.of("synchronous_commit", "on"))) {
                LeaseStore leases = new LeaseStore(one.dataSource());
                List<Long> ids = db.fixtures().approvedBulk("noop", 2);
                assertThat(leases.claim("w/1", List.of("default"), 1, List.of()))
                        .extracting(Job::id)
                        .containsExactly(ids.get(0));
                try (Connection c = one.connection();
                        Statement st = c.createStatement();
                        ResultSet rs = st.executeQuery("SHOW synchronous_commit")) {
                    rs.next();
                    assertThat(rs.getString(1)).isEqualTo("on");
                }
                assertThat(LeaseStore.CLAIM).contains(LeaseStore.UNFLUSHED_COMMIT);
                assertThat(LeaseStore.CLAIM_AND_COMPLETE).doesNotContain("synchronous_commit");
            }
        }

        @Test
        void claimsNoMoreThanTheFreeSlotsAndHonoursExclusions() {
            List<Long> ids = db.fixtures().approvedBulk("noop", 5);
            List<Job> two = db.leases().claim("w/1", List.of("default"), 2, List.of(ids.get(0)));
            assertThat(two).extracting(Job::id).containsExactly(ids.get(1), ids.get(2));
        }

        @Test
        void resumesAfterAPositionThenTakesLowerPrioritiesButNeverWhatComesBefore() {
            Instant t = Instant.now().minusSeconds(60);
            Job high = approved(5, t);
            Job a = approved(0, t);
            Job b = approved(0, t);
            Job c = approved(0, t.plusSeconds(1));
            Job low = approved(-5, t.minusSeconds(30));

            List<Job> afterA = db.leases()
                    .claim(
                            "w/1",
                            List.of("default"),
                            List.of(ClaimPosition.of(a)),
                            null,
                            10,
                            List.of(),
                            LeaseStore.DEFAULT_LEASE);

            // b has a's priority and run_at and a higher id; c is later; low is a lower priority.
            // high and a itself come before the position and stay where they are.
            assertThat(afterA).extracting(Job::id).containsExactly(b.id(), c.id(), low.id());
            assertThat(db.queries().find(high.id()).orElseThrow().status()).isEqualTo(JobStatus.APPROVED);
            assertThat(db.queries().find(a.id()).orElseThrow().status()).isEqualTo(JobStatus.APPROVED);
            // From the head (null position) it takes them.
            assertThat(db.leases()
                            .claim(
                                    "w/1",
                                    List.of("default"),
                                    java.util.Arrays.asList((ClaimPosition) null),
                                    null,
                                    10,
                                    List.of(),
                                    LeaseStore.DEFAULT_LEASE))
                    .extracting(Job::id)
                    .containsExactly(high.id(), a.id());
        }

        @Test
        void eachQueueHasItsOwnPosition() {
            Instant t = Instant.now().minusSeconds(60);
            Job first = approved(0, t);
            Job second = approved(0, t);
            Job other = db.requests()
                    .create(NewJob.of("noop", null).withQueue("other").withRunAt(t))
                    .job();
            db.requests().approve(other.id(), "t");
            List<Job> claimed = db.leases()
                    .claim(
                            "w/1",
                            List.of("default", "other"),
                            java.util.Arrays.asList(ClaimPosition.of(first), null),
                            null,
                            10,
                            List.of(),
                            LeaseStore.DEFAULT_LEASE);
            assertThat(claimed).extracting(Job::id).containsExactlyInAnyOrder(second.id(), other.id());
        }

        @Test
        void aResumedClaimRunsOnACachedGenericPlan() {
            // The worker claims on a connection that always uses the cached generic plan; the
            // head and the resumed branches both have to work on it, past PostgreSQL's first
            // five custom plans.
            try (Database generic =
                    db.database().sibling("generic", 1, java.util.Map.of("plan_cache_mode", "force_generic_plan"))) {
                LeaseStore genericLeases = new LeaseStore(generic.dataSource());
                List<Long> ids = db.fixtures().approvedBulk("noop", 24);
                ClaimPosition at = null;
                List<Long> seen = new java.util.ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    List<Job> got = genericLeases.claim(
                            "w/g",
                            List.of("default"),
                            java.util.Arrays.asList(at),
                            List.of("noop"),
                            3,
                            List.of(),
                            LeaseStore.DEFAULT_LEASE);
                    assertThat(got).hasSize(3);
                    got.forEach(j -> seen.add(j.id()));
                    at = i % 3 == 2 ? null : ClaimPosition.of(got.get(2));
                }
                assertThat(seen).containsExactlyElementsOf(ids);
            }
        }

        @Test
        void positionsMustMatchTheQueues() {
            assertThatThrownBy(() -> db.leases()
                            .claim(
                                    "w/1",
                                    List.of("default", "other"),
                                    List.of(),
                                    null,
                                    1,
                                    List.of(),
                                    LeaseStore.DEFAULT_LEASE))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("one per queue");
        }

        private Job approved(int priority, Instant runAt) {
            Job j = db.requests()
                    .create(NewJob.of("noop", null).withPriority(priority).withRunAt(runAt))
                    .job();
            db.requests().approve(j.id(), "t");
            return db.queries().find(j.id()).orElseThrow();
        }
    }

    @Nested
    class HeartbeatAndProgress {
        @Test
        void extendsHeldLeasesAndReportsLostOnes() {
            Job a = db.fixtures().processing("noop", "w/1");
            Job b = db.fixtures().processing("noop", "w/1");
            db.fixtures().ageHeartbeat(a.id(), 60);
            db.requests().cancel(b.id(), "someone");
            var r = db.leases()
                    .heartbeat(
                            "w/1",
                            List.of(
                                    new LeaseStore.Beat(a.lease(), 40, "half way"),
                                    new LeaseStore.Beat(b.lease(), null, null)));
            assertThat(r.held()).containsExactly(a.id());
            assertThat(r.lost()).containsExactly(b.id());
            Job after = db.queries().find(a.id()).orElseThrow();
            assertThat(after.progressPercentage()).isEqualTo(40);
            assertThat(after.currentStage()).isEqualTo("half way");
            assertThat(after.heartbeatAt()).isAfter(db.queries().databaseNow().minusSeconds(5));
            assertThat(db.fixtures().eventKinds(a.id())).endsWith("progress");
        }

        @Test
        void progressWithoutChangesWritesNoEvent() {
            Job a = db.fixtures().processing("noop", "w/1");
            db.leases().heartbeat("w/1", List.of(new LeaseStore.Beat(a.lease(), null, null)));
            assertThat(db.fixtures().eventKinds(a.id())).containsExactly("created", "approved");
        }

        @Test
        void progressIsWrittenAtOnceWhenAsked() {
            Job a = db.fixtures().processing("noop", "w/1");
            assertThat(db.leases().progress(a.lease(), 75, "encoding")).isInstanceOf(Written.class);
            assertThat(db.queries().find(a.id()).orElseThrow().progressPercentage())
                    .isEqualTo(75);
        }
    }

    @Nested
    class CompleteAndFail {
        @Test
        void completeStoresTheResultAndClearsTheLease() {
            Job a = db.fixtures().processing("noop", "w/1");
            assertThat(db.outcomes().complete(a.lease(), json("{\"ok\":true}"))).isInstanceOf(Written.class);
            Job done = db.queries().find(a.id()).orElseThrow();
            assertThat(done.status()).isEqualTo(JobStatus.COMPLETED);
            assertThat(done.result()).isEqualTo(json("{\"ok\":true}"));
            assertThat(done.progressPercentage()).isEqualTo(100);
            assertThat(done.lockedBy()).isNull();
            assertThat(done.finishedAt()).isNotNull();
            assertThat(db.fixtures().eventKinds(a.id())).endsWith("completed");
        }

        @Test
        void completingTwiceIsALostLease() {
            Job a = db.fixtures().processing("noop", "w/1");
            db.outcomes().complete(a.lease(), null);
            assertThat(db.outcomes().complete(a.lease(), null)).isEqualTo(new LeaseLost(a.lease()));
        }

        @Test
        void retryableFailureGoesBackToApprovedAfterTheBackoff() {
            Job a = db.fixtures().processing("noop", "w/1");
            Instant before = db.queries().databaseNow();
            var r = (Written) db.outcomes().fail(a.lease(), "boom", true, Duration.ofSeconds(30));
            assertThat(r.status()).isEqualTo(JobStatus.APPROVED);
            assertThat(r.runAt()).isAfterOrEqualTo(before.plusSeconds(29));
            Job after = db.queries().find(a.id()).orElseThrow();
            assertThat(after.lastError()).isEqualTo("boom");
            assertThat(after.attempt()).isEqualTo(1);
            assertThat(db.leases().claim("w/1", List.of("default"), 10, List.of()))
                    .isEmpty();
            assertThat(db.fixtures().eventKinds(a.id())).endsWith("retried");
        }

        @Test
        void failureOnTheLastAttemptIsFinal() {
            Job a = db.requests()
                    .create(NewJob.of("noop", null).withMaxAttempts(2))
                    .job();
            db.requests().approve(a.id(), "t");
            for (int attempt = 1; attempt <= 2; attempt++) {
                Job claimed = db.leases()
                        .claim("w/1", List.of("default"), 1, List.of())
                        .getFirst();
                assertThat(claimed.attempt()).isEqualTo(attempt);
                db.outcomes().fail(claimed.lease(), "boom " + attempt, true, Duration.ZERO);
            }
            Job failed = db.queries().find(a.id()).orElseThrow();
            assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
            assertThat(failed.lastError()).isEqualTo("boom 2");
            assertThat(failed.finishedAt()).isNotNull();
            assertThat(db.fixtures()
                            .strings("SELECT message FROM job_history WHERE job_id = " + a.id()
                                    + " AND kind IN ('retried', 'failed') ORDER BY id"))
                    .containsExactly("boom 1", "boom 2");
        }

        @Test
        void nonRetryableFailureFailsAtOnce() {
            Job a = db.fixtures().processing("noop", "w/1");
            var r = (Written) db.outcomes().fail(a.lease(), "bad input", false, Duration.ZERO);
            assertThat(r.status()).isEqualTo(JobStatus.FAILED);
        }
    }

    @Nested
    class CancelAndRetry {
        @Test
        void cancelsPendingApprovedAndProcessingJobs() {
            Job processing = db.fixtures().processing("noop", "w/1");
            for (Job j : List.of(db.fixtures().pending("noop"), db.fixtures().approved("noop"), processing)) {
                var r = db.requests().cancel(j.id(), "carol");
                assertThat(r).isInstanceOf(Moved.class);
                Job c = ((Moved) r).job();
                assertThat(c.status()).isEqualTo(JobStatus.CANCELLED);
                assertThat(c.lockedBy()).isNull();
                assertThat(c.finishedAt()).isNotNull();
            }
        }

        @Test
        void cannotCancelAFinishedJob() {
            Job a = db.fixtures().processing("noop", "w/1");
            db.outcomes().complete(a.lease(), null);
            assertThat(db.requests().cancel(a.id(), "carol")).isInstanceOf(WrongState.class);
            assertThat(db.requests().cancel(424242424L, "carol")).isEqualTo(new NotFound(424242424L));
        }

        @Test
        void retryStartsAFailedJobWithAFreshBudget() {
            Job a = db.requests()
                    .create(NewJob.of("noop", null).withMaxAttempts(1))
                    .job();
            db.requests().approve(a.id(), "t");
            Job claimed =
                    db.leases().claim("w/1", List.of("default"), 1, List.of()).getFirst();
            db.outcomes().fail(claimed.lease(), "boom", true, Duration.ZERO);
            assertThat(db.queries().find(a.id()).orElseThrow().status()).isEqualTo(JobStatus.FAILED);

            Job retried = ((Moved) db.requests().retry(a.id(), "dave")).job();
            assertThat(retried.status()).isEqualTo(JobStatus.APPROVED);
            assertThat(retried.attempt()).isZero();
            assertThat(retried.finishedAt()).isNull();
            assertThat(db.leases().claim("w/1", List.of("default"), 1, List.of()))
                    .hasSize(1);
        }

        @Test
        void retryOfAPendingJobIsAWrongState() {
            Job a = db.fixtures().pending("noop");
            assertThat(db.requests().retry(a.id(), "dave")).isInstanceOf(WrongState.class);
        }
    }

    @Nested
    class ReclaimAndFencing {
        @Test
        void staleJobsGoBackToApprovedAndFreshOnesStay() {
            Job stale = db.fixtures().processing("noop", "w/dead");
            Job fresh = db.fixtures().processing("noop", "w/alive");
            db.fixtures().ageHeartbeat(stale.id(), 60);
            var r = db.reclaims().reclaimExpired(100);
            assertThat(r.requeued()).isEqualTo(1);
            assertThat(db.queries().find(stale.id()).orElseThrow().status()).isEqualTo(JobStatus.APPROVED);
            assertThat(db.queries().find(stale.id()).orElseThrow().lastError()).contains("w/dead stopped heartbeating");
            assertThat(db.queries().find(fresh.id()).orElseThrow().status()).isEqualTo(JobStatus.PROCESSING);
            assertThat(db.fixtures().eventKinds(stale.id())).endsWith("reclaimed");
        }

        @Test
        void aReclaimedJobKeepsItsPlaceAheadOfJobsQueuedAfterIt() {
            Job first = db.fixtures().processing("noop", "w/dead");
            db.fixtures().approvedBulk("noop", 3);
            db.fixtures().ageHeartbeat(first.id(), 60);
            assertThat(db.reclaims().reclaimExpired(100).requeued()).isEqualTo(1);
            // The next claim takes it before the backlog that arrived while it was held.
            Job next = db.leases()
                    .claim("w/next", List.of("default"), 1, List.of())
                    .getFirst();
            assertThat(next.id()).isEqualTo(first.id());
        }

        @Test
        void staleJobOnItsLastAttemptFails() {
            Job a = db.requests()
                    .create(NewJob.of("noop", null).withMaxAttempts(1))
                    .job();
            db.requests().approve(a.id(), "t");
            Job claimed = db.leases()
                    .claim("w/dead", List.of("default"), 1, List.of())
                    .getFirst();
            db.fixtures().ageHeartbeat(claimed.id(), 60);
            assertThat(db.reclaims().reclaimExpired(100).failed()).isEqualTo(1);
            assertThat(db.queries().find(a.id()).orElseThrow().status()).isEqualTo(JobStatus.FAILED);
        }

        @Test
        void afterAReclaimEveryWriteOfTheOldHolderChangesNothing() {
            Job a = db.fixtures().processing("noop", "w/old");
            Lease old = a.lease();
            db.fixtures().ageHeartbeat(a.id(), 60);
            db.reclaims().reclaimExpired(100);
            Job reclaimedRow = db.queries().find(a.id()).orElseThrow();

            assertThat(db.leases()
                            .heartbeat("w/old", List.of(new LeaseStore.Beat(old, 99, "zombie")))
                            .held())
                    .isEmpty();
            assertThat(db.leases().progress(old, 99, "zombie")).isInstanceOf(LeaseLost.class);
            assertThat(db.outcomes().complete(old, json("{\"zombie\":true}"))).isInstanceOf(LeaseLost.class);
            assertThat(db.outcomes().fail(old, "zombie", true, Duration.ZERO)).isInstanceOf(LeaseLost.class);
            assertThat(db.outcomes().waitForSubJobs(old, List.of(SubJob.of("noop", null)), "x", "y"))
                    .isInstanceOf(SpawnLeaseLost.class);
            assertThat(db.leases().release("w/old", List.of(old))).isEmpty();
            assertThat(db.queries().find(a.id()).orElseThrow()).isEqualTo(reclaimedRow);

            // The same holds once another worker has it: only the new lease writes.
            Job again =
                    db.leases().claim("w/new", List.of("default"), 1, List.of()).getFirst();
            assertThat(again.attempt()).isEqualTo(2);
            assertThat(db.outcomes().complete(old, json("{\"zombie\":true}"))).isInstanceOf(LeaseLost.class);
            assertThat(db.outcomes().complete(again.lease(), json("{\"ok\":true}")))
                    .isInstanceOf(Written.class);
            assertThat(db.queries().find(a.id()).orElseThrow().result()).isEqualTo(json("{\"ok\":true}"));
        }

        @Test
        void releaseGivesTheAttemptBack() {
            Job a = db.fixtures().processing("noop", "w/1");
            assertThat(db.leases().release("w/1", List.of(a.lease()))).containsExactly(a.id());
            Job after = db.queries().find(a.id()).orElseThrow();
            assertThat(after.status()).isEqualTo(JobStatus.APPROVED);
            assertThat(after.attempt()).isZero();
            assertThat(db.fixtures().eventKinds(a.id())).endsWith("released");
        }

        @Test
        void startupRecoveryFreesTheJobsOfTheWorkersItIsGivenAndNoOthers() {
            Job predecessors = db.fixtures().processing("noop", "render-1/aaaa");
            Job own = db.fixtures().processing("noop", "render-1/bbbb");
            Job aliveTwin = db.fixtures().processing("noop", "render-1/dddd");
            Job otherName = db.fixtures().processing("noop", "render-10/cccc");
            var r = db.reclaims().recoverPredecessors(List.of("render-1/aaaa"), 100);
            assertThat(r.requeued()).isEqualTo(1);
            assertThat(db.queries().find(predecessors.id()).orElseThrow().status())
                    .isEqualTo(JobStatus.APPROVED);
            assertThat(db.queries().find(predecessors.id()).orElseThrow().lastError())
                    .contains("render-1/aaaa was restarted");
            assertThat(db.queries().find(own.id()).orElseThrow().status()).isEqualTo(JobStatus.PROCESSING);
            assertThat(db.queries().find(aliveTwin.id()).orElseThrow().status()).isEqualTo(JobStatus.PROCESSING);
            assertThat(db.queries().find(otherName.id()).orElseThrow().status()).isEqualTo(JobStatus.PROCESSING);
            assertThat(db.reclaims().recoverPredecessors(List.of(), 100).total())
                    .isZero();
        }

        @Test
        void aHeartbeatSaysWhichOfTheLostLeasesWereCancelled() {
            Job cancelled = db.fixtures().processing("noop", "w/1");
            Job reclaimed = db.fixtures().processing("noop", "w/1");
            Job held = db.fixtures().processing("noop", "w/1");
            db.requests().cancel(cancelled.id(), "dave");
            db.fixtures().ageHeartbeat(reclaimed.id(), 60);
            db.reclaims().reclaimExpired(100);
            var r = db.leases()
                    .heartbeat(
                            "w/1",
                            List.of(
                                    new LeaseStore.Beat(cancelled.lease(), null, null),
                                    new LeaseStore.Beat(reclaimed.lease(), null, null),
                                    new LeaseStore.Beat(held.lease(), 100, "almost")));
            assertThat(r.held()).containsExactly(held.id());
            assertThat(r.lost()).containsExactlyInAnyOrder(cancelled.id(), reclaimed.id());
            assertThat(r.cancelled()).containsExactly(cancelled.id());
            // 100 % is for a completed job: a running one reports at most 99.
            assertThat(db.queries().find(held.id()).orElseThrow().progressPercentage())
                    .isEqualTo(99);
        }

        @Test
        void aLeaseLastsWhatItsHolderAskedForWhateverTheReclaimerThinks() {
            // A worker beating every 10 s with a 30 s timeout, and one with a 5 s timeout: the
            // second one's reclaimer must not take the first one's job after 5 s of quiet.
            Job patient = db.requests().create(NewJob.of("noop", null)).job();
            db.requests().approve(patient.id(), "t");
            Job held = db.leases()
                    .claim(
                            "slow/1",
                            List.of("default"),
                            java.util.Arrays.asList((ClaimPosition) null),
                            null,
                            1,
                            List.of(),
                            Duration.ofSeconds(30))
                    .getFirst();
            assertThat(Duration.between(held.heartbeatAt(), held.leaseExpiresAt()))
                    .isEqualTo(Duration.ofSeconds(30));
            db.fixtures()
                    .exec("UPDATE jobs SET heartbeat_at = heartbeat_at - interval '10 seconds',"
                            + " lease_expires_at = lease_expires_at - interval '10 seconds' WHERE id = " + held.id());
            assertThat(db.reclaims().reclaimExpired(100).total()).isZero();
            assertThat(db.queries().find(held.id()).orElseThrow().status()).isEqualTo(JobStatus.PROCESSING);

            // Each beat extends it by the holder's own timeout.
            db.leases()
                    .heartbeat(
                            "slow/1", List.of(new LeaseStore.Beat(held.lease(), null, null)), Duration.ofSeconds(30));
            Job beaten = db.queries().find(held.id()).orElseThrow();
            assertThat(Duration.between(beaten.heartbeatAt(), beaten.leaseExpiresAt()))
                    .isEqualTo(Duration.ofSeconds(30));

            // Once it has run out, any reclaimer takes it.
            db.fixtures()
                    .exec("UPDATE jobs SET lease_expires_at = now() - interval '1 second' WHERE id = " + held.id());
            assertThat(db.reclaims().reclaimExpired(100).requeued()).isEqualTo(1);
            assertThat(db.queries().find(held.id()).orElseThrow().lastError()).contains("lease ended");
        }
    }

    @Nested
    class SubJobs {
        @Test
        void parentWaitsAndResumesAtItsStageWhenTheLastChildFinishes() {
            Job parent = db.fixtures().processing("video", "w/1");
            var spawned = db.outcomes()
                    .waitForSubJobs(
                            parent.lease(),
                            List.of(SubJob.of("scene", params("i", 0)), SubJob.of("scene", params("i", 1))),
                            "rendering",
                            "stitching");
            List<Long> children = ((Spawned) spawned).subJobIds();
            Job waiting = db.queries().find(parent.id()).orElseThrow();
            assertThat(waiting.status()).isEqualTo(JobStatus.WAITING);
            assertThat(waiting.attempt()).isZero();
            assertThat(waiting.currentStage()).isEqualTo("rendering 0/2");
            assertThat(waiting.lockedBy()).isNull();

            List<Job> claimed = db.leases().claim("w/2", List.of("default"), 10, List.of());
            assertThat(claimed).extracting(Job::id).containsExactlyElementsOf(children);
            assertThat(claimed).allSatisfy(c -> assertThat(c.parentId()).isEqualTo(parent.id()));

            db.outcomes().complete(claimed.get(0).lease(), json("{\"clip\":0}"));
            Job half = db.queries().find(parent.id()).orElseThrow();
            assertThat(half.status()).isEqualTo(JobStatus.WAITING);
            assertThat(half.currentStage()).isEqualTo("rendering 1/2");
            // Half of the sub-jobs' share: 100 % is only for a completed job.
            assertThat(half.progressPercentage()).isEqualTo(FanIn.SUBJOBS_PROGRESS_SHARE / 2);

            db.outcomes().fail(claimed.get(1).lease(), "scene broke", false, Duration.ZERO);
            Job resumed = db.queries().find(parent.id()).orElseThrow();
            assertThat(resumed.status()).isEqualTo(JobStatus.APPROVED);
            assertThat(resumed.currentStage()).isEqualTo("stitching");
            assertThat(resumed.progressPercentage()).isEqualTo(FanIn.SUBJOBS_PROGRESS_SHARE);
            assertThat(db.queries().events(parent.id(), 0, 100).getLast().progressPercentage())
                    .as("the resumed event")
                    .isEqualTo(FanIn.SUBJOBS_PROGRESS_SHARE);
            assertThat(resumed.subjobsOpen()).isZero();
            assertThat(db.fixtures().eventKinds(parent.id()))
                    .filteredOn("resumed"::equals)
                    .hasSize(1);

            Job again =
                    db.leases().claim("w/3", List.of("default"), 1, List.of()).getFirst();
            assertThat(again.id()).isEqualTo(parent.id());
            assertThat(again.attempt()).isEqualTo(1);
        }

        @Test
        void cancellingAParentCancelsItsUnfinishedChildren() {
            Job parent = db.fixtures().processing("video", "w/1");
            db.outcomes()
                    .waitForSubJobs(
                            parent.lease(), List.of(SubJob.of("scene", null), SubJob.of("scene", null)), "r", "s");
            Job child =
                    db.leases().claim("w/2", List.of("default"), 1, List.of()).getFirst();
            db.requests().cancel(parent.id(), "erin");
            assertThat(db.queries().subJobs(parent.id()))
                    .allSatisfy(c -> assertThat(c.status()).isEqualTo(JobStatus.CANCELLED));
            assertThat(db.queries().find(parent.id()).orElseThrow().subjobsOpen())
                    .isZero();
            assertThat(db.outcomes().complete(child.lease(), null)).isInstanceOf(LeaseLost.class);
        }

        @Test
        void aFailedSubJobCanBeRetriedWhileItsParentWaits() {
            Job parent = db.fixtures().processing("video", "w/1");
            db.outcomes()
                    .waitForSubJobs(
                            parent.lease(), List.of(SubJob.of("scene", null), SubJob.of("scene", null)), "r", "s");
            Job first =
                    db.leases().claim("w/2", List.of("default"), 1, List.of()).getFirst();
            db.outcomes().fail(first.lease(), "x", false, Duration.ZERO);
            assertThat(db.requests().retry(first.id(), "dave")).isInstanceOf(Moved.class);
            assertThat(db.queries().find(parent.id()).orElseThrow().subjobsOpen())
                    .isEqualTo(2);
        }
    }

    @Test
    void pruneDeletesOldFinishedJobsWithTheirEventsAndSubJobs() {
        Job parent = db.fixtures().processing("video", "w/1");
        db.outcomes().waitForSubJobs(parent.lease(), List.of(SubJob.of("scene", null)), "r", "s");
        Job child = db.leases().claim("w/2", List.of("default"), 1, List.of()).getFirst();
        db.outcomes().complete(child.lease(), null);
        Job resumed = db.leases().claim("w/2", List.of("default"), 1, List.of()).getFirst();
        db.outcomes().complete(resumed.lease(), null);
        Job recent = db.fixtures().processing("noop", "w/1");
        db.outcomes().complete(recent.lease(), null);
        db.fixtures()
                .exec("UPDATE jobs SET finished_at = now() - interval '10 days' WHERE id IN (" + parent.id() + ", "
                        + child.id() + ")");

        assertThat(db.reclaims().pruneFinished(Duration.ofDays(7), 1000)).isEqualTo(1);
        assertThat(db.queries().find(parent.id())).isEmpty();
        assertThat(db.queries().find(child.id())).isEmpty();
        assertThat(db.queries().find(recent.id())).isPresent();
        assertThat(db.fixtures()
                        .count("SELECT count(*) FROM job_history WHERE job_id IN (" + parent.id() + ", " + child.id()
                                + ")"))
                .isZero();
    }

    @Test
    void statusIsTheSameEnumInJavaAndPostgres() {
        assertThat(db.fixtures().strings("SELECT unnest(enum_range(NULL::job_status))::text"))
                .containsExactlyElementsOf(Set.of(JobStatus.values()).stream()
                        .sorted()
                        .map(JobStatus::dbName)
                        .toList());
    }
}
