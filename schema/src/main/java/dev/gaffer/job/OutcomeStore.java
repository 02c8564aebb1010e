package dev.gaffer.job;

import static dev.gaffer.job.JobHistory.RECORD;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.db.Sql;
import dev.gaffer.job.Results.Fenced;
import dev.gaffer.job.Results.LeaseLost;
import dev.gaffer.job.Results.SpawnLeaseLost;
import dev.gaffer.job.Results.SpawnResult;
import dev.gaffer.job.Results.Spawned;
import dev.gaffer.job.Results.Written;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * How a lease ends with its handler's outcome: completed (processing → completed), failed or to be
 * retried later (→ failed, or → approved after a backoff), waiting for the sub-jobs it spawns
 * (→ waiting), or stopped at a gate for a person's decision (→ pending). Each is fenced by {@code (id, attempt, locked_by, status = 'processing')} like every
 * write of a lease holder ({@link LeaseStore}): the outcome of a lost lease changes nothing and
 * comes back as {@link LeaseLost}. A sub-job that ends does its parent's fan-in ({@link FanIn}) in
 * the same statement. Every statement's text, as PostgreSQL receives it, is in {@code
 * schema/src/test/resources/sql/OutcomeStore.*.sql}.
 */
public final class OutcomeStore {

    /** Most sub-jobs one wave may spawn; a bound on one statement's size. */
    public static final int MAX_SUBJOBS_PER_WAVE = 10_000;

    /**
     * processing → completed for many top-level jobs of one worker in one statement (one commit).
     * Each row is fenced by (id, attempt, locked_by, status = 'processing') and must have no
     * parent; the rows that do not qualify (lease lost, or a sub-job, whose completion needs the
     * fan-in of {@link #COMPLETE}) are left alone and not returned. The caller passes the ids in
     * ascending order, so that a nested loop over them, the plan PostgreSQL picks, updates the rows
     * in id order.
     *
     * <p>No separate {@code FOR UPDATE} pass: the UPDATE locks each row itself and re-checks the
     * fence on its newest version if another transaction changed it meanwhile. Found with the
     * burn-down benchmark: locking first wrote a lock record per row before the update's own.
     * The status is compared with a sub-select so that the planner cannot drive the update from
     * the partial index jobs_processing_idx (every processing row, joined to the completions in
     * a nested loop) instead of one primary-key lookup per completion: see {@link
     * LeaseStore#CLAIM_AND_COMPLETE}.
     */
    static final String COMPLETE_TOP_LEVEL =
            """
            WITH args AS (SELECT ?::text AS worker),
            outcomes AS (
                SELECT * FROM unnest(?::bigint[], ?::int[], ?::text[]) AS o(id, attempt, result)),
            done AS (
                UPDATE jobs j
                   SET status = 'completed', result = o.result::jsonb, progress_percentage = 100, %s,
                       updated_at = now(), locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL
                  FROM outcomes o
                 WHERE j.id = o.id AND j.attempt = o.attempt AND j.locked_by = (SELECT worker FROM args)
                   AND j.status = (SELECT 'processing'::job_status) AND j.parent_id IS NULL
                RETURNING j.id)
            SELECT id FROM done
            """.formatted(JobHistory.COMPLETION.formatted("(SELECT worker FROM args)"));

    /**
     * processing → completed, for one job: the row is fenced by (id, attempt, locked_by, status =
     * 'processing') and completing a sub-job does its fan-in. Written for many rows (the rows are
     * locked in id order first) but called with one: a batch of sub-jobs of several parents would
     * lock those parents in no fixed order.
     */
    static final String COMPLETE = """
            WITH args AS (SELECT ?::text AS worker),
            outcomes AS (
                SELECT * FROM unnest(?::bigint[], ?::int[], ?::text[]) AS o(id, attempt, result)),
            target AS MATERIALIZED (
                SELECT j.id, o.result FROM jobs j JOIN outcomes o ON o.id = j.id AND o.attempt = j.attempt
                 WHERE j.locked_by = (SELECT worker FROM args) AND j.status = 'processing'
                 ORDER BY j.id
                   FOR UPDATE OF j),
            done AS (
                UPDATE jobs j
                   SET status = 'completed', result = t.result::jsonb, progress_percentage = 100, %s,
                       updated_at = now(), locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL
                  FROM target t
                 WHERE j.id = t.id
                RETURNING j.*),
            finished AS (SELECT id, parent_id, status, last_error FROM done),
            %s,
            changes AS (
                %s),
            %s
            SELECT id, (SELECT count(*) FROM notified) AS notified FROM done
            """.formatted(
                    JobHistory.COMPLETION.formatted("(SELECT worker FROM args)"),
                    FanIn.of("SELECT id FROM done"),
                    FanIn.CHANGES,
                    RECORD);

