package dev.gaffer.job;

import static dev.gaffer.job.JobHistory.RECORD;
import static dev.gaffer.job.JobRows.COLUMNS;

import dev.gaffer.db.Sql;
import dev.gaffer.job.Results.AlreadyExists;
import dev.gaffer.job.Results.CreateResult;
import dev.gaffer.job.Results.Created;
import dev.gaffer.job.Results.IdempotencyConflict;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.NotFound;
import dev.gaffer.job.Results.Refused;
import dev.gaffer.job.Results.StaleRevision;
import dev.gaffer.job.Results.Transition;
import dev.gaffer.job.Results.WrongState;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The transitions people ask for, through the API: create (→ pending), the decisions on a
 * pending job's plan (approve → approved, reject → rejected, request changes: stays pending) or on
 * a gate it stopped at later (approve → approved at its resume stage, reject → failed, request
 * changes → approved at its redo stage), each recorded in the audit trail job_reviews, revise (a pending job's storyboard, to its next
 * revision), cancel (an unfinished job and its tree → cancelled), retry (failed or cancelled →
 * approved or waiting, with a fresh budget of attempts).
 *
 * <p>Each is one statement: a chain of CTEs that changes the rows, appends their {@code
 * job_events} and sends the NOTIFY hints ({@link JobHistory}). Each names the state it expects;
 * when the row is in another state the caller gets a typed answer ({@link Results}), never a
 * silent success. Every statement's text, as PostgreSQL receives it, is in {@code
 * schema/src/test/resources/sql/JobRequests.*.sql}.
 */
public final class JobRequests {

    private static final String UNFINISHED = "('pending', 'approved', 'processing', 'waiting')";

    /** The row of a job just created: {@link CreateCall}'s function returns its id only. */
    static final String FIND = "SELECT " + COLUMNS + " FROM jobs WHERE id = ?";

    /**
     * The arguments of a decision on a pending job's review: the job, the reviewer, the comment
     * (the reason, for a rejection), the revision the reviewer decided on and the gate (each NULL:
     * whichever is current).
     */
    private static final String DECISION_ARGS = "args AS (SELECT ?::bigint AS id, ?::text AS actor, ?::text AS comment,"
            + " ?::int AS revision, ?::text AS gate)";

    /**
     * The revision under review of the job row {@code %s}: at the plan its storyboard's, at a
     * later gate its stop at a gate (V018). What job_reviews.revision records.
     */
    static final String REVISION =
            "CASE WHEN %1$s.review_gate = 'plan' THEN %1$s.storyboard_revision ELSE %1$s.gate_round END";

    /** The pending job a decision applies to, in {@code UPDATE jobs j … FROM args}. */
    private static final String DECIDABLE = """
            j.id = args.id AND j.status = 'pending' AND (args.gate IS NULL OR j.review_gate = args.gate)
               AND (args.revision IS NULL OR %s = args.revision)""".formatted(REVISION.formatted("j"));

    /** Whether the job row {@code j} waits at a gate after its plan (V018). */
    private static final String AT_GATE = "j.review_gate <> 'plan'";

    /**
     * The decision's row in the audit trail ({@code job_reviews}, V013), written by the statement
     * that makes the decision, so that one commits exactly when the other does: one row per row of
     * {@code decided} (the job as the decision left it), with the decision {@code %s}.
     */
    private static final String REVIEWED = """
            reviewed AS (
                INSERT INTO job_reviews (job_id, job_type, gate, revision, decision, reviewer, requested_by, comment)
                SELECT d.id, d.type, d.review_gate, %s, '%%s', args.actor, d.created_by, args.comment
                  FROM decided d, args
                RETURNING id)""".formatted(REVISION.formatted("d"));

    /**
     * The decision's event: one job_events row per row of {@code decided}, of kind {@code %1$s},
     * by the reviewer, with the message {@code %2$s} and the event id {@code %3$s} (SQL
     * expressions over {@code d}, the decided job, and {@code args}).
     */
    private static final String DECISION_EVENT = """
            changes AS (
                SELECT d.id, d.queue, '%1$s'::job_event_kind AS kind, d.status, d.attempt, NULL::text AS worker_id,
                       args.actor, d.progress_percentage, d.current_stage AS stage, %2$s AS message,
                       NULL::timestamptz AS attempt_started_at, %3$s AS event_id
                  FROM decided d, args)""";

