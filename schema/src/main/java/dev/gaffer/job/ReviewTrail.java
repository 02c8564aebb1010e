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
     * Pending jobs that wait for a reviewer, oldest first: every pending job except those whose
     * current revision has a request for changes (they wait for their submitter).
     */
    static final String AWAITING = """
            SELECT %s FROM jobs j
             WHERE j.status = 'pending' AND j.id > ?
               AND NOT EXISTS (SELECT 1 FROM job_reviews r
                                WHERE r.job_id = j.id AND r.revision = j.storyboard_revision
                                  AND r.decision = 'changes_requested')
             ORDER BY j.id
             LIMIT ?""".formatted(JobRows.COLUMNS);

    /** Oldest first, in bounded batches, decisions older than the retention. */
    static final String PRUNE = """
            DELETE FROM job_reviews
             WHERE id IN (SELECT id FROM job_reviews
                           WHERE decided_at < now() - make_interval(secs => ?::double precision)
                           ORDER BY decided_at
                           LIMIT ?)""";

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
                    ps.setInt(2, limit);
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
