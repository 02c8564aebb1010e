package dev.gaffer.db;

import static dev.gaffer.job.JobFixtures.json;
import static dev.gaffer.job.JobFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gaffer.job.Job;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.LeaseStore;
import dev.gaffer.job.NewJob;
import dev.gaffer.job.OutcomeStore;
import dev.gaffer.job.ReclaimStore;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.Spawned;
import dev.gaffer.job.Results.Written;
import dev.gaffer.job.SubJob;
import dev.gaffer.job.SubJobFailurePolicy;
import dev.gaffer.testing.TestPostgres;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The transition guards of db/roles.sql: every transition statement goes through under the role
 * of the process that runs it (every transition, fan-in and fail-fast included), and every write
 * a role has the column rights for but not the business to make is refused by PostgreSQL with
 * SQLSTATE 42501, changing nothing. The owner is not held to them.
 */
class RoleGuardsTest {

    static final Path ROLES_SQL = Path.of("src", "main", "resources", "db", "roles.sql");
    static final String SUFFIX = "_" + ProcessHandle.current().pid();
    static final String API_LOGIN = "guard_api" + SUFFIX;
    static final String WORKER_LOGIN = "guard_worker" + SUFFIX;

    static Database owner;
    static Database api;
    static Database worker;
    static Stores asOwner;
    static Stores asApi;
    static Stores asWorker;
    static JobFixtures fx;

    @BeforeAll
    static void setUp() throws Exception {
        owner = TestPostgres.freshDatabase("role_guards");
        try (Connection c = owner.connection();
                Statement st = c.createStatement()) {
            st.execute(Files.readString(ROLES_SQL));
            for (String[] login : new String[][] {{API_LOGIN, "gaffer_api"}, {WORKER_LOGIN, "gaffer_worker"}}) {
                st.execute("DROP ROLE IF EXISTS " + login[0]);
                st.execute("CREATE ROLE " + login[0] + " LOGIN IN ROLE " + login[1]);
            }
        }
        String jdbc = owner.config().url().jdbcUrl();
        api = Database.open(new DatabaseConfig(new DatabaseUrl(jdbc, API_LOGIN, null), 4, Duration.ofSeconds(10), "t"));
        worker = Database.open(
                new DatabaseConfig(new DatabaseUrl(jdbc, WORKER_LOGIN, null), 4, Duration.ofSeconds(10), "t"));
        asOwner = Stores.over(owner.dataSource());
        asApi = Stores.over(api.dataSource());
        asWorker = Stores.over(worker.dataSource());
        fx = new JobFixtures(owner);
    }

    @AfterAll
    static void tearDown() throws SQLException {
        api.close();
        worker.close();
        try (Connection c = owner.connection();
                Statement st = c.createStatement()) {
            st.execute("DROP ROLE IF EXISTS " + API_LOGIN);
            st.execute("DROP ROLE IF EXISTS " + WORKER_LOGIN);
        }
        owner.close();
    }

    /** Every store over one role's connections. */
    record Stores(
            JobRequests requests, LeaseStore leases, OutcomeStore outcomes, ReclaimStore reclaims, JobQueries queries) {
        static Stores over(DataSource ds) {
            return new Stores(
                    new JobRequests(ds),
                    new LeaseStore(ds),
                    new OutcomeStore(ds),
                    new ReclaimStore(ds),
                    new JobQueries(ds));
        }
    }

    @BeforeEach
    void emptyQueue() {
        fx.cancelUnfinished();
    }

    private static Job pending(String type) {
        return asApi.requests().create(NewJob.of(type, params("n", 1))).job();
    }

    private static Job approved(String type) {
        return ((Moved) asApi.requests().approve(pending(type).id(), "alice")).job();
    }

    private static Job claimOne(String workerId) {
        List<Job> got = asWorker.leases().claim(workerId, List.of("default"), 1, List.of());
        assertThat(got).hasSize(1);
        return got.getFirst();
    }

    @Nested
    class WhatTheRolesDoThemselvesGoesThrough {