    /** An approval's message: its comment, after how far the quorum is while the job stays pending. */
    private static final String APPROVAL_MESSAGE =
            "CASE WHEN d.status = 'pending' THEN concat_ws(': ', 'approval ' || d.review_approvals || ' of '"
                    + " || (SELECT quorum FROM policy), args.comment) ELSE args.comment END";

    /**
     * pending → approved, once the gate's quorum of approvals is reached. At the plan the approval
     * records who approved in the job's row; at a later gate the job keeps its plan's approver and
     * resumes at its resume stage. Either way the reviewer, the optional comment and the revision
     * approved go to job_reviews.
     */
    static final String APPROVE = """
            WITH %1$s,
            policy AS (
                SELECT COALESCE((SELECT p.quorum FROM review_policies p JOIN jobs j ON p.job_type = j.type
                                  WHERE j.id = args.id AND p.gate = j.review_gate), 1) AS quorum
                  FROM args),
            decided AS (
                UPDATE jobs j
                   SET review_approvals = j.review_approvals + 1,
                       status = CASE WHEN j.review_approvals + 1 >= policy.quorum THEN 'approved' ELSE 'pending' END::job_status,
                       approved_by = CASE WHEN %6$s THEN j.approved_by
                                          WHEN j.review_approvals + 1 >= policy.quorum THEN args.actor END,
                       approved_at = CASE WHEN %6$s THEN j.approved_at
                                          WHEN j.review_approvals + 1 >= policy.quorum THEN now() END,
                       current_stage = CASE WHEN %6$s AND j.review_approvals + 1 >= policy.quorum THEN j.resume_stage
                                            ELSE j.current_stage END,
                       updated_at = now()
                  FROM args, policy
                 WHERE %2$s
                RETURNING j.*),
            %3$s,
            %4$s,
            %5$s
            SELECT %7$s, (SELECT count(*) FROM notified) AS notified FROM decided
            """.formatted(
                    DECISION_ARGS,
                    DECIDABLE,
                    REVIEWED.formatted("approved"),
                    DECISION_EVENT.formatted("approved", APPROVAL_MESSAGE, "NULL::bigint"),
                    RECORD,
                    AT_GATE,
                    COLUMNS);

    /**
     * At the plan, pending → rejected, terminal: the job never runs. At a later gate, pending →
     * failed with the reason as its error: the job was approved and has run, and a person may
     * retry it, which runs it again from the redo stage (it becomes the resume stage here), so
     * that what was turned down is made again and reviewed again. The reason is the review's
     * comment and the message of the rejected event, which is the job's finishing event (V011).
     */
    static final String REJECT = """
            WITH %s,
            decided AS (
                UPDATE jobs j
                   SET status = CASE WHEN %s THEN 'failed' ELSE 'rejected' END::job_status, finished_at = now(),
                       finished_event_id = nextval('job_events_id_seq'),
                       last_error = CASE WHEN %2$s THEN 'rejected at review of gate ' || j.review_gate || ' by '
                                                        || args.actor || ': ' || args.comment
                                         ELSE j.last_error END,
                       resume_stage = CASE WHEN %2$s THEN j.redo_stage ELSE j.resume_stage END,
                       updated_at = now()
                  FROM args
                 WHERE %s
                RETURNING j.*),
            %s,
            %s,
            %s
            SELECT %s, (SELECT count(*) FROM notified) AS notified FROM decided
            """.formatted(
                    DECISION_ARGS,
                    AT_GATE,
                    DECIDABLE,
                    REVIEWED.formatted("rejected"),
                    DECISION_EVENT.formatted("rejected", "args.comment", "d.finished_event_id"),
                    RECORD,
                    COLUMNS);

