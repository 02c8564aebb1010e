package dev.gaffer.job;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.db.Sql;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Previews of pending jobs (job_previews, V021): asked for by the API when a job of a type with a
 * preview is created or revised, claimed by one worker with a lease of its own, written back
 * fenced by that lease. A preview never changes its job: the job stays pending with its attempts,
 * and its result is the preview's own. Every statement's text, as PostgreSQL receives it, is in
 * {@code schema/src/test/resources/sql/PreviewStore.*.sql}.
 */
public final class PreviewStore {

    /** Claims one preview may have before it fails for good. */
    public static final int MAX_ATTEMPTS = 3;

    /** One preview as stored. */
    public record Preview(
            long jobId,
            int revision,
            String status,
            int attempt,
            String lockedBy,
            JsonNode result,
            String error,
            Instant requestedAt,
            Instant startedAt,
            Instant finishedAt) {}

    /** A claimed preview: its lease and the job as it was when claimed. */
    public record Claimed(PreviewLease lease, Job job) {}

    /** Asks for the preview of the job's current revision, while it is pending at its plan; once per revision. */
    static final String REQUEST = """
            INSERT INTO job_previews (job_id, revision)
            SELECT id, storyboard_revision FROM jobs WHERE id = ? AND status = 'pending' AND review_gate = 'plan'
            ON CONFLICT (job_id, revision) DO NOTHING
            RETURNING job_id""";

    /**
     * Claims the oldest claimable preview of a job that is still pending at that revision, of one
     * of the worker's types ({@code ?::text[]}), for the lease's length: a queued one, or a running
     * one whose lease expired with attempts left (its worker stopped answering). In the same
     * statement, an expired one on its last attempt fails, and one its job no longer needs
     * (decided, cancelled, revised) fails as not needed.
     */
    static final String CLAIM = """
            WITH args AS (SELECT ?::text[] AS types, ?::text AS worker, ?::double precision AS lease_seconds),
            exhausted AS (
                UPDATE job_previews p
                   SET status = 'failed', finished_at = now(), locked_by = NULL, lease_expires_at = NULL,
                       error = 'the worker running the preview stopped answering (attempt ' || p.attempt || ')'
                 WHERE p.status = 'running' AND p.lease_expires_at < now() AND p.attempt >= %1$d
                RETURNING p.job_id),
            obsolete AS (
                UPDATE job_previews p
                   SET status = 'failed', error = 'not needed: the job was decided or revised first', finished_at = now(),
                       locked_by = NULL, lease_expires_at = NULL
                  FROM jobs j
                 WHERE j.id = p.job_id
                   AND (p.status = 'queued' OR (p.status = 'running' AND p.lease_expires_at < now() AND p.attempt < %1$d))
                   AND (j.status <> 'pending' OR j.review_gate <> 'plan' OR j.storyboard_revision <> p.revision)
                RETURNING p.job_id),
            next AS (
                SELECT p.job_id, p.revision FROM job_previews p JOIN jobs j ON j.id = p.job_id, args
                 WHERE (p.status = 'queued' OR (p.status = 'running' AND p.lease_expires_at < now() AND p.attempt < %1$d))
                   AND j.status = 'pending' AND j.review_gate = 'plan' AND j.storyboard_revision = p.revision
                   AND j.type = ANY (args.types)
                 ORDER BY p.requested_at
                 LIMIT 1
                   FOR UPDATE OF p SKIP LOCKED)
            UPDATE job_previews p
               SET status = 'running', attempt = p.attempt + 1, locked_by = args.worker,
                   lease_expires_at = now() + make_interval(secs => args.lease_seconds), started_at = now()
              FROM next, args
             WHERE p.job_id = next.job_id AND p.revision = next.revision
            RETURNING p.job_id, p.revision, p.attempt,
                      (SELECT count(*) FROM exhausted) AS exhausted, (SELECT count(*) FROM obsolete) AS obsolete
            """.formatted(MAX_ATTEMPTS);

    /** The fence of every write of a preview's lease holder: parameters 1 to 4 of {@code fence}. */
    private static final String FENCE =
            "job_id = ? AND revision = ? AND attempt = ? AND locked_by = ? AND status = 'running'";

    static final String FINISH = """
            UPDATE job_previews
               SET status = 'done', result = ?::jsonb, error = NULL, locked_by = NULL, lease_expires_at = NULL,
                   finished_at = now()
             WHERE %s""".formatted(FENCE);