        @Test
        void peopleCreateApproveCancelAndRetry() {
            Job a = pending("noop");
            assertThat(asApi.requests().approve(a.id(), "alice")).isInstanceOf(Moved.class);
            assertThat(asApi.requests().cancel(a.id(), "bob")).isInstanceOf(Moved.class);
            Job retried = ((Moved) asApi.requests().retry(a.id(), "carol")).job();
            assertThat(retried.status()).isEqualTo(JobStatus.APPROVED);
            assertThat(retried.approvedBy()).isEqualTo("alice");
            // A job cancelled before anyone approved it: the retry is its approval.
            Job never = pending("noop");
            asApi.requests().cancel(never.id(), "bob");
            assertThat(((Moved) asApi.requests().retry(never.id(), "carol"))
                            .job()
                            .approvedBy())
                    .isEqualTo("carol");
        }

        @Test
        void reviewersRejectAndRequestChangesAndSubmittersRevise() {
            Job a = pending("noop");
            assertThat(asApi.requests().requestChanges(a.id(), "rita", "shorter, please", 1))
                    .isInstanceOf(Moved.class);
            Job revised = ((Moved) asApi.requests().revise(a.id(), "tester", json("{\"cut\":true}"), 1)).job();
            assertThat(revised.storyboardRevision()).isEqualTo(2);
            assertThat(asApi.requests().approve(a.id(), "rita", "good now", 2)).isInstanceOf(Moved.class);
            Job b = pending("noop");
            Job rejected = ((Moved) asApi.requests().reject(b.id(), "rita", "not this quarter", null)).job();
            assertThat(rejected.status()).isEqualTo(JobStatus.REJECTED);
            assertThat(fx.count("SELECT count(*) FROM job_reviews WHERE job_id IN (" + a.id() + ", " + b.id() + ")"))
                    .isEqualTo(3);
        }

        @Test
        void adminsSetReviewPoliciesAndWorkersExpireWhatTheySay() {
            var policy = new dev.gaffer.job.ReviewTrail(api.dataSource())
                    .setPolicy("sleep", "approve", true, Duration.ofHours(1), "lead");
            assertThat(policy.fourEyes()).isTrue();
            Job idle = pending("sleep");
            Job busy = pending("noop");
            fx.exec("UPDATE jobs SET updated_at = now() - interval '2 hours' WHERE id IN (" + idle.id() + ", "
                    + busy.id() + ")");
            assertThat(new dev.gaffer.job.ReviewTrail(worker.dataSource()).expire(10))
                    .isEqualTo(1);
            assertThat(asOwner.queries().find(idle.id()).orElseThrow().status()).isEqualTo(JobStatus.CANCELLED);
            assertThat(asOwner.queries().find(busy.id()).orElseThrow().status()).isEqualTo(JobStatus.PENDING);
            // A quorum of two: the first approval leaves the job pending, the second runs it.
            new dev.gaffer.job.ReviewTrail(api.dataSource()).setPolicy("sleep", "approve", false, null, 2, "lead");
            Job quorum = pending("sleep");
            assertThat(((Moved) asApi.requests().approve(quorum.id(), "rita"))
                            .job()
                            .status())
                    .isEqualTo(JobStatus.PENDING);
            assertThat(((Moved) asApi.requests().approve(quorum.id(), "lee"))
                            .job()
                            .status())
                    .isEqualTo(JobStatus.APPROVED);
            assertThat(new dev.gaffer.job.ReviewTrail(api.dataSource()).deletePolicy("sleep"))
                    .isTrue();
            // Escalation: the worker records it and leaves the jobs pending.
            new dev.gaffer.job.ReviewTrail(api.dataSource())
                    .setPolicy("noop", "plan", "approve", false, Duration.ofHours(1), 1, "escalate", "lead");
            assertThat(new dev.gaffer.job.ReviewTrail(worker.dataSource()).expire(10))
                    .as("the idle noop job from above")
                    .isEqualTo(1);
            assertThat(asOwner.queries().find(busy.id()).orElseThrow().status()).isEqualTo(JobStatus.PENDING);
            assertThat(fx.count("SELECT count(*) FROM job_reviews WHERE job_id = " + busy.id()
                            + " AND decision = 'escalated' AND reviewer = 'gaffer'"))
                    .isEqualTo(1);
            assertThat(new dev.gaffer.job.ReviewTrail(api.dataSource()).deletePolicy("noop"))
                    .isTrue();
        }