    /**
     * At the plan, pending stays pending, with the reviewer's comment in job_reviews and in the
     * changes_requested event; its submitter answers with a revision ({@link #REVISE}). The row
     * is updated ({@code updated_at}) so that the decision holds the job's lock and sees the
     * state and revision that a concurrent approval or revision would change. At a later gate,
     * pending → approved at the redo stage: the job goes back to the stage that produces what was
     * reviewed, and stops at the gate again when it is done.
     */
    static final String REQUEST_CHANGES = """
            WITH %s,
            decided AS (
                UPDATE jobs j
                   SET status = CASE WHEN %s THEN 'approved' ELSE 'pending' END::job_status,
                       current_stage = CASE WHEN %2$s THEN j.redo_stage ELSE j.current_stage END, updated_at = now()
                  FROM args
                 WHERE %s
                RETURNING j.*),
            %s,
            %s,
            %s
            SELECT %s, (SELECT count(*) FROM notified) AS notified FROM decided
            """.formatted(
                    DECISION_ARGS,
                    AT_GATE,
                    DECIDABLE,
                    REVIEWED.formatted("changes_requested"),
                    DECISION_EVENT.formatted("changes_requested", "args.comment", "NULL::bigint"),
                    RECORD,
                    COLUMNS);

    /**
     * A pending job's storyboard replaced by its submitter: the next revision, which asks for
     * review again (a request for changes was about the revision before). Only from the revision
     * the caller names, so that a revision made from a stale copy changes nothing. The storyboard
     * it replaces is kept in job_storyboards (V022), so that a reviewer sees what changed.
     */
    static final String REVISE = """
            WITH args AS (SELECT ?::bigint AS id, ?::text AS actor, ?::jsonb AS storyboard, ?::int AS revision),
            prior AS MATERIALIZED (
                SELECT j.id, j.storyboard, j.storyboard_revision FROM jobs j, args
                 WHERE j.id = args.id AND j.status = 'pending' AND j.review_gate = 'plan'
                   AND j.storyboard_revision = args.revision
                   FOR UPDATE OF j),
            revised AS (
                UPDATE jobs j SET storyboard = args.storyboard, storyboard_revision = j.storyboard_revision + 1,
                       review_approvals = 0, updated_at = now()
                  FROM args, prior p
                 WHERE j.id = p.id
                RETURNING j.*),
            kept AS (
                INSERT INTO job_storyboards (job_id, revision, storyboard, replaced_by)
                SELECT p.id, p.storyboard_revision, p.storyboard, args.actor
                  FROM prior p JOIN revised r ON r.id = p.id, args
                RETURNING job_id),
            changes AS (
                SELECT r.id, r.queue, 'revised'::job_event_kind AS kind, r.status, r.attempt, NULL::text AS worker_id,
                       args.actor, r.progress_percentage, r.current_stage AS stage,
                       'storyboard revision ' || r.storyboard_revision AS message,
                       NULL::timestamptz AS attempt_started_at, NULL::bigint AS event_id
                  FROM revised r, args),
            %s
            SELECT %s, (SELECT count(*) FROM notified) AS notified, (SELECT count(*) FROM kept) AS kept FROM revised
            """.formatted(RECORD, COLUMNS);