    /**
     * A failure: back to approved after a backoff while attempts remain and the error is
     * retryable, otherwise failed for good (which counts toward the parent's fan-in).
     */
    static final String FAIL = """
            WITH args AS (SELECT ?::bigint AS id, ?::int AS attempt, ?::text AS worker, ?::boolean AS retryable,
                                 ?::double precision AS backoff_seconds, ?::text AS error),
            target AS MATERIALIZED (
                SELECT j.id, (args.retryable AND j.attempt < j.max_attempts) AS retry
                  FROM jobs j, args
                 WHERE j.id = args.id AND j.attempt = args.attempt AND j.locked_by = args.worker
                   AND j.status = 'processing'
                   FOR UPDATE OF j),
            failed AS (
                UPDATE jobs j
                   SET status = CASE WHEN t.retry THEN 'approved' ELSE 'failed' END::job_status,
                       run_at = CASE WHEN t.retry THEN now() + make_interval(secs => args.backoff_seconds) ELSE j.run_at END,
                       finished_at = CASE WHEN t.retry THEN NULL ELSE now() END,
                       finished_event_id = CASE WHEN t.retry THEN NULL ELSE nextval('job_events_id_seq') END,
                       last_error = args.error, locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL,
                       updated_at = now()
                  FROM target t, args
                 WHERE j.id = t.id
                RETURNING j.*),
            finished AS (SELECT id, parent_id, status, last_error FROM failed WHERE status = 'failed'),
            %s,
            changes AS (
                SELECT f.id, f.queue, CASE WHEN f.status = 'approved' THEN 'retried' ELSE 'failed' END::job_event_kind AS kind,
                       f.status, f.attempt, args.worker AS worker_id, NULL::text AS actor, f.progress_percentage,
                       f.current_stage AS stage, f.last_error AS message, f.claimed_at AS attempt_started_at,
                       f.finished_event_id AS event_id
                  FROM failed f, args
                UNION ALL
                %s),
            %s
            SELECT id, status, run_at, (SELECT count(*) FROM notified) AS notified FROM failed
            """.formatted(FanIn.of("SELECT id FROM failed"), FanIn.CHANGES, RECORD);