        @Test
        void gatesStopResumeGoBackAndFailUnderTheirRoles() {
            approved("video");
            Job run = claimOne("w/1");
            assertThat(asWorker.outcomes()
                            .awaitReview(run.lease(), false, "scenes", "stitching", "rendering", json("{\"clips\":2}")))
                    .isInstanceOf(Written.class);
            Job back = ((Moved) asApi.requests().requestChanges(run.id(), "rita", "darker", null, "scenes")).job();
            assertThat(back.currentStage()).isEqualTo("rendering");
            Job again = claimOne("w/1");
            asWorker.outcomes().awaitReview(again.lease(), false, "scenes", "stitching", "rendering", null);
            assertThat(((Moved) asApi.requests().approve(run.id(), "rita", null, 2, "scenes"))
                            .job()
                            .currentStage())
                    .isEqualTo("stitching");
            Job third = claimOne("w/1");
            asWorker.outcomes().awaitReview(third.lease(), false, "scenes", "stitching", "rendering", null);
            Job failed = ((Moved) asApi.requests().reject(run.id(), "rita", "no", null, "scenes")).job();
            assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
            assertThat(((Moved) asApi.requests().retry(run.id(), "sam")).job().currentStage())
                    .isEqualTo("rendering");
        }

        @Test
        void previewsAreAskedForByTheApiAndClaimedAndWrittenByWorkers() throws Exception {
            Job j = pending("video");
            assertThat(new dev.gaffer.job.PreviewStore(api.dataSource()).request(j.id()))
                    .isTrue();
            var workerPreviews = new dev.gaffer.job.PreviewStore(worker.dataSource());
            var claimed = workerPreviews
                    .claim("w/1", List.of("video"), Duration.ofSeconds(30))
                    .orElseThrow();
            Path png = Files.createTempFile("frame", ".png");
            try {
                Files.write(png, new byte[] {1, 2, 3});
                assertThat(new dev.gaffer.artifact.ArtifactStore(
                                        worker.dataSource(), dev.gaffer.artifact.ArtifactStore.DEFAULT_MAX_BYTES)
                                .putPreview(claimed.lease(), "preview-r1-scene-0.png", "image/png", png))
                        .isPresent();
            } finally {
                Files.deleteIfExists(png);
            }
            assertThat(workerPreviews.finish(claimed.lease(), json("{\"frames\":1}")))
                    .isTrue();
            assertThat(new dev.gaffer.job.PreviewStore(api.dataSource())
                            .latest(j.id())
                            .orElseThrow()
                            .status())
                    .isEqualTo("done");
        }