    /**
     * A finished top-level job (completed, failed or cancelled) edited by its submitter: its next
     * storyboard revision, pending at its plan again as before it first ran, so that the change is
     * reviewed and then run (V024). Only from the revision the caller names. The replaced
     * storyboard is kept in job_storyboards with how that revision ended and its result; its
     * sub-jobs and files stay, so that the next run reuses what did not change.
     */
    static final String REOPEN = """
            WITH args AS (SELECT ?::bigint AS id, ?::text AS actor, ?::jsonb AS storyboard, ?::int AS revision),
            prior AS MATERIALIZED (
                SELECT j.id, j.storyboard, j.storyboard_revision, j.status, j.result FROM jobs j, args
                 WHERE j.id = args.id AND j.parent_id IS NULL AND j.status IN ('completed', 'failed', 'cancelled')
                   AND j.storyboard_revision = args.revision
                   FOR UPDATE OF j),
            revised AS (
                UPDATE jobs j
                   SET storyboard = args.storyboard, storyboard_revision = j.storyboard_revision + 1,
                       status = 'pending', review_gate = 'plan', review_summary = NULL,
                       redo_stage = NULL, review_approvals = 0, approved_by = NULL, approved_at = NULL,
                       attempt = 0, run_at = now(), finished_at = NULL, finished_event_id = NULL,
                       completed_by = NULL, result = NULL, progress_percentage = 0, current_stage = NULL,
                       subjobs_total = 0, subjobs_open = 0, updated_at = now()
                  FROM args, prior p
                 WHERE j.id = p.id
                RETURNING j.*),
            unwaited AS (DELETE FROM job_callbacks c USING revised r WHERE c.job_id = r.id RETURNING c.job_id),
            kept AS (
                INSERT INTO job_storyboards (job_id, revision, storyboard, replaced_by, ended_as, result)
                SELECT p.id, p.storyboard_revision, p.storyboard, args.actor, p.status, p.result
                  FROM prior p JOIN revised r ON r.id = p.id, args
                RETURNING job_id),
            changes AS (
                SELECT r.id, r.queue, 'revised'::job_event_kind AS kind, r.status, r.attempt, NULL::text AS worker_id,
                       args.actor, r.progress_percentage, r.current_stage AS stage,
                       'storyboard revision ' || r.storyboard_revision || ', after revision ' || p.storyboard_revision
                           || ' ' || p.status || '; awaiting review' AS message,
                       NULL::timestamptz AS attempt_started_at, NULL::bigint AS event_id
                  FROM revised r JOIN prior p ON p.id = r.id, args),
            %s
            SELECT %s, (SELECT count(*) FROM notified) AS notified, (SELECT count(*) FROM kept) AS kept,
                   (SELECT count(*) FROM unwaited) AS unwaited
              FROM revised
            """.formatted(RECORD, COLUMNS);

    /**
     * Cancels a job and, with it, every unfinished job below it. A processing job loses its
     * lease here; its worker learns it at the next heartbeat and interrupts the handler. A
     * cancelled sub-job counts toward its parent's fan-in ({@link FanIn}).
     *
     * <p>The tree is locked deepest first, before anything is written: a sub-job that finishes
     * locks itself and then its parent (fan-in), so taking the locks in that same order means
     * the two never wait on each other in a cycle. A sub-job that finished while we waited for
     * its lock is re-checked (FOR UPDATE re-reads the row) and drops out.
     */
    static final String CANCEL =
            """
            WITH RECURSIVE args AS (SELECT ?::bigint AS id, ?::text AS actor),
            tree AS (
                SELECT j.id, 0 AS depth FROM jobs j, args WHERE j.id = args.id AND j.status IN %1$s
                UNION ALL
                SELECT c.id, t.depth + 1 FROM jobs c JOIN tree t ON c.parent_id = t.id WHERE c.status IN %1$s),
            locked AS MATERIALIZED (
                SELECT j.id, j.locked_by AS holder, j.claimed_at AS holder_since FROM jobs j JOIN tree t ON t.id = j.id
                 WHERE j.status IN %1$s
                 ORDER BY t.depth DESC, j.id
                   FOR UPDATE OF j),
            cancelled AS (
                UPDATE jobs j
                   SET status = 'cancelled', finished_at = now(), finished_event_id = nextval('job_events_id_seq'),
                       updated_at = now(), locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL,
                       subjobs_open = 0
                  FROM locked l
                 WHERE j.id = l.id AND j.status IN %1$s
                RETURNING j.*),
            finished AS (SELECT id, parent_id, status, last_error FROM cancelled),
            %2$s,
            changes AS (
                SELECT c.id, c.queue, 'cancelled'::job_event_kind AS kind, c.status, c.attempt, l.holder AS worker_id,
                       args.actor, c.progress_percentage, c.current_stage AS stage,
                       CASE WHEN c.id = args.id THEN NULL ELSE 'cancelled with job ' || args.id END AS message,
                       CASE WHEN l.holder IS NOT NULL THEN l.holder_since END AS attempt_started_at,
                       c.finished_event_id AS event_id
                  FROM cancelled c JOIN locked l ON l.id = c.id, args
                UNION ALL
                %3$s),
            %4$s
            SELECT %5$s, (SELECT count(*) FROM notified) AS notified FROM cancelled WHERE id = (SELECT id FROM args)
            """.formatted(UNFINISHED, FanIn.of("SELECT id FROM cancelled"), FanIn.CHANGES, RECORD, COLUMNS);