    /**
     * The parent gives its lease back and waits; its sub-jobs are inserted approved in the same
     * statement (only if the fence held: they are joined to the updated parent row). Waiting does
     * not use an attempt: the resume claims it again.
     */
    static final String WAIT_FOR_SUBJOBS = """
            WITH args AS (SELECT ?::bigint AS id, ?::int AS attempt, ?::text AS worker, ?::text AS fanout_stage,
                                 ?::text AS resume_stage, ?::subjob_failure_policy AS policy),
            specs AS (
                SELECT * FROM unnest(?::text[], ?::text[], ?::int[], ?::text[], ?::int[])
                       WITH ORDINALITY AS c(type, queue, priority, parameters, max_attempts, ord)),
            wave AS (SELECT count(*)::int AS n FROM specs),
            parent AS (
                UPDATE jobs j
                   SET status = 'waiting', attempt = j.attempt - 1, locked_by = NULL, heartbeat_at = NULL,
                       lease_expires_at = NULL, subjobs_total = j.subjobs_total + w.n, subjobs_open = j.subjobs_open + w.n,
                       fanout_stage = args.fanout_stage, resume_stage = args.resume_stage, on_subjob_failure = args.policy,
                       current_stage = concat_ws(' ', args.fanout_stage, j.subjobs_total || '/' || (j.subjobs_total + w.n)),
                       progress_percentage = (%2$d * j.subjobs_total) / (j.subjobs_total + w.n),
                       updated_at = now()
                  FROM args, wave w
                 WHERE j.id = args.id AND j.attempt = args.attempt AND j.locked_by = args.worker AND j.status = 'processing'
                RETURNING j.*),
            children AS (
                INSERT INTO jobs (parent_id, type, queue, priority, parameters, max_attempts, status,
                                  approved_by, approved_at)
                SELECT p.id, c.type, COALESCE(c.queue, p.queue), c.priority, c.parameters::jsonb, c.max_attempts,
                       'approved', p.approved_by, now()
                  FROM parent p
                 CROSS JOIN specs c
                 ORDER BY c.ord
                RETURNING *),
            changes AS (
                SELECT p.id, p.queue, 'waiting'::job_event_kind AS kind, p.status, p.attempt, args.worker AS worker_id,
                       NULL::text AS actor, p.progress_percentage, p.current_stage AS stage, NULL::text AS message,
                       p.claimed_at AS attempt_started_at, NULL::bigint AS event_id
                  FROM parent p, args
                UNION ALL
                SELECT id, queue, 'created', status, attempt, NULL, NULL, progress_percentage, current_stage,
                       'sub-job of ' || parent_id, NULL, NULL
                  FROM children),
            %1$s
            SELECT c.id, (SELECT count(*) FROM notified) AS notified FROM children c ORDER BY c.id
            """.formatted(RECORD, FanIn.SUBJOBS_PROGRESS_SHARE);

    /**
     * The job stops at a gate (V018): it gives its lease and its attempt back and is pending at
     * {@code gate}, for a person's decision ({@link JobRequests}), with what the reviewers look at
     * ({@code summary}), the stage an approval resumes it at and the stage a request for changes
     * sends it back to. Its next stop at a gate, with no approvals yet. Only a top-level job stops
     * at a gate (jobs_review_gate_rules); a sub-job's row is not changed, and comes back as not
     * written. Fenced like every outcome.
     */
    static final String AWAIT_REVIEW = """
            WITH args AS (SELECT ?::bigint AS id, ?::int AS attempt, ?::text AS worker, ?::text AS gate,
                                 ?::text AS resume_stage, ?::text AS redo_stage, ?::jsonb AS summary),
            gated AS (
                UPDATE jobs j
                   SET status = 'pending', attempt = j.attempt - 1, locked_by = NULL, heartbeat_at = NULL,
                       lease_expires_at = NULL, review_gate = args.gate, gate_round = j.gate_round + 1,
                       review_approvals = 0, review_summary = args.summary, resume_stage = args.resume_stage,
                       redo_stage = args.redo_stage, current_stage = 'awaiting review: ' || args.gate, updated_at = now()
                  FROM args
                 WHERE j.id = args.id AND j.attempt = args.attempt AND j.locked_by = args.worker
                   AND j.status = 'processing' AND j.parent_id IS NULL
                RETURNING j.*),
            changes AS (
                SELECT g.id, g.queue, 'awaiting_review'::job_event_kind AS kind, g.status, g.attempt,
                       args.worker AS worker_id, NULL::text AS actor, g.progress_percentage, g.current_stage AS stage,
                       'awaiting review of gate ' || g.review_gate || ' (stop ' || g.gate_round || ')' AS message,
                       g.claimed_at AS attempt_started_at, NULL::bigint AS event_id
                  FROM gated g, args),
            %s
            SELECT id, (SELECT count(*) FROM notified) AS notified FROM gated
            """.formatted(RECORD);

    private final DataSource dataSource;