        @Test
        void finishedJobsAreReopenedByTheApiAndWorkersKeepTheirFilesAsRevisions() throws Exception {
            Job j = approved("video");
            Job running = claimOne("w/1");
            var files = new dev.gaffer.artifact.ArtifactStore(
                    worker.dataSource(), dev.gaffer.artifact.ArtifactStore.DEFAULT_MAX_BYTES);
            Path file = Files.createTempFile("video", ".mp4");
            try {
                Files.write(file, new byte[] {1});
                assertThat(files.put(running.lease(), "video.mp4", "video/mp4", file, 1))
                        .isInstanceOf(dev.gaffer.artifact.ArtifactStore.Stored.class);
                assertThat(asWorker.outcomes().complete(running.lease(), json("{\"v\":1}")))
                        .isInstanceOf(dev.gaffer.job.Results.Written.class);
                Job reopened = ((Moved) asApi.requests().reopen(j.id(), "tester", json("{\"cut\":2}"), 1)).job();
                assertThat(reopened.status()).isEqualTo(JobStatus.PENDING);
                assertThat(asApi.requests().approve(j.id(), "rita", null, 2)).isInstanceOf(Moved.class);
                Job again = claimOne("w/2");
                Files.write(file, new byte[] {2});
                // Keeping one revision deletes the first, under the worker's own rights.
                assertThat(files.put(again.lease(), "video.mp4", "video/mp4", file, 1))
                        .isInstanceOf(dev.gaffer.artifact.ArtifactStore.Stored.class);
                assertThat(files.revisions(j.id(), "video.mp4"))
                        .extracting(dev.gaffer.artifact.ArtifactStore.Artifact::revision)
                        .containsExactly(2);
                assertThat(asWorker.outcomes().complete(again.lease(), json("{\"v\":2}")))
                        .isInstanceOf(dev.gaffer.job.Results.Written.class);
            } finally {
                Files.deleteIfExists(file);
            }
        }

        @Test
        void workersWaitForCallbacksAndTheApiReceivesThem() {
            approved("render");
            Job running = claimOne("w/1");
            var workerSide = new dev.gaffer.job.CallbackStore(worker.dataSource());
            var apiSide = new dev.gaffer.job.CallbackStore(api.dataSource());
            java.util.UUID nonce = workerSide.issue(running.lease()).orElseThrow();
            String token = new dev.gaffer.job.CallbackTokens(worker.dataSource()).token(running.id(), nonce);
            assertThat(new dev.gaffer.job.CallbackTokens(api.dataSource()).verify(token))
                    .contains(new dev.gaffer.job.CallbackTokens.Parsed(running.id(), nonce));
            assertThat(workerSide.await(running.lease(), Duration.ofMinutes(5), Duration.ofMinutes(5), null))
                    .isEqualTo(dev.gaffer.job.CallbackStore.Waited.WAITING);
            assertThat(apiSide.receive(running.id(), nonce, json("{\"ok\":true}")))
                    .isEqualTo(dev.gaffer.job.CallbackStore.Received.ACCEPTED);
            Job resumed = claimOne("w/2");
            assertThat(workerSide.received(resumed.lease())).isPresent();
            asApi.requests().cancel(resumed.id(), "sam");
            assertThat(asApi.requests().retry(resumed.id(), "sam")).isInstanceOf(Moved.class);
        }

        @Test
        void workersClaimBeatCompleteFailReleaseAndAreReclaimed() {
            approved("noop");
            Job done = claimOne("w/1");
            assertThat(asWorker.leases()
                            .heartbeat("w/1", List.of(new LeaseStore.Beat(done.lease(), 40, "half")))
                            .held())
                    .containsExactly(done.id());
            assertThat(asWorker.outcomes()
                            .completeMany("w/1", List.of(new OutcomeStore.Completion(done.lease(), json("{}")))))
                    .containsExactly(done.id());

            approved("noop");
            Job retry = claimOne("w/1");
            assertThat(asWorker.outcomes().fail(retry.lease(), "try again", true, Duration.ZERO))
                    .isInstanceOf(Written.class);
            Job again = claimOne("w/1");
            assertThat(asWorker.leases().release("w/1", List.of(again.lease()))).containsExactly(again.id());
            Job third = claimOne("w/dead");
            fx.ageHeartbeat(third.id(), 60);
            assertThat(asWorker.reclaims().reclaimExpired(100).requeued()).isEqualTo(1);
            // Its third attempt: recovered on the last one, it fails.
            Job fourth = claimOne("w/old");
            assertThat(asWorker.reclaims()
                            .recoverPredecessors(List.of("w/old"), 100)
                            .failed())
                    .isEqualTo(1);
            assertThat(asOwner.queries().find(fourth.id()).orElseThrow().status())
                    .isEqualTo(JobStatus.FAILED);
            approved("noop");
            Job last = claimOne("w/1");
            assertThat(asWorker.outcomes().fail(last.lease(), "for good", false, Duration.ZERO))
                    .isInstanceOf(Written.class);

            // Pruning takes finished top-level jobs with their history.
            fx.exec("UPDATE jobs SET finished_at = now() - interval '1 hour' WHERE finished_at IS NOT NULL");
            assertThat(asWorker.reclaims().pruneFinished(Duration.ofMinutes(1), 100))
                    .isPositive();
        }