    /**
     * A failed or cancelled job starts again with a fresh budget of attempts, and reruns only
     * what failed: its failed or cancelled sub-jobs go back to approved and it waits for them
     * (completed ones keep their results); with none to rerun it resumes at its resume stage, or
     * starts over when it never fanned out. A sub-job can be retried only while its parent still
     * waits (the parent is locked first so that it cannot resume in between); the parent then
     * waits for it again.
     */
    static final String RETRY = """
            WITH args AS (SELECT ?::bigint AS id, ?::text AS actor),
            parent AS MATERIALIZED (
                SELECT p.id FROM jobs p
                 WHERE p.id = (SELECT j.parent_id FROM jobs j, args WHERE j.id = args.id) AND p.status = 'waiting'
                   FOR UPDATE),
            target AS MATERIALIZED (
                SELECT j.id FROM jobs j
                 WHERE j.id = (SELECT id FROM args) AND j.status IN ('failed', 'cancelled')
                   AND (j.parent_id IS NULL OR j.parent_id IN (SELECT id FROM parent))
                   FOR UPDATE),
            rerun AS (
                UPDATE jobs c
                   SET status = 'approved', attempt = 0, run_at = now(), finished_at = NULL, finished_event_id = NULL,
                       result = NULL, progress_percentage = 0, current_stage = NULL, updated_at = now()
                  FROM target t
                 WHERE c.parent_id = t.id AND c.status IN ('failed', 'cancelled')
                RETURNING c.*),
            rerun_count AS (SELECT count(*)::int AS n FROM rerun),
            -- A retry starts over: a wait for a callback of the failed attempt ends (V026).
            unwaited AS (DELETE FROM job_callbacks c USING target t WHERE c.job_id = t.id RETURNING c.job_id),
            retried AS (
                UPDATE jobs j
                   SET status = CASE WHEN r.n > 0 THEN 'waiting' ELSE 'approved' END::job_status,
                       subjobs_open = r.n, attempt = 0, run_at = now(), finished_at = NULL, finished_event_id = NULL,
                       result = NULL,
                       current_stage = CASE WHEN r.n > 0
                                            THEN concat_ws(' ', j.fanout_stage, (j.subjobs_total - r.n) || '/' || j.subjobs_total)
                                            ELSE j.resume_stage END,
                       progress_percentage = CASE WHEN r.n > 0 THEN (%3$d * (j.subjobs_total - r.n)) / j.subjobs_total ELSE 0 END,
                       approved_by = COALESCE(j.approved_by, args.actor), approved_at = COALESCE(j.approved_at, now()),
                       updated_at = now()
                  FROM target t, rerun_count r, args
                 WHERE j.id = t.id
                RETURNING j.*),
            reopened AS (
                UPDATE jobs p SET subjobs_open = p.subjobs_open + 1, updated_at = now()
                  FROM retried r
                 WHERE p.id = r.parent_id
                RETURNING p.id),
            changes AS (
                SELECT r.id, r.queue, 'retried'::job_event_kind AS kind, r.status, r.attempt, NULL::text AS worker_id,
                       args.actor, r.progress_percentage, r.current_stage AS stage, 'retried by a person' AS message,
                       NULL::timestamptz AS attempt_started_at, NULL::bigint AS event_id
                  FROM retried r, args
                UNION ALL
                SELECT id, queue, 'retried', status, attempt, NULL, NULL, progress_percentage, current_stage,
                       'rerun with job ' || parent_id, NULL, NULL
                  FROM rerun),
            %1$s
            SELECT %2$s, (SELECT count(*) FROM notified) AS notified, (SELECT count(*) FROM reopened) AS reopened,
                   (SELECT count(*) FROM unwaited) AS unwaited
              FROM retried
            """.formatted(RECORD, COLUMNS, FanIn.SUBJOBS_PROGRESS_SHARE);