    public OutcomeStore(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** processing → completed with {@code result}; may resume the parent. */
    public Fenced complete(Lease lease, JsonNode result) {
        return completeMany(lease.workerId(), List.of(new Completion(lease, result)))
                        .contains(lease.jobId())
                ? new Written(lease.jobId(), JobStatus.COMPLETED, null)
                : new LeaseLost(lease);
    }

    /** One outcome for {@link #completeMany}. */
    public record Completion(Lease lease, JsonNode result) {
        public Completion {
            Objects.requireNonNull(lease, "lease");
        }
    }

    /**
     * processing → completed for many jobs of one worker, each fenced as in {@link #complete}.
     * Returns the ids that completed; the others had lost their lease. This is the one place that
     * decides how a completion is written: top-level jobs in one statement (one commit), then
     * each sub-job in a statement of its own, with its fan-in (a batch across parents would lock
     * them in no fixed order).
     */
    public Set<Long> completeMany(String workerId, List<Completion> completions) {
        Objects.requireNonNull(workerId, "workerId");
        if (completions.isEmpty()) {
            return Set.of();
        }
        Map<Long, Completion> byId = new TreeMap<>();
        for (Completion completion : completions) {
            completion.lease().requireHeldBy(workerId);
            if (byId.put(completion.lease().jobId(), completion) != null) {
                throw new IllegalArgumentException("job " + completion.lease().jobId() + " is listed twice");
            }
        }
        Set<Long> done = new HashSet<>(complete(COMPLETE_TOP_LEVEL, workerId, List.copyOf(byId.values())));
        // The rest lost their lease or have a parent; the single statement tells which, and does
        // the fan-in of a sub-job.
        for (Completion completion : byId.values()) {
            if (!done.contains(completion.lease().jobId())) {
                done.addAll(complete(COMPLETE, workerId, List.of(completion)));
            }
        }
        if (!byId.keySet().containsAll(done)) {
            throw new IllegalStateException("completing " + byId.keySet() + " changed jobs " + done);
        }
        return Set.copyOf(done);
    }

    /** Runs a completion statement ({@link #COMPLETE} or {@link #COMPLETE_TOP_LEVEL}); returns the ids it completed. */
    private List<Long> complete(String sql, String workerId, List<Completion> completions) {
        int n = completions.size();
        Long[] ids = new Long[n];
        Integer[] attempts = new Integer[n];
        String[] results = new String[n];
        for (int i = 0; i < n; i++) {
            Lease l = completions.get(i).lease();
            ids[i] = l.jobId();
            attempts[i] = l.attempt();
            results[i] = Json.write(completions.get(i).result());
        }
        List<Long> done = Sql.query(
                dataSource,
                "complete " + n + " job(s) of " + workerId,
                sql,
                ps -> {
                    ps.setString(1, workerId);
                    Sql.setArray(ps, 2, "bigint", ids);
                    Sql.setArray(ps, 3, "int4", attempts);
                    Sql.setArray(ps, 4, "text", results);
                },
                rs -> rs.getLong("id"));
        if (new HashSet<>(done).size() != done.size()) {
            throw new IllegalStateException("completing " + List.of(ids) + " changed a job twice: " + done);
        }
        return done;
    }

    /**
     * processing → approved after {@code backoff} when {@code retryable} and attempts remain,
     * else → failed (which may resume the parent).
     */
    public Fenced fail(Lease lease, String error, boolean retryable, Duration backoff) {
        Objects.requireNonNull(error, "error");
        double seconds = backoff == null ? 0 : backoff.toNanos() / 1e9;
        if (seconds < 0) {
            throw new IllegalArgumentException("backoff must not be negative: " + backoff);
        }
        List<Written> rows = Sql.query(
                dataSource,
                "fail job " + lease.jobId(),
                FAIL,
                ps -> {
                    bindFence(ps, lease);
                    ps.setBoolean(4, retryable);
                    ps.setDouble(5, seconds);
                    ps.setString(6, error);
                },
                rs -> new Written(
                        rs.getLong("id"), JobStatus.fromDb(rs.getString("status")), Sql.instant(rs, "run_at")));
        return switch (rows.size()) {
            case 0 -> new LeaseLost(lease);
            case 1 -> rows.getFirst();
            default ->
                throw new IllegalStateException("failing job " + lease.jobId() + " changed " + rows.size() + " rows");
        };
    }

    /**
     * processing → waiting, with {@code subJobs} inserted approved, in one statement. When the
     * last of them finishes the job becomes claimable again and resumes at {@code resumeStage}.
     * {@code fanoutStage} labels the wait (current_stage shows it with finished/total).
     */
    public SpawnResult waitForSubJobs(Lease lease, List<SubJob> subJobs, String fanoutStage, String resumeStage) {
        return waitForSubJobs(lease, subJobs, fanoutStage, resumeStage, SubJobFailurePolicy.WAIT_ALL);
    }

    /** As {@link #waitForSubJobs(Lease, List, String, String)}, with the parent's failure policy. */
    public SpawnResult waitForSubJobs(
            Lease lease, List<SubJob> subJobs, String fanoutStage, String resumeStage, SubJobFailurePolicy policy) {
        if (subJobs.isEmpty() || subJobs.size() > MAX_SUBJOBS_PER_WAVE) {
            throw new IllegalArgumentException(
                    "a wave has 1 to " + MAX_SUBJOBS_PER_WAVE + " sub-jobs, got " + subJobs.size());
        }
        Objects.requireNonNull(resumeStage, "resumeStage");
        Objects.requireNonNull(policy, "policy");
        List<Long> ids = Sql.query(
                dataSource,
                "spawn sub-jobs of job " + lease.jobId(),
                WAIT_FOR_SUBJOBS,
                ps -> {
                    bindFence(ps, lease);
                    ps.setString(4, fanoutStage);
                    ps.setString(5, resumeStage);
                    ps.setString(6, policy.dbName());
                    Sql.setArray(
                            ps, 7, "text", subJobs.stream().map(SubJob::type).toArray());
                    Sql.setArray(
                            ps, 8, "text", subJobs.stream().map(SubJob::queue).toArray());
                    Sql.setArray(
                            ps,
                            9,
                            "int4",
                            subJobs.stream().map(SubJob::priority).toArray());
                    Sql.setArray(
                            ps,
                            10,
                            "text",
                            subJobs.stream()
                                    .map(x -> Json.write(x.parameters()))
                                    .toArray());
                    Sql.setArray(
                            ps,
                            11,
                            "int4",
                            subJobs.stream().map(SubJob::maxAttempts).toArray());
                },
                rs -> rs.getLong("id"));
        if (ids.isEmpty()) {
            return new SpawnLeaseLost(lease);
        }
        if (ids.size() != subJobs.size()) {
            throw new IllegalStateException(
                    "spawned " + ids.size() + " sub-jobs of " + subJobs.size() + " for job " + lease.jobId());
        }
        return new Spawned(List.copyOf(ids));
    }

    /**
     * processing → pending at {@code gate} ({@link #AWAIT_REVIEW}): the job waits for a person's
     * decision, holding no lease. {@code summary} (any JSON, may be null) is what the reviewers
     * look at. A sub-job may not stop at a gate: {@link IllegalArgumentException}.
     */
    public Fenced awaitReview(
            Lease lease, boolean subJob, String gate, String resumeStage, String redoStage, JsonNode summary) {
        Objects.requireNonNull(gate, "gate");
        Objects.requireNonNull(resumeStage, "resumeStage");
        if (subJob) {
            throw new IllegalArgumentException("job " + lease.jobId()
                    + " is a sub-job, and only a top-level job stops at a gate: its parent is what a person reviews");
        }
        int rows = Sql.query(
                        dataSource,
                        "job " + lease.jobId() + " awaits review of gate " + gate,
                        AWAIT_REVIEW,
                        ps -> {
                            bindFence(ps, lease);
                            ps.setString(4, gate);
                            ps.setString(5, resumeStage);
                            ps.setString(6, redoStage);
                            ps.setString(7, summary == null || summary.isNull() ? null : Json.write(summary));
                        },
                        rs -> rs.getLong("id"))
                .size();
        return switch (rows) {
            case 0 -> new LeaseLost(lease);
            case 1 -> new Written(lease.jobId(), JobStatus.PENDING, null);
            default -> throw new IllegalStateException("gating job " + lease.jobId() + " changed " + rows + " rows");
        };
    }

    /** The fence of the {@code args} CTE of {@link #FAIL} and {@link #WAIT_FOR_SUBJOBS}: parameters 1 to 3. */
    private static void bindFence(PreparedStatement ps, Lease lease) throws SQLException {
        ps.setLong(1, lease.jobId());
        ps.setInt(2, lease.attempt());
        ps.setString(3, lease.workerId());
    }
}