        @Test
        void subJobsFanInResumeFailFastAndCancelTogether() {
            approved("video");
            Job parent = claimOne("w/1");
            var spawned = (Spawned) asWorker.outcomes()
                    .waitForSubJobs(
                            parent.lease(),
                            List.of(SubJob.of("scene", params("i", 0)), SubJob.of("scene", params("i", 1))),
                            "rendering",
                            "stitching");
            Job a = claimOne("w/2");
            Job b = claimOne("w/2");
            asWorker.outcomes().complete(a.lease(), json("{\"clip\":0}"));
            asWorker.outcomes().complete(b.lease(), json("{\"clip\":1}"));
            Job resumed = claimOne("w/1");
            assertThat(resumed.id()).isEqualTo(parent.id());
            assertThat(spawned.subJobIds()).hasSize(2);
            assertThat(asWorker.outcomes()
                            .completeMany("w/1", List.of(new OutcomeStore.Completion(resumed.lease(), json("{}")))))
                    .containsExactly(parent.id());

            // Fail-fast: one scene fails for good, the parent fails, its sibling is cancelled.
            approved("video");
            Job p2 = claimOne("w/1");
            asWorker.outcomes()
                    .waitForSubJobs(
                            p2.lease(),
                            List.of(SubJob.of("scene", null), SubJob.of("scene", null)),
                            "rendering",
                            "stitching",
                            SubJobFailurePolicy.FAIL_FAST);
            Job failing = claimOne("w/2");
            asWorker.outcomes().fail(failing.lease(), "broken", false, Duration.ZERO);
            assertThat(asOwner.queries().find(p2.id()).orElseThrow().status()).isEqualTo(JobStatus.FAILED);
            assertThat(asOwner.queries().subJobs(p2.id()))
                    .extracting(Job::status)
                    .containsExactlyInAnyOrder(JobStatus.FAILED, JobStatus.CANCELLED);
            // A person retries it: only the failed and cancelled scenes run again.
            assertThat(((Moved) asApi.requests().retry(p2.id(), "carol")).job().status())
                    .isEqualTo(JobStatus.WAITING);

            // A person cancels a waiting parent while one of its scenes runs.
            Job running = claimOne("w/2");
            assertThat(asApi.requests().cancel(p2.id(), "bob")).isInstanceOf(Moved.class);
            assertThat(asOwner.queries().find(running.id()).orElseThrow().status())
                    .isEqualTo(JobStatus.CANCELLED);

            // A sub-job cancelled on its own counts towards its parent's fan-in; retried, it reopens it.
            approved("video");
            Job p3 = claimOne("w/1");
            asWorker.outcomes()
                    .waitForSubJobs(p3.lease(), List.of(SubJob.of("scene", null), SubJob.of("scene", null)), "r", "s");
            Job only = claimOne("w/2");
            assertThat(asApi.requests().cancel(only.id(), "bob")).isInstanceOf(Moved.class);
            assertThat(asApi.requests().retry(only.id(), "carol")).isInstanceOf(Moved.class);
            assertThat(asOwner.queries().find(p3.id()).orElseThrow().subjobsOpen())
                    .isEqualTo(2);
        }
    }

    @Nested
    class WhatTheyMayNotDoIsRefused {

        private void refused(Database as, String sql) {
            String before = snapshot();
            SQLException e = catchThrowableOfType(SQLException.class, () -> {
                try (Connection c = as.connection();
                        Statement st = c.createStatement()) {
                    st.execute(sql);
                }
            });
            assertThat((Throwable) e).as(sql).isNotNull();
            assertThat(e.getSQLState()).as("%s -> %s", sql, e.getMessage()).isEqualTo("42501");
            assertThat(snapshot()).as("rows after " + sql).isEqualTo(before);
        }

