package dev.gaffer.job;

import dev.gaffer.db.Sql;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The audit trail of review decisions ({@code job_reviews}, V013): a job's decisions, the export
 * of all of them in order, the pending jobs that wait for a decision, and the trail's own
 * retention. The decisions themselves are written by the statements that make them ({@link
 * JobRequests#approve}, {@link JobRequests#reject}, {@link JobRequests#requestChanges}); the table
 * refuses every change and every early delete (its trigger), so nothing here can alter a decision.
 */
public final class ReviewTrail {

    /** The shortest audit retention: the trigger refuses to delete younger decisions. */
    public static final Duration MIN_RETENTION = Duration.ofDays(30);

    /** Most decisions one page of {@link #after} returns. */
    public static final int MAX_PAGE = 1000;

    /** One decision, as recorded. */
    public record Review(
            long id,
            long jobId,
            String jobType,
            String gate,
            int revision,
            String decision,
            String reviewer,
            String requestedBy,
            String comment,
            Instant decidedAt) {}

    private static final String REVIEW_COLUMNS =
            "id, job_id, job_type, gate, revision, decision::text AS decision, reviewer, requested_by, comment, decided_at";

    static final String OF_JOB = "SELECT " + REVIEW_COLUMNS + " FROM job_reviews WHERE job_id = ? ORDER BY id";

    /** In the order they were written; {@code job_id} optional. The export's keyset walk. */
    static final String AFTER = "SELECT " + REVIEW_COLUMNS + """
             FROM job_reviews
            WHERE id > ? AND (?::bigint IS NULL OR job_id = ?::bigint)
            ORDER BY id
            LIMIT ?""";

    /**
     * Pending jobs that wait for a reviewer, oldest first: every pending job, at its plan or at a
     * later gate, except plans whose current revision has a request for changes (they wait for
     * their submitter); with a role ({@code ?}, NULL: any), only those whose policy (or
     * escalation: admin) lets that role decide.
     */
    static final String AWAITING = """
            SELECT %s FROM jobs j
             WHERE j.status = 'pending' AND j.id > ?
               AND NOT (j.review_gate = 'plan'
                        AND EXISTS (SELECT 1 FROM job_reviews r
                                     WHERE r.job_id = j.id AND r.gate = 'plan' AND r.revision = j.storyboard_revision
                                       AND r.decision = 'changes_requested'))
               AND (?::api_key_role IS NULL
                    OR GREATEST(COALESCE((SELECT p.required_role FROM review_policies p
                                           WHERE p.job_type = j.type AND p.gate = j.review_gate), 'approve'),
                                CASE WHEN EXISTS (SELECT 1 FROM job_reviews r
                                                   WHERE r.job_id = j.id AND r.gate = j.review_gate
                                                     AND r.decision = 'escalated'
                                                     AND r.revision = %s)
                                     THEN 'admin'::api_key_role END) <= ?::api_key_role)
             ORDER BY j.id
             LIMIT ?""".formatted(JobRows.COLUMNS, JobRequests.REVISION.formatted("j"));

    /** Oldest first, in bounded batches, decisions older than the retention. */
    static final String PRUNE = """
            DELETE FROM job_reviews
             WHERE id IN (SELECT id FROM job_reviews
                           WHERE decided_at < now() - make_interval(secs => ?::double precision)
                           ORDER BY decided_at
                           LIMIT ?)""";

    /**
     * A job type's review policy (review_policies, V015); {@code expiresAfter} null: never;
     * {@code onExpiry} cancel or escalate (V020).
     */
    public record Policy(
            String jobType,
            String gate,
            String requiredRole,
            boolean fourEyes,
            Duration expiresAfter,
            int quorum,
            String updatedBy,
            Instant updatedAt,
            String onExpiry) {}

    /** What a policy does with an expired review by default: cancel the job. */
    public static final String CANCEL = "cancel";

    /** What a policy may do with an expired review instead: escalate it to admins. */
    public static final String ESCALATE = "escalate";

    private static final String POLICY_COLUMNS = "job_type, gate, required_role::text AS required_role, four_eyes,"
            + " extract(epoch FROM expires_after)::bigint AS expires_after_s, quorum, updated_by, updated_at, on_expiry";

    static final String POLICIES = "SELECT " + POLICY_COLUMNS + " FROM review_policies ORDER BY job_type, gate";

    static final String SET_POLICY = """
            INSERT INTO review_policies AS p (job_type, gate, required_role, four_eyes, expires_after, quorum, updated_by,
                                              on_expiry)
            VALUES (?, ?, ?::api_key_role, ?, make_interval(secs => ?::double precision), ?, ?, ?)
            ON CONFLICT (job_type, gate) DO UPDATE
               SET required_role = excluded.required_role, four_eyes = excluded.four_eyes,
                   expires_after = excluded.expires_after, quorum = excluded.quorum, updated_by = excluded.updated_by,
                   on_expiry = excluded.on_expiry,
                   updated_at = now()
            """ + "RETURNING " + POLICY_COLUMNS;

    static final String DELETE_POLICY = "DELETE FROM review_policies WHERE job_type = ? AND gate = ?";

    /**
     * Review expiry, run by the workers' maintenance: pending jobs whose policy (of their type and
     * the gate they wait at) has an expiry and whose last change (created, stopped at the gate,
     * changes requested, revised: {@code updated_at}) is older than it. Up to {@code ?} jobs,
     * oldest first, skipping any a person is deciding on right now (SKIP LOCKED). What happens
     * is the policy's {@code on_expiry} (V020):
     * <ul>
     *   <li>{@code cancel}: the job is cancelled, with its event and the decision 'expired'
     *       (reviewer gaffer) in the audit trail;
     *   <li>{@code escalate}: the job stays pending, with the decision 'escalated' and its event;
     *       from then on only an admin decides that review (the policy trigger reads the trail).
     *       A review is escalated once: the escalated ones are not due again.
     * </ul>
     * The values of {@code due} are those of the row as locked, not of the statement's snapshot.
     */
    static final String EXPIRE = """
            WITH due AS MATERIALIZED (
                SELECT j.id, j.type, j.queue, j.status, j.attempt, j.progress_percentage, j.current_stage, j.created_by,
                       j.review_gate, %1$s AS revision, p.expires_after, p.on_expiry
                  FROM jobs j
                  JOIN review_policies p ON p.job_type = j.type AND p.gate = j.review_gate
                 WHERE j.status = 'pending' AND p.expires_after IS NOT NULL
                   AND j.updated_at < now() - p.expires_after
                   AND NOT EXISTS (SELECT 1 FROM job_reviews r
                                    WHERE r.job_id = j.id AND r.gate = j.review_gate AND r.revision = %1$s
                                      AND r.decision = 'escalated')
                 ORDER BY j.updated_at
                 LIMIT ?
                   FOR UPDATE OF j SKIP LOCKED),
            expired AS (
                UPDATE jobs j SET status = 'cancelled', finished_at = now(),
                       finished_event_id = nextval('job_events_id_seq'), updated_at = now()
                  FROM due d
                 WHERE j.id = d.id AND j.status = 'pending' AND d.on_expiry = 'cancel'
                RETURNING j.*, d.expires_after, d.revision),
            escalated AS (SELECT * FROM due WHERE on_expiry = 'escalate'),
            reviewed AS (
                INSERT INTO job_reviews (job_id, job_type, gate, revision, decision, reviewer, requested_by, comment)
                SELECT id, type, review_gate, revision, 'expired'::review_decision, 'gaffer', created_by,
                       'no decision within ' || expires_after || ' (the review policy of ' || type || ')'
                  FROM expired
                UNION ALL
                SELECT id, type, review_gate, revision, 'escalated', 'gaffer', created_by,
                       'no decision within ' || expires_after || ' (the review policy of ' || type
                       || '): escalated, an admin decides'
                  FROM escalated
                RETURNING id),
            changes AS (
                SELECT id, queue, 'cancelled'::job_event_kind AS kind, status, attempt, NULL::text AS worker_id,
                       'gaffer' AS actor, progress_percentage, current_stage AS stage,
                       'review expired: no decision within ' || expires_after AS message,
                       NULL::timestamptz AS attempt_started_at, finished_event_id AS event_id
                  FROM expired
                UNION ALL
                SELECT id, queue, 'escalated', status, attempt, NULL, 'gaffer', progress_percentage, current_stage,
                       'review of gate ' || review_gate || ' escalated: no decision within ' || expires_after
                       || '; an admin decides', NULL, NULL
                  FROM escalated),
            %2$s
            SELECT (SELECT count(*) FROM expired) + (SELECT count(*) FROM escalated) AS expired,
                   (SELECT count(*) FROM notified) AS notified
            """.formatted(JobRequests.REVISION.formatted("j"), JobHistory.RECORD);

    private final DataSource dataSource;

    public ReviewTrail(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** Every decision on job {@code jobId}, in order; there may be some for a job already pruned. */
    public List<Review> ofJob(long jobId) {
        return Sql.query(
                dataSource,
                "read the reviews of job " + jobId,
                OF_JOB,
                ps -> ps.setLong(1, jobId),
                ReviewTrail::review);
    }

    /** Up to {@code limit} decisions with an id above {@code afterId}, in order, of one job or (null) all. */
    public List<Review> after(long afterId, Long jobId, int limit) {
        if (limit < 1 || limit > MAX_PAGE) {
            throw new IllegalArgumentException("limit must be between 1 and " + MAX_PAGE + ", got " + limit);
        }
        return Sql.query(
                dataSource,
                "read reviews",
                AFTER,
                ps -> {
                    ps.setLong(1, afterId);
                    if (jobId == null) {
                        ps.setNull(2, java.sql.Types.BIGINT);
                        ps.setNull(3, java.sql.Types.BIGINT);
                    } else {
                        ps.setLong(2, jobId);
                        ps.setLong(3, jobId);
                    }
                    ps.setInt(4, limit);
                },
                ReviewTrail::review);
    }

    /** Up to {@code limit} pending jobs that wait for a decision, with an id above {@code afterId}, oldest first. */
    public List<Job> awaiting(long afterId, int limit) {
        return awaiting(afterId, limit, null);
    }

    /**
     * As {@link #awaiting(long, int)}, only the reviews that a key of {@code role} (null: any) may
     * decide under their policies.
     */
    public List<Job> awaiting(long afterId, int limit, String role) {
        if (limit < 1 || limit > JobQueries.MAX_PAGE_SIZE) {
            throw new IllegalArgumentException(
                    "limit must be between 1 and " + JobQueries.MAX_PAGE_SIZE + ", got " + limit);
        }
        return Sql.query(
                dataSource,
                "list jobs awaiting review",
                AWAITING,
                ps -> {
                    ps.setLong(1, afterId);
                    ps.setString(2, role);
                    ps.setString(3, role);
                    ps.setInt(4, limit);
                },
                JobRows::job);
    }

    /**
     * Deletes up to {@code limit} decisions older than {@code retention} (at least {@link
     * #MIN_RETENTION}), oldest first; returns how many.
     */
    public int prune(Duration retention, int limit) {
        if (retention.compareTo(MIN_RETENTION) < 0) {
            throw new IllegalArgumentException(
                    "the audit retention must be at least " + MIN_RETENTION.toDays() + " days, got " + retention);
        }
        if (limit < 1) {
            throw new IllegalArgumentException("limit must be positive, got " + limit);
        }
        return Sql.update(dataSource, "prune reviews", PRUNE, ps -> {
            ps.setDouble(1, retention.toNanos() / 1e9);
            ps.setInt(2, limit);
        });
    }

    /** Every review policy, by job type. */
    public List<Policy> policies() {
        return Sql.query(dataSource, "read review policies", POLICIES, ps -> {}, ReviewTrail::policy);
    }

    /** Sets (creates or replaces) the plan review policy of {@code jobType}; returns it as stored. */
    public Policy setPolicy(String jobType, String requiredRole, boolean fourEyes, Duration expiresAfter, String by) {
        return setPolicy(jobType, requiredRole, fourEyes, expiresAfter, 1, by);
    }

    /** As {@link #setPolicy(String, String, boolean, Duration, String)}, with a quorum of distinct approvers (1 to 10). */
    public Policy setPolicy(
            String jobType, String requiredRole, boolean fourEyes, Duration expiresAfter, int quorum, String by) {
        return setPolicy(jobType, JobRequests.PLAN, requiredRole, fourEyes, expiresAfter, quorum, by);
    }

    /** As {@link #setPolicy(String, String, boolean, Duration, int, String)}, for the reviews of {@code gate}. */
    public Policy setPolicy(
            String jobType,
            String gate,
            String requiredRole,
            boolean fourEyes,
            Duration expiresAfter,
            int quorum,
            String by) {
        return setPolicy(jobType, gate, requiredRole, fourEyes, expiresAfter, quorum, CANCEL, by);
    }

    /**
     * The whole policy of {@code jobType} at {@code gate}, created or replaced; {@code onExpiry}
     * is {@link #CANCEL} or {@link #ESCALATE} (which needs an expiry).
     */
    public Policy setPolicy(
            String jobType,
            String gate,
            String requiredRole,
            boolean fourEyes,
            Duration expiresAfter,
            int quorum,
            String onExpiry,
            String by) {
        Objects.requireNonNull(jobType, "jobType");
        Objects.requireNonNull(gate, "gate");
        Objects.requireNonNull(onExpiry, "onExpiry");
        Objects.requireNonNull(requiredRole, "requiredRole");
        return Sql.query(
                        dataSource,
                        "set the review policy of " + jobType,
                        SET_POLICY,
                        ps -> {
                            ps.setString(1, jobType);
                            ps.setString(2, gate);
                            ps.setString(3, requiredRole);
                            ps.setBoolean(4, fourEyes);
                            if (expiresAfter == null) {
                                ps.setNull(5, java.sql.Types.DOUBLE);
                            } else {
                                ps.setDouble(5, expiresAfter.toNanos() / 1e9);
                            }
                            ps.setInt(6, quorum);
                            ps.setString(7, by);
                            ps.setString(8, onExpiry);
                        },
                        ReviewTrail::policy)
                .getFirst();
    }

    /** Removes the plan review policy of {@code jobType} (back to the defaults); false when it had none. */
    public boolean deletePolicy(String jobType) {
        return deletePolicy(jobType, JobRequests.PLAN);
    }

    /** Removes the review policy of {@code jobType} at {@code gate}; false when it had none. */
    public boolean deletePolicy(String jobType, String gate) {
        return Sql.update(
                        dataSource,
                        "delete the review policy of " + jobType + " at gate " + gate,
                        DELETE_POLICY,
                        ps -> {
                            ps.setString(1, jobType);
                            ps.setString(2, gate);
                        })
                > 0;
    }

    /**
     * Cancels or escalates (as their policies say) up to {@code limit} pending jobs whose review
     * expired; returns how many.
     */
    public int expire(int limit) {
        return Sql.query(dataSource, "expire reviews", EXPIRE, ps -> ps.setInt(1, limit), rs -> rs.getInt("expired"))
                .getFirst();
    }

    private static Policy policy(ResultSet rs) throws SQLException {
        long expires = rs.getLong("expires_after_s");
        boolean never = rs.wasNull();
        return new Policy(
                rs.getString("job_type"),
                rs.getString("gate"),
                rs.getString("required_role"),
                rs.getBoolean("four_eyes"),
                never ? null : Duration.ofSeconds(expires),
                rs.getInt("quorum"),
                rs.getString("updated_by"),
                Sql.instant(rs, "updated_at"),
                rs.getString("on_expiry"));
    }

    private static Review review(ResultSet rs) throws SQLException {
        return new Review(
                rs.getLong("id"),
                rs.getLong("job_id"),
                rs.getString("job_type"),
                rs.getString("gate"),
                rs.getInt("revision"),
                rs.getString("decision"),
                rs.getString("reviewer"),
                rs.getString("requested_by"),
                rs.getString("comment"),
                Sql.instant(rs, "decided_at"));
    }
}