    static final String STATUS_OF =
            "SELECT status, review_gate, %s AS revision, storyboard_revision FROM jobs j WHERE id = ?"
                    .formatted(REVISION.formatted("j"));

    private final DataSource dataSource;

    public JobRequests(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Inserts a pending job. With an idempotency key that already exists, nothing is inserted:
     * the existing job comes back, or a conflict when it was created with another type or other
     * parameters. Concurrent creates with one key insert exactly one row: ON CONFLICT waits for
     * the first insert to commit and then does nothing.
     */
    public CreateResult create(NewJob job) {
        Objects.requireNonNull(job, "job");
        List<CreateCall.Row> created = Sql.query(
                dataSource,
                "create job",
                CreateCall.SQL,
                ps -> CreateCall.bind(ps, List.of(job), Collections.singletonList(null)),
                CreateCall::row);
        if (created.size() != 1) {
            throw new IllegalStateException("creating one job returned " + created.size() + " rows");
        }
        CreateCall.Row one = created.getFirst();
        // Read in a statement of its own: the rows a function inserts are not visible to the query
        // that called it.
        Job row = Sql.query(dataSource, "read job " + one.jobId(), FIND, ps -> ps.setLong(1, one.jobId()), JobRows::job)
                .stream()
                .findFirst()
                .orElseThrow(
                        () -> new IllegalStateException("job " + one.jobId() + " vanished right after its create"));
        return switch (one.outcome()) {
            case "created" -> new Created(row);
            case "exists" -> new AlreadyExists(row);
            case "conflict" -> new IdempotencyConflict(row);
            default -> throw new IllegalStateException("unknown outcome " + one.outcome());
        };
    }

    /** pending → approved, recording who approved. Concurrent approvals: exactly one moves it. */
    public Transition approve(long id, String approvedBy) {
        return approve(id, approvedBy, null, null);
    }

    /**
     * pending → approved, recording who approved, with an optional comment, in the job's row and
     * in job_reviews. With {@code revision}, only while the storyboard is still that revision
     * ({@link StaleRevision} otherwise). Concurrent decisions: exactly one moves it.
     */
    public Transition approve(long id, String approvedBy, String comment, Integer revision) {
        return approve(id, approvedBy, comment, revision, null);
    }

    /**
     * As {@link #approve(long, String, String, Integer)}, deciding only the review of {@code gate}
     * (null: whichever is open). At a gate after the plan, the job resumes at its resume stage.
     */
    public Transition approve(long id, String approvedBy, String comment, Integer revision, String gate) {
        return decide(
                id, "approve", APPROVE, approvedBy, comment, revision, gate, "only a pending job can be approved");
    }

    /**
     * pending → rejected (terminal, never retried), with the reviewer's reason, which is required.
     * With {@code revision}, only while the storyboard is still that revision.
     */
    public Transition reject(long id, String rejectedBy, String reason, Integer revision) {
        return reject(id, rejectedBy, reason, revision, null);
    }

    /**
     * As {@link #reject(long, String, String, Integer)}, deciding only the review of {@code gate}
     * (null: whichever is open). At a gate after the plan the job fails, with the reason as its error.
     */
    public Transition reject(long id, String rejectedBy, String reason, Integer revision, String gate) {
        requireText(reason, "a rejection needs a reason");
        return decide(id, "reject", REJECT, rejectedBy, reason, revision, gate, "only a pending job can be rejected");
    }

    /**
     * A pending job stays pending, with the reviewer's comment (required) on the revision it was
     * about; its submitter revises the storyboard ({@link #revise}) to ask for review again.
     */
    public Transition requestChanges(long id, String reviewer, String comment, Integer revision) {
        return requestChanges(id, reviewer, comment, revision, null);
    }

    /**
     * As {@link #requestChanges(long, String, String, Integer)}, deciding only the review of {@code
     * gate} (null: whichever is open). At a gate after the plan the job runs again from its redo stage.
     */
    public Transition requestChanges(long id, String reviewer, String comment, Integer revision, String gate) {
        requireText(comment, "a request for changes needs a comment");
        return decide(
                id,
                "request changes to",
                REQUEST_CHANGES,
                reviewer,
                comment,
                revision,
                gate,
                "changes can be requested only while a job is pending");
    }

    /**
     * Replaces a pending job's storyboard, from {@code revision} (the current one, or {@link
     * StaleRevision} and nothing changes) to the next. The caller has validated it.
     */
    public Transition revise(
            long id, String revisedBy, com.fasterxml.jackson.databind.JsonNode storyboard, int revision) {
        Objects.requireNonNull(revisedBy, "revisedBy");
        Objects.requireNonNull(storyboard, "storyboard");
        List<Job> rows = revision(REVISE, "revise the storyboard of job " + id, id, revisedBy, storyboard, revision);
        return rows.isEmpty()
                ? notMoved(id, revision, PLAN, "only the storyboard of a pending job can be revised")
                : new Moved(rows.getFirst());
    }

    /**
     * A finished top-level job's next storyboard revision, from {@code revision} (the current one,
     * or {@link StaleRevision} and nothing changes): pending at its plan, to be reviewed and run
     * again ({@link #REOPEN}). The caller has validated the storyboard.
     */
    public Transition reopen(
            long id, String revisedBy, com.fasterxml.jackson.databind.JsonNode storyboard, int revision) {
        Objects.requireNonNull(revisedBy, "revisedBy");
        Objects.requireNonNull(storyboard, "storyboard");
        List<Job> rows = revision(REOPEN, "reopen job " + id, id, revisedBy, storyboard, revision);
        if (!rows.isEmpty()) {
            return new Moved(rows.getFirst());
        }
        List<State> found = state(id);
        if (found.isEmpty()) {
            return new NotFound(id);
        }
        State state = found.getFirst();
        if (state.status().isTerminal()
                && state.status() != JobStatus.REJECTED
                && state.storyboardRevision() != revision) {
            return new StaleRevision(id, state.storyboardRevision());
        }
        return new WrongState(
                id,
                state.status(),
                "only a completed, failed or cancelled top-level job can be edited into a new revision");
    }

    private List<Job> revision(
            String sql,
            String what,
            long id,
            String actor,
            com.fasterxml.jackson.databind.JsonNode storyboard,
            int revision) {
        return Sql.query(
                dataSource,
                what,
                sql,
                ps -> {
                    ps.setLong(1, id);
                    ps.setString(2, actor);
                    ps.setString(3, Json.write(storyboard));
                    ps.setInt(4, revision);
                },
                JobRows::job);
    }

    /** The gate of the first review, of a job's plan (its storyboard), before it first runs. */
    public static final String PLAN = "plan";

    private Transition decide(
            long id,
            String verb,
            String sql,
            String actor,
            String comment,
            Integer revision,
            String gate,
            String reason) {
        Objects.requireNonNull(actor, "actor");
        if (comment != null && comment.length() > MAX_COMMENT) {
            throw new IllegalArgumentException(
                    "a comment may have at most " + MAX_COMMENT + " characters, got " + comment.length());
        }
        if (revision != null && revision < 1) {
            throw new IllegalArgumentException("a storyboard revision is 1 or more, got " + revision);
        }
        List<Job> rows;
        try {
            rows = Sql.query(
                    dataSource,
                    verb + " job " + id,
                    sql,
                    ps -> {
                        ps.setLong(1, id);
                        ps.setString(2, actor);
                        ps.setString(3, comment);
                        if (revision == null) {
                            ps.setNull(4, java.sql.Types.INTEGER);
                        } else {
                            ps.setInt(4, revision);
                        }
                        ps.setString(5, gate);
                    },
                    JobRows::job);
        } catch (dev.gaffer.db.DatabaseException e) {
            if (e.getCause() instanceof java.sql.SQLException s && INSUFFICIENT_PRIVILEGE.equals(s.getSQLState())) {
                return new Refused(id, refusal(s));
            }
            if (e.isUniqueViolation()) {
                return new Refused(
                        id,
                        actor + " has already approved this revision of job " + id
                                + "; a quorum counts distinct reviewers");
            }
            throw e;
        }
        return rows.isEmpty() ? notMoved(id, revision, gate, reason) : new Moved(rows.getFirst());
    }

    /** SQLSTATE of a refusal by a review policy (V015) or a transition guard (roles.sql). */
    private static final String INSUFFICIENT_PRIVILEGE = "42501";

    /** PostgreSQL's message of a refusal, without its "ERROR: " and with its hint. */
    private static String refusal(java.sql.SQLException e) {
        if (e instanceof org.postgresql.util.PSQLException p && p.getServerErrorMessage() != null) {
            var m = p.getServerErrorMessage();
            return m.getMessage() + (m.getHint() == null ? "" : ". " + m.getHint());
        }
        return e.getMessage();
    }

    /** The longest comment a decision may carry (job_reviews_comment_length). */
    public static final int MAX_COMMENT = 10_000;

    private static void requireText(String text, String what) {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException(what);
        }
    }