        private String snapshot() {
            return fx.strings("SELECT string_agg(concat_ws(',', id, status, attempt, approved_by, locked_by,"
                                    + " result::text, updated_at), ';' ORDER BY id) FROM jobs")
                            .getFirst()
                    + " | " + fx.count("SELECT count(*) FROM job_history")
                    + " | "
                    + fx.strings("SELECT concat_ws(',', count(*), string_agg(concat_ws(':', id, decision, reviewer,"
                                    + " comment), ';' ORDER BY id)) FROM job_reviews")
                            .getFirst();
        }

        @Test
        void theApiCannotFinishALeaseForgeAnApprovalOrWriteAWorkersHistory() {
            approved("noop");
            Job held = claimOne("w/1");
            Job approvedOne = approved("noop");
            Job pendingOne = pending("noop");
            refused(
                    api,
                    "UPDATE jobs SET status = 'completed', result = '{\"forged\":true}', finished_at = now(),"
                            + " finished_event_id = nextval('job_events_id_seq'), completed_by = 'w/1',"
                            + " progress_percentage = 100, locked_by = NULL, heartbeat_at = NULL,"
                            + " lease_expires_at = NULL WHERE id = " + held.id());
            refused(api, "UPDATE jobs SET approved_by = 'mallory' WHERE id = " + approvedOne.id());
            refused(
                    api,
                    "UPDATE jobs SET status = 'cancelled', finished_at = now(), finished_event_id = nextval('job_events_id_seq'),"
                            + " approved_by = NULL, approved_at = NULL"
                            + " WHERE id = " + approvedOne.id());
            refused(api, "UPDATE jobs SET locked_by = 'mallory/1' WHERE id = " + held.id());
            refused(
                    api,
                    "UPDATE jobs SET status = 'processing', locked_by = 'mallory/1', heartbeat_at = now(),"
                            + " lease_expires_at = now() + interval '1 hour', claimed_at = now(), attempt = 1 WHERE id = "
                            + approvedOne.id());
            refused(
                    api,
                    "INSERT INTO job_events (job_id, kind, status, attempt) VALUES (" + held.id()
                            + ", 'failed', 'processing', 1)");
            refused(
                    api,
                    "INSERT INTO job_events (job_id, kind, status, attempt) VALUES (" + pendingOne.id()
                            + ", 'approved', 'approved', 0)");
        }