    /** A failure: queued again while attempts remain and it may be retried, otherwise failed. */
    static final String FAIL = """
            UPDATE job_previews
               SET status = CASE WHEN ? AND attempt < %2$d THEN 'queued' ELSE 'failed' END::preview_status,
                   finished_at = CASE WHEN ? AND attempt < %2$d THEN NULL ELSE now() END,
                   error = ?, locked_by = NULL, lease_expires_at = NULL
             WHERE %1$s""".formatted(FENCE, MAX_ATTEMPTS);

    private static final String COLUMNS = "job_id, revision, status::text AS status, attempt, locked_by,"
            + " result::text AS result, error, requested_at, started_at, finished_at";

    /** The preview of the job's newest revision that has one. */
    static final String LATEST =
            "SELECT " + COLUMNS + " FROM job_previews WHERE job_id = ? ORDER BY revision DESC LIMIT 1";

    private final DataSource dataSource;
    private final JobQueries jobs;

    public PreviewStore(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.jobs = new JobQueries(dataSource);
    }

    /**
     * Asks for a preview of job {@code jobId}'s current storyboard revision; false when the job is
     * not pending at its plan or that revision already has one.
     */
    public boolean request(long jobId) {
        return !Sql.query(
                        dataSource,
                        "ask for a preview of job " + jobId,
                        REQUEST,
                        ps -> ps.setLong(1, jobId),
                        rs -> rs.getLong(1))
                .isEmpty();
    }

    /** Claims one preview of a job of {@code types} for {@code lease}; empty when none waits. */
    public Optional<Claimed> claim(String workerId, Collection<String> types, Duration lease) {
        Objects.requireNonNull(workerId, "workerId");
        if (types.isEmpty()) {
            return Optional.empty();
        }
        List<PreviewLease> got = Sql.query(
                dataSource,
                "claim a preview",
                CLAIM,
                ps -> {
                    Sql.setArray(ps, 1, "text", types);
                    ps.setString(2, workerId);
                    ps.setDouble(3, lease.toNanos() / 1e9);
                },
                rs -> new PreviewLease(rs.getLong("job_id"), rs.getInt("revision"), rs.getInt("attempt"), workerId));
        if (got.isEmpty()) {
            return Optional.empty();
        }
        PreviewLease l = got.getFirst();
        Job job = jobs.find(l.jobId())
                .orElseThrow(() -> new IllegalStateException("job " + l.jobId() + " vanished under its preview"));
        return Optional.of(new Claimed(l, job));
    }

    /** running → done with {@code result}; false when the lease was lost. */
    public boolean finish(PreviewLease lease, JsonNode result) {
        Objects.requireNonNull(result, "result");
        String text = Json.write(result);
        return Sql.update(dataSource, "finish the preview of job " + lease.jobId(), FINISH, ps -> {
                    ps.setString(1, text);
                    bindFence(ps, 2, lease);
                })
                == 1;
    }

    /**
     * running → queued again (retryable, attempts left) or failed, with {@code error}; false when
     * the lease was lost.
     */
    public boolean fail(PreviewLease lease, String error, boolean retryable) {
        Objects.requireNonNull(error, "error");
        String capped = error.length() > 4000 ? error.substring(0, 3997) + "..." : error;
        return Sql.update(dataSource, "fail the preview of job " + lease.jobId(), FAIL, ps -> {
                    ps.setBoolean(1, retryable);
                    ps.setBoolean(2, retryable);
                    ps.setString(3, capped);
                    bindFence(ps, 4, lease);
                })
                == 1;
    }

    /** The preview of the job's newest previewed revision, if any. */
    public Optional<Preview> latest(long jobId) {
        return Sql.query(
                        dataSource,
                        "read the preview of job " + jobId,
                        LATEST,
                        ps -> ps.setLong(1, jobId),
                        PreviewStore::preview)
                .stream()
                .findFirst();
    }

    private static void bindFence(java.sql.PreparedStatement ps, int first, PreviewLease lease) throws SQLException {
        ps.setLong(first, lease.jobId());
        ps.setInt(first + 1, lease.revision());
        ps.setInt(first + 2, lease.attempt());
        ps.setString(first + 3, lease.workerId());
    }

    private static Preview preview(ResultSet rs) throws SQLException {
        String result = rs.getString("result");
        return new Preview(
                rs.getLong("job_id"),
                rs.getInt("revision"),
                rs.getString("status"),
                rs.getInt("attempt"),
                rs.getString("locked_by"),
                result == null ? null : Json.parse(result),
                rs.getString("error"),
                Sql.instant(rs, "requested_at"),
                Sql.instant(rs, "started_at"),
                Sql.instant(rs, "finished_at"));
    }
}