    /** pending, approved, processing or waiting → cancelled, with all unfinished jobs below it. */
    public Transition cancel(long id, String cancelledBy) {
        List<Job> rows =
                Sql.query(dataSource, "cancel job " + id, CANCEL, ps -> bindArgs(ps, id, cancelledBy), JobRows::job);
        return rows.isEmpty()
                ? notMoved(id, "a job that already finished cannot be cancelled")
                : new Moved(rows.getFirst());
    }

    /** failed or cancelled → approved (or waiting, for its failed sub-jobs) with a fresh budget of attempts. */
    public Transition retry(long id, String retriedBy) {
        List<Job> rows =
                Sql.query(dataSource, "retry job " + id, RETRY, ps -> bindArgs(ps, id, retriedBy), JobRows::job);
        if (!rows.isEmpty()) {
            return new Moved(rows.getFirst());
        }
        Transition why = notMoved(id, "only a failed or cancelled job can be retried");
        if (why instanceof WrongState w && (w.actual() == JobStatus.FAILED || w.actual() == JobStatus.CANCELLED)) {
            return new WrongState(id, w.actual(), "a sub-job can be retried only while its parent is waiting");
        }
        return why;
    }

    /** The {@code args} CTE of cancel and retry: the job and the person. */
    private static void bindArgs(PreparedStatement ps, long id, String actor) throws SQLException {
        ps.setLong(1, id);
        ps.setString(2, actor);
    }