        @Test
        void decisionsAreRecordedByTheirStatementOnlyAndNeverChanged() {
            Job pendingOne = pending("noop");
            Job approvedOne = approved("noop");
            // An approval or a rejection without its decision in the audit trail.
            refused(
                    api,
                    "UPDATE jobs SET status = 'approved', approved_by = 'mallory', approved_at = now() WHERE id = "
                            + pendingOne.id());
            refused(
                    api,
                    "UPDATE jobs SET status = 'rejected', finished_at = now(),"
                            + " finished_event_id = nextval('job_events_id_seq') WHERE id = " + pendingOne.id());
            // A decision that is not what happened to the job.
            refused(
                    api,
                    "INSERT INTO job_reviews (job_id, job_type, revision, decision, reviewer) VALUES ("
                            + pendingOne.id() + ", 'noop', 1, 'approved', 'mallory')");
            refused(
                    api,
                    "INSERT INTO job_reviews (job_id, job_type, revision, decision, reviewer, requested_by) VALUES ("
                            + approvedOne.id() + ", 'noop', 1, 'approved', 'mallory', 'tester')");
            // Approvals toward a quorum counted without a decision in the trail.
            refused(api, "UPDATE jobs SET review_approvals = 1 WHERE id = " + pendingOne.id());
            // A storyboard changed behind the reviewers' backs, or after the approval.
            refused(api, "UPDATE jobs SET storyboard = '{\"evil\":1}' WHERE id = " + pendingOne.id());
            refused(
                    api,
                    "UPDATE jobs SET storyboard = '{\"evil\":1}', storyboard_revision = 2 WHERE id = "
                            + approvedOne.id());
            // Workers cancel no pending job that its policy does not say has expired, and record
            // only expiries.
            refused(
                    worker,
                    "UPDATE jobs SET status = 'cancelled', finished_at = now(),"
                            + " finished_event_id = nextval('job_events_id_seq') WHERE id = " + pendingOne.id());
            refused(
                    api,
                    "INSERT INTO job_reviews (job_id, job_type, revision, decision, reviewer, requested_by, comment)"
                            + " VALUES (" + pendingOne.id() + ", 'noop', 1, 'expired', 'gaffer', 'tester', 'x')");
            // Workers record no decisions.
            refused(
                    worker,
                    "INSERT INTO job_reviews (job_id, job_type, revision, decision, reviewer, requested_by, comment)"
                            + " VALUES (" + pendingOne.id() + ", 'noop', 1, 'changes_requested', 'w', 'tester', 'x')");
            // Nobody changes a decision, the owner included; nobody deletes a recent one.
            refused(api, "UPDATE job_reviews SET comment = 'changed' WHERE job_id = " + approvedOne.id());
            refused(api, "DELETE FROM job_reviews WHERE job_id = " + approvedOne.id());
            refused(worker, "DELETE FROM job_reviews WHERE job_id = " + approvedOne.id());
            refused(owner, "UPDATE job_reviews SET reviewer = 'mallory' WHERE job_id = " + approvedOne.id());
            refused(owner, "DELETE FROM job_reviews WHERE job_id = " + approvedOne.id());
            refused(owner, "TRUNCATE job_reviews");
            assertThat(fx.count("SELECT count(*) FROM job_reviews WHERE job_id = " + approvedOne.id()))
                    .isEqualTo(1);
        }

        @Test
        void noRoleDecidesAGateWithoutItsDecisionNorMovesAJobToAGateOtherwise() {
            approved("video");
            Job run = asWorker.leases()
                    .claim("w/1", List.of("default"), 1, List.of())
                    .getFirst();
            asWorker.outcomes().awaitReview(run.lease(), false, "scenes", "stitching", "rendering", null);
            // A worker decides nothing; a person's statements decide with their trail row only.
            refused(worker, "UPDATE jobs SET status = 'approved', current_stage = 'stitching' WHERE id = " + run.id());
            refused(
                    api,
                    "UPDATE jobs SET status = 'failed', finished_at = now(),"
                            + " finished_event_id = nextval('job_events_id_seq'), last_error = 'quietly'"
                            + " WHERE id = " + run.id());
            refused(api, "UPDATE jobs SET status = 'approved', current_stage = 'stitching' WHERE id = " + run.id());
            // Only the lease holder's outcome stops a job at a gate.
            refused(api, "UPDATE jobs SET review_gate = 'other', gate_round = 2 WHERE id = " + run.id());
            refused(worker, "UPDATE jobs SET review_summary = '{\"forged\":1}' WHERE id = " + run.id());
            approved("noop");
            Job held = asWorker.leases()
                    .claim("w/2", List.of("default"), 1, List.of())
                    .getFirst();
            refused(worker, "UPDATE jobs SET review_gate = 'sneaky', gate_round = 1 WHERE id = " + held.id());
        }

