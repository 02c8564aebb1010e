package dev.gaffer.job;

import static dev.gaffer.job.JobHistory.RECORD;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.db.Sql;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * Waiting for external work without holding a worker (issue 19, V026): the handler of a leased job
 * asks for a callback token ({@link #issue}), hands the URL with it to an external service and waits
 * ({@link #await}): the job gives its lease and its attempt back and is approved again with its
 * run_at at the next poll or the deadline. The service's call ({@link #receive}) stores what it
 * sent and makes the job claimable at once; the handler, run again, reads it ({@link #received}).
 *
 * <p>Every write is fenced: the worker's by its lease, the callback by the token's nonce, the
 * attempt that asked (running, or waiting with its attempt given back), the deadline and
 * single use. Each statement's text is in {@code schema/src/test/resources/sql/CallbackStore.*.sql}.
 */
public final class CallbackStore {

    /** What the service sent, and when. */
    public record Callback(JsonNode payload, Instant receivedAt) {}

    /** What became of a handler's wait. */
    public enum Waited {
        /** The job waits (or, called back already, is claimable at once). */
        WAITING,
        /** The wait's deadline passed without a callback: the attempt should fail. */
        EXPIRED,
        /** The lease was lost: nothing was written. */
        LEASE_LOST
    }

    /** What became of a call to a callback URL. */
    public enum Received {
        /** Stored; the job runs again (at once when it was waiting). */
        ACCEPTED,
        /** The token was good once and was used. */
        ALREADY_USED,
        /** The wait's deadline passed. */
        EXPIRED,
        /** No such wait now: a newer wait replaced it, the attempt ended, the job was retried or pruned. */
        GONE
    }

    /**
     * The callback of the leased job's attempt: its nonce, the one it has when the attempt asked
     * before and was not called back yet, else a new one (a new wait). Nothing when the lease is lost.
     */
    static final String ISSUE = """
            WITH held AS (
                SELECT id, attempt FROM jobs
                 WHERE id = ? AND attempt = ? AND locked_by = ? AND status = 'processing'),
            issued AS (
                INSERT INTO job_callbacks (job_id, attempt, nonce)
                SELECT id, attempt, gen_random_uuid() FROM held
                ON CONFLICT (job_id) DO UPDATE
                   SET attempt = EXCLUDED.attempt, nonce = EXCLUDED.nonce, created_at = now(), expires_at = NULL,
                       received_at = NULL, payload = NULL
                 WHERE job_callbacks.attempt <> EXCLUDED.attempt OR job_callbacks.received_at IS NOT NULL
                RETURNING nonce)
            SELECT nonce FROM issued
            UNION ALL
            SELECT c.nonce FROM job_callbacks c JOIN held h ON h.id = c.job_id
             WHERE NOT EXISTS (SELECT 1 FROM issued)
            """;

    /**
     * The leased job waits: its wait's deadline set (once, now + the timeout; a wait without a
     * callback URL gets a row of its own), then processing → approved with its lease and attempt
     * given back, run_at at the next poll or the deadline (at once when the callback came while
     * the handler still ran), current_stage the resume stage. Past the deadline nothing changes
     * but the row: the caller fails the attempt.
     */
    static final String AWAIT = """
            WITH args AS (SELECT ?::bigint AS id, ?::int AS attempt, ?::text AS worker,
                                 ?::double precision AS timeout_seconds, ?::double precision AS poll_seconds,
                                 ?::text AS resume_stage),
            held AS (
                SELECT j.id, j.attempt FROM jobs j, args
                 WHERE j.id = args.id AND j.attempt = args.attempt AND j.locked_by = args.worker
                   AND j.status = 'processing'),
            wait AS (
                INSERT INTO job_callbacks AS c (job_id, attempt, nonce, expires_at)
                SELECT h.id, h.attempt, gen_random_uuid(), now() + make_interval(secs => args.timeout_seconds)
                  FROM held h, args
                ON CONFLICT (job_id) DO UPDATE
                   SET attempt = EXCLUDED.attempt,
                       nonce = CASE WHEN c.attempt = EXCLUDED.attempt THEN c.nonce ELSE EXCLUDED.nonce END,
                       expires_at = CASE WHEN c.attempt = EXCLUDED.attempt
                                         THEN COALESCE(c.expires_at, EXCLUDED.expires_at) ELSE EXCLUDED.expires_at END,
                       received_at = CASE WHEN c.attempt = EXCLUDED.attempt THEN c.received_at END,
                       payload = CASE WHEN c.attempt = EXCLUDED.attempt THEN c.payload END
                RETURNING c.expires_at, c.received_at),
            waiting AS (
                UPDATE jobs j
                   SET status = 'approved', attempt = j.attempt - 1, locked_by = NULL, heartbeat_at = NULL,
                       lease_expires_at = NULL, current_stage = COALESCE(args.resume_stage, j.current_stage),
                       updated_at = now(),
                       run_at = CASE WHEN w.received_at IS NOT NULL THEN now()
                                     ELSE least(w.expires_at, now() + make_interval(secs => args.poll_seconds)) END
                  FROM args, held h, wait w
                 WHERE j.id = h.id AND (w.received_at IS NOT NULL OR w.expires_at > now())
                RETURNING j.*),
            changes AS (
                SELECT g.id, g.queue, 'awaiting_callback'::job_event_kind AS kind, g.status, g.attempt,
                       args.worker AS worker_id, NULL::text AS actor, g.progress_percentage, g.current_stage AS stage,
                       CASE WHEN w.received_at IS NOT NULL THEN 'called back already; runs again at once'
                            ELSE 'awaiting a callback until ' || to_char(w.expires_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')
                                 || '; next look ' || to_char(g.run_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"') END AS message,
                       g.claimed_at AS attempt_started_at, NULL::bigint AS event_id
                  FROM waiting g, wait w, args),
            %s
            SELECT (SELECT count(*) FROM held) AS held, (SELECT count(*) FROM waiting) AS waited,
                   (SELECT count(*) FROM notified) AS notified
            """.formatted(RECORD);

    /**
     * The service's call, by the token's job and nonce: stored once, before the deadline, only
     * while the job is the attempt that asked (running, or waiting with that attempt given back);
     * a waiting job becomes claimable at once, with the event callback_received and its NOTIFY.
     */
    static final String RECEIVE = """
            WITH args AS (SELECT ?::bigint AS id, ?::uuid AS nonce, ?::jsonb AS payload),
            asked AS MATERIALIZED (
                SELECT c.job_id, c.attempt, c.expires_at, c.received_at FROM job_callbacks c, args
                 WHERE c.job_id = args.id AND c.nonce = args.nonce
                   FOR UPDATE OF c),
            current AS MATERIALIZED (
                SELECT j.id, j.status FROM jobs j JOIN asked a ON a.job_id = j.id
                 WHERE (j.status = 'processing' AND j.attempt = a.attempt)
                    OR (j.status = 'approved' AND j.attempt = a.attempt - 1)
                   FOR UPDATE OF j),
            received AS (
                UPDATE job_callbacks c SET received_at = now(), payload = args.payload
                  FROM args, asked a, current
                 WHERE c.job_id = a.job_id AND a.received_at IS NULL
                   AND (a.expires_at IS NULL OR a.expires_at > now())
                RETURNING c.job_id),
            woken AS (
                UPDATE jobs j SET run_at = now(), updated_at = now()
                  FROM received r, current cur
                 WHERE j.id = r.job_id AND cur.id = j.id AND cur.status = 'approved'
                RETURNING j.*),
            changes AS (
                SELECT w.id, w.queue, 'callback_received'::job_event_kind AS kind, w.status, w.attempt,
                       NULL::text AS worker_id, NULL::text AS actor, w.progress_percentage, w.current_stage AS stage,
                       'called back; runs again' AS message, NULL::timestamptz AS attempt_started_at,
                       NULL::bigint AS event_id
                  FROM woken w),
            %s
            SELECT (SELECT count(*) FROM asked) AS asked, (SELECT count(*) FROM current) AS current,
                   (SELECT count(*) FROM received) AS received,
                   (SELECT bool_or(received_at IS NOT NULL) FROM asked) AS used,
                   (SELECT bool_or(expires_at <= now()) FROM asked) AS expired,
                   (SELECT count(*) FROM notified) AS notified
            """.formatted(RECORD);

    /** The callback the leased job's attempt received, if it did. */
    static final String RECEIVED = """
            SELECT c.payload::text AS payload, c.received_at FROM job_callbacks c JOIN jobs j ON j.id = c.job_id
             WHERE c.job_id = ? AND c.attempt = ? AND j.attempt = c.attempt AND j.locked_by = ?
               AND j.status = 'processing' AND c.received_at IS NOT NULL""";

    /**
     * The waits of cancelled jobs of the given types that were never called back, taken (deleted)
     * by one worker, which tells their handlers ({@code JobHandler.cancelledWhileWaiting}): the
     * jobs as they are.
     */
    static final String TAKE_CANCELLED = """
            WITH gone AS (
                DELETE FROM job_callbacks c
                 WHERE c.job_id IN (SELECT c2.job_id FROM job_callbacks c2 JOIN jobs j ON j.id = c2.job_id
                                     WHERE j.status = 'cancelled' AND c2.received_at IS NULL
                                       AND j.type = ANY(?::text[])
                                     ORDER BY c2.job_id LIMIT ?
                                       FOR UPDATE OF c2 SKIP LOCKED)
                RETURNING c.job_id)
            SELECT %s FROM jobs WHERE id IN (SELECT job_id FROM gone) ORDER BY id
            """.formatted(JobRows.COLUMNS);

    private final DataSource dataSource;

    public CallbackStore(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * The nonce of the leased attempt's callback: the same until the service calls back, a new
     * one for the next wait. Empty when the lease is lost.
     */
    public Optional<UUID> issue(Lease lease) {
        return Sql.query(
                        dataSource,
                        "issue a callback for job " + lease.jobId(),
                        ISSUE,
                        ps -> fence(ps, lease),
                        rs -> rs.getObject("nonce", UUID.class))
                .stream()
                .findFirst();
    }

    /**
     * The leased job waits for its callback (or the next poll, every {@code poll}) until {@code
     * timeout} after its first wait of this attempt, holding no lease.
     */
    public Waited await(Lease lease, Duration timeout, Duration poll, String resumeStage) {
        if (timeout.isNegative() || timeout.isZero() || poll.isNegative() || poll.isZero()) {
            throw new IllegalArgumentException("a wait for a callback needs a positive timeout and poll interval");
        }
        List<long[]> rows = Sql.query(
                dataSource,
                "job " + lease.jobId() + " awaits a callback",
                AWAIT,
                ps -> {
                    fence(ps, lease);
                    ps.setDouble(4, timeout.toMillis() / 1000.0);
                    ps.setDouble(5, poll.toMillis() / 1000.0);
                    ps.setString(6, resumeStage);
                },
                rs -> new long[] {rs.getLong("held"), rs.getLong("waited")});
        long[] r = rows.getFirst();
        return r[0] == 0 ? Waited.LEASE_LOST : r[1] == 1 ? Waited.WAITING : Waited.EXPIRED;
    }

    /** A call to the callback URL of job {@code jobId}'s wait {@code nonce}, with the service's body. */
    public Received receive(long jobId, UUID nonce, JsonNode payload) {
        Objects.requireNonNull(payload, "payload");
        List<Received> rows = Sql.query(
                dataSource,
                "receive the callback of job " + jobId,
                RECEIVE,
                ps -> {
                    ps.setLong(1, jobId);
                    ps.setObject(2, nonce);
                    ps.setString(3, Json.write(payload));
                },
                rs -> {
                    if (rs.getLong("received") == 1) {
                        return Received.ACCEPTED;
                    }
                    if (rs.getLong("asked") == 0 || rs.getLong("current") == 0) {
                        return Received.GONE;
                    }
                    return rs.getBoolean("used") ? Received.ALREADY_USED : Received.EXPIRED;
                });
        return rows.getFirst();
    }

    /** The callback the leased attempt received, if the service called back. */
    public Optional<Callback> received(Lease lease) {
        return Sql.query(
                        dataSource,
                        "read the callback of job " + lease.jobId(),
                        RECEIVED,
                        ps -> fence(ps, lease),
                        rs -> new Callback(Json.parse(rs.getString("payload")), Sql.instant(rs, "received_at")))
                .stream()
                .findFirst();
    }

    /** Takes up to {@code limit} waits of cancelled jobs of {@code types}; their jobs. */
    public List<Job> takeCancelled(java.util.Collection<String> types, int limit) {
        if (types.isEmpty()) {
            return List.of();
        }
        return Sql.query(
                dataSource,
                "take the waits of cancelled jobs",
                TAKE_CANCELLED,
                ps -> {
                    Sql.setArray(ps, 1, "text", types.toArray());
                    ps.setInt(2, limit);
                },
                JobRows::job);
    }

    private static void fence(java.sql.PreparedStatement ps, Lease lease) throws java.sql.SQLException {
        ps.setLong(1, lease.jobId());
        ps.setInt(2, lease.attempt());
        ps.setString(3, lease.workerId());
    }
}