    private Transition notMoved(long id, String reason) {
        return notMoved(id, null, null, reason);
    }

    /**
     * Why a transition moved nothing: no such job, another state, or (when the job is pending and
     * the caller named them) another gate or another revision.
     */
    private Transition notMoved(long id, Integer revision, String gate, String reason) {
        List<State> found = state(id);
        if (found.isEmpty()) {
            return new NotFound(id);
        }
        State state = found.getFirst();
        if (state.status() == JobStatus.PENDING && gate != null && !gate.equals(state.gate())) {
            return new WrongState(
                    id,
                    state.status(),
                    "job " + id + " awaits review of gate '" + state.gate() + "', not of '" + gate + "'");
        }
        if (state.status() == JobStatus.PENDING && revision != null && revision != state.revision()) {
            return new StaleRevision(id, state.revision());
        }
        return new WrongState(id, state.status(), reason);
    }

    private List<State> state(long id) {
        return Sql.query(
                dataSource,
                "read status of job " + id,
                STATUS_OF,
                ps -> ps.setLong(1, id),
                rs -> new State(
                        JobStatus.fromDb(rs.getString("status")),
                        rs.getString("review_gate"),
                        rs.getInt("revision"),
                        rs.getInt("storyboard_revision")));
    }

    /**
     * A job's status, open gate, revision under review and storyboard revision, as {@link
     * #STATUS_OF} reads them.
     */
    private record State(JobStatus status, String gate, int revision, int storyboardRevision) {}
}