        @Test
        void onlyTheApiReopensAFinishedJobAndOnlyAtItsPlanWithItsNextRevision() {
            Job j = approved("noop");
            Job running = claimOne("w/1");
            asWorker.outcomes().complete(running.lease(), json("{}"));
            String reopen = "UPDATE jobs SET status = 'pending', storyboard_revision = storyboard_revision + %s,"
                    + " approved_by = NULL, approved_at = NULL, attempt = 0, finished_at = NULL,"
                    + " finished_event_id = NULL, completed_by = NULL, result = NULL, progress_percentage = 0%s"
                    + " WHERE id = " + j.id();
            // A worker never reopens a job.
            refused(worker, reopen.formatted("1", ""));
            // The API only with the next revision, and not to another gate.
            refused(api, reopen.formatted("0", ""));
            refused(
                    api,
                    "UPDATE jobs SET status = 'pending', storyboard_revision = storyboard_revision + 1, attempt = 0,"
                            + " finished_at = NULL, finished_event_id = NULL, completed_by = NULL, result = NULL,"
                            + " progress_percentage = 0, review_gate = 'scenes', gate_round = 1 WHERE id = " + j.id());
        }

        @Test
        void theApiWakesAWaitingJobOnlyWithItsCallback() {
            approved("render");
            Job running = claimOne("w/1");
            new dev.gaffer.job.CallbackStore(worker.dataSource())
                    .await(running.lease(), Duration.ofMinutes(5), Duration.ofMinutes(5), null);
            refused(api, "UPDATE jobs SET run_at = now() WHERE id = " + running.id());
            refused(
                    api,
                    "INSERT INTO job_events (job_id, kind, status, attempt) VALUES (" + running.id()
                            + ", 'awaiting_callback', 'approved', 0)");
        }

        @Test
        void aWorkerCannotApproveInsertTopLevelJobsOrDeleteUnfinishedOnes() {
            Job pendingOne = pending("noop");
            Job held = asOwner.queries().find(approvedAndClaimed()).orElseThrow();
            refused(
                    worker,
                    "INSERT INTO jobs (type, status, approved_by, approved_at) VALUES ('noop', 'approved', 'alice',"
                            + " now())");
            refused(
                    worker,
                    "INSERT INTO jobs (parent_id, type, status, approved_by, approved_at) VALUES (" + held.id()
                            + ", 'noop', 'approved', 'mallory', now())");
            refused(worker, "DELETE FROM jobs WHERE id = " + pendingOne.id());
            refused(worker, "UPDATE jobs SET current_stage = 'touched' WHERE id = " + pendingOne.id());
            refused(
                    worker,
                    "INSERT INTO job_events (job_id, kind, status, attempt) VALUES (" + pendingOne.id()
                            + ", 'approved', 'pending', 0)");
            refused(worker, "UPDATE jobs SET locked_by = 'w/thief' WHERE id = " + held.id());
            Job finished = asOwner.queries().find(finishedJob()).orElseThrow();
            refused(
                    worker,
                    "UPDATE jobs SET status = 'approved', finished_at = NULL, finished_event_id = NULL, result = NULL,"
                            + " completed_by = NULL, progress_percentage = 0"
                            + " WHERE id = "
                            + finished.id());
            refused(worker, "UPDATE jobs SET result = '{\"forged\":true}' WHERE id = " + finished.id());
        }

        @Test
        void eitherRoleMustKeepAWaitingParentsCountOfOpenSubJobs() {
            approved("video");
            Job parent = claimOne("w/1");
            asWorker.outcomes().waitForSubJobs(parent.lease(), List.of(SubJob.of("scene", null)), "r", "s");
            refused(worker, "UPDATE jobs SET status = 'approved', subjobs_open = 0 WHERE id = " + parent.id());
            refused(api, "UPDATE jobs SET status = 'approved', subjobs_open = 0 WHERE id = " + parent.id());
        }

        @Test
        void theOwnerIsNotHeldToThem() {
            Job a = pending("noop");
            fx.exec("UPDATE jobs SET approved_by = 'dba', approved_at = now(), status = 'approved' WHERE id = "
                    + a.id());
            assertThat(asOwner.queries().find(a.id()).orElseThrow().approvedBy())
                    .isEqualTo("dba");
        }

        private long approvedAndClaimed() {
            approved("noop");
            return claimOne("w/1").id();
        }

        private long finishedJob() {
            approved("noop");
            Job j = claimOne("w/1");
            asWorker.outcomes().complete(j.lease(), json("{}"));
            return j.id();
        }
    }
}
