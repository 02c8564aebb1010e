package dev.gaffer.job;

import static dev.gaffer.job.JobHistory.RECORD;
import static dev.gaffer.job.JobRows.COLUMNS;

import dev.gaffer.db.Sql;
import dev.gaffer.job.Results.Fenced;
import dev.gaffer.job.Results.HeartbeatResult;
import dev.gaffer.job.Results.LeaseLost;
import dev.gaffer.job.Results.Written;
import java.time.Duration;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Taking, holding and giving back leases: a worker claims approved jobs (approved → processing),
 * beats for them (its progress rides along), and gives them back at shutdown (→ approved, the
 * attempt returned). How a lease ends with the handler's outcome is {@link OutcomeStore}'s;
 * taking leases away from workers that stopped beating, {@link ReclaimStore}'s.
 *
 * <p>Every write after the claim is fenced by {@code (id, attempt, locked_by, status =
 * 'processing')}: once a job was reclaimed, cancelled or finished, the old holder's writes match no
 * row and it gets {@link LeaseLost}. Lease time is the database clock ({@code now()}); each lease
 * ends at {@code lease_expires_at}, which its holder writes with its own heartbeat timeout. Each
 * transition is one statement that records itself ({@link JobHistory}); a sub-job's end does its
 * parent's fan-in ({@link FanIn}). Every statement's text, as PostgreSQL receives it, is in {@code
 * schema/src/test/resources/sql/LeaseStore.*.sql}.
 */
public final class LeaseStore {

    /**
     * How long a lease lasts without a heartbeat when the holder does not say: the workers'
     * default GAFFER_HEARTBEAT_TIMEOUT.
     */
    public static final Duration DEFAULT_LEASE = Duration.ofSeconds(15);

    /**
     * The claim. Per queue, the best claimable rows are read from the partial index
     * jobs_claimable_idx in claim order and locked with SKIP LOCKED, so concurrent claimers split
     * the work instead of queueing on each other's row locks; the union is cut to the free
     * slots. Rows locked by the per-queue LIMIT but cut by the outer one are unlocked at commit,
     * a moment later. MATERIALIZED keeps PostgreSQL from inlining the locking subquery into the
     * UPDATE, where it could be evaluated more than once and lock more rows than it returns.
     *
     * <p>Where to start in each queue: at its head, or after a {@link ClaimPosition} (the last job
     * the worker claimed there). Every claimed job leaves a dead entry at the head of the index
     * until vacuum removes it, and a scan from the head steps over all of them: found with the
     * burn-down benchmark, where a 300 000-job drain ran 21 % to 44 % faster with claims that
     * resume (docs/benchmarks.md, "claims that resume"). A resumed scan is two index scans in claim
     * order, each with a start key: the rest of the position's priority after (run_at, id), then
     * the lower priorities; the branches that do not apply are cut by their one-time filters.
     *
     * <p>The UPDATE finds its rows as {@code id = ANY (ARRAY(…))}, a primary-key lookup whatever
     * the planner guesses about the LIMIT: that makes the generic plan as good as a custom one, so
     * the worker's claim connection can skip planning on every call ({@code plan_cache_mode =
     * force_generic_plan}; a join to the CTE made the generic plan a hash join over the whole
     * table). Measured in docs/benchmarks.md.
     */
    static final String CLAIM = """
            WITH claim AS (SELECT ?::text AS worker, ?::bigint[] AS exclude, ?::text[] AS types, ?::int AS slots,
                                  now() + make_interval(secs => ?::double precision) AS lease_until),
            candidates AS MATERIALIZED (
                SELECT c.id, c.priority, c.run_at
                  FROM claim,
                       unnest(?::text[], ?::smallint[], ?::timestamptz[], ?::bigint[])
                           AS q(name, after_priority, after_run_at, after_id)
                 CROSS JOIN LATERAL (
                       SELECT * FROM (
                           SELECT id, priority, run_at FROM jobs
                            WHERE q.after_id IS NULL
                              AND status = 'approved' AND queue = q.name AND run_at <= now()
                              AND id <> ALL (claim.exclude) AND (claim.types IS NULL OR type = ANY (claim.types))
                            ORDER BY priority DESC, run_at, id
                            LIMIT claim.slots
                              FOR UPDATE SKIP LOCKED) from_head
                       UNION ALL
                       SELECT * FROM (
                           SELECT id, priority, run_at FROM jobs
                            WHERE q.after_id IS NOT NULL
                              AND priority = q.after_priority AND (run_at, id) > (q.after_run_at, q.after_id)
                              AND status = 'approved' AND queue = q.name AND run_at <= now()
                              AND id <> ALL (claim.exclude) AND (claim.types IS NULL OR type = ANY (claim.types))
                            ORDER BY run_at, id
                            LIMIT claim.slots
                              FOR UPDATE SKIP LOCKED) same_priority
                       UNION ALL
                       SELECT * FROM (
                           SELECT id, priority, run_at FROM jobs
                            WHERE q.after_id IS NOT NULL
                              AND priority < q.after_priority
                              AND status = 'approved' AND queue = q.name AND run_at <= now()
                              AND id <> ALL (claim.exclude) AND (claim.types IS NULL OR type = ANY (claim.types))
                            ORDER BY priority DESC, run_at, id
                            LIMIT claim.slots
                              FOR UPDATE SKIP LOCKED) lower_priorities
                       LIMIT claim.slots) c
                 ORDER BY c.priority DESC, c.run_at, c.id
                 LIMIT (SELECT slots FROM claim)),
            claimed AS (
                UPDATE jobs j
                   SET status = 'processing', attempt = j.attempt + 1, locked_by = (SELECT worker FROM claim),
                       heartbeat_at = now(),
                       lease_expires_at = (SELECT lease_until FROM claim),
                       started_at = COALESCE(j.started_at, now()), updated_at = now()
                 WHERE j.id = ANY (ARRAY(SELECT id FROM candidates))
                RETURNING j.*),
            changes AS (
                SELECT id, queue, 'claimed'::job_event_kind AS kind, status, attempt, locked_by AS worker_id,
                       NULL::text AS actor, progress_percentage, current_stage AS stage, NULL::text AS message
                  FROM claimed),
            %s
            SELECT %s, (SELECT count(*) FROM notified) AS notified FROM claimed ORDER BY priority DESC, run_at, id
            """.formatted(RECORD, COLUMNS);

    /**
     * One statement for all running jobs of a worker: extends each lease that is still held by the
     * worker's own timeout and writes the progress and stage reported since the last beat (NULL:
     * unchanged; 100 is written as 99, since 100 % means completed). Only the columns written here
     * change, none of them indexed, so the updates stay HOT.
     */
    static final String HEARTBEAT = """
            WITH beats AS (
                SELECT * FROM unnest(?::bigint[], ?::int[], ?::int[], ?::text[]) AS b(id, attempt, progress, stage)),
            held AS (
                UPDATE jobs j
                   SET heartbeat_at = now(), lease_expires_at = now() + make_interval(secs => ?::double precision),
                       updated_at = now(),
                       progress_percentage = COALESCE(LEAST(b.progress, 99), j.progress_percentage),
                       current_stage = COALESCE(b.stage, j.current_stage)
                  FROM beats b
                 WHERE j.id = b.id AND j.attempt = b.attempt AND j.locked_by = ? AND j.status = 'processing'
                RETURNING j.id, j.queue, j.status, j.attempt, j.locked_by, j.progress_percentage, j.current_stage,
                          (b.progress IS NOT NULL OR b.stage IS NOT NULL) AS reported),
            changes AS (
                SELECT id, queue, 'progress'::job_event_kind AS kind, status, attempt, locked_by AS worker_id,
                       NULL::text AS actor, progress_percentage, current_stage AS stage, NULL::text AS message
                  FROM held WHERE reported),
            %s
            SELECT id, (SELECT count(*) FROM notified) AS notified FROM held
            """.formatted(RECORD);

    /** Graceful shutdown: back to approved at once, giving the attempt back. */
    static final String RELEASE = """
            WITH args AS (SELECT ?::text AS worker),
            leases AS (
                SELECT * FROM unnest(?::bigint[], ?::int[]) AS l(id, attempt)),
            released AS (
                UPDATE jobs j
                   SET status = 'approved', attempt = j.attempt - 1, run_at = now(), locked_by = NULL,
                       heartbeat_at = NULL, lease_expires_at = NULL, updated_at = now()
                  FROM leases l
                 WHERE j.id = l.id AND j.attempt = l.attempt AND j.locked_by = (SELECT worker FROM args)
                   AND j.status = 'processing'
                RETURNING j.*),
            changes AS (
                SELECT r.id, r.queue, 'released'::job_event_kind AS kind, r.status, r.attempt, args.worker AS worker_id,
                       NULL::text AS actor, r.progress_percentage, r.current_stage AS stage,
                       'worker shut down before the job finished' AS message
                  FROM released r, args),
            %s
            SELECT id, (SELECT count(*) FROM notified) AS notified FROM released
            """.formatted(RECORD);

    static final String CANCELLED_AMONG = "SELECT id FROM jobs WHERE id = ANY (?) AND status = 'cancelled'";

    private final DataSource dataSource;

    public LeaseStore(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Claims up to {@code limit} claimable jobs of the given queues for {@code workerId}, in
     * claim order (priority, then run_at, then id), each leased for {@link #DEFAULT_LEASE}.
     * {@code exclude} lists jobs whose old handlers this worker still has running (after a lost
     * lease), so that it never holds two runs of one job.
     */
    public List<Job> claim(String workerId, Collection<String> queues, int limit, Collection<Long> exclude) {
        return claim(workerId, queues, null, limit, exclude);
    }

    /** As {@link #claim(String, Collection, int, Collection)}, only jobs of {@code types} (null: any type). */
    public List<Job> claim(
            String workerId, Collection<String> queues, Collection<String> types, int limit, Collection<Long> exclude) {
        List<String> names = List.copyOf(queues);
        return claim(workerId, names, Collections.nCopies(names.size(), null), types, limit, exclude, DEFAULT_LEASE);
    }

    /**
     * As {@link #claim(String, Collection, Collection, int, Collection)}, for the claims of a
     * worker: only jobs of {@code types} (null: any type), since a worker claims only what it has
     * handlers for and a job whose handler lives on other workers waits for them instead of failing
     * here; each queue
     * starting after its position in {@code after} (same order as {@code queues}; null: at the
     * head); each lease lasting {@code lease} unless the holder beats again (its heartbeat timeout).
     *
     * <p>Resuming skips the dead index entries at the head of a queue that is being drained, but
     * also any claimable job that sorts before the position: a higher priority one, one approved
     * late with an early run_at, a reclaimed one. The caller claims from the head again when it
     * hears of such a job (a NOTIFY hint), when a resumed claim comes back short, and at least
     * once per poll interval.
     */
    public List<Job> claim(
            String workerId,
            List<String> queues,
            List<ClaimPosition> after,
            Collection<String> types,
            int limit,
            Collection<Long> exclude,
            Duration lease) {
        Objects.requireNonNull(workerId, "workerId");
        double leaseSeconds = seconds("lease", lease);
        if (queues.size() != after.size()) {
            throw new IllegalArgumentException(
                    queues.size() + " queues but " + after.size() + " positions; give one per queue (null: the head)");
        }
        if (limit <= 0 || queues.isEmpty()) {
            return List.of();
        }
        int n = queues.size();
        Integer[] priorities = new Integer[n];
        // As text: Instant.toString() keeps every digit the database gave (microseconds), where a
        // round trip through the JVM's time zone might not.
        String[] runAts = new String[n];
        Long[] ids = new Long[n];
        for (int i = 0; i < n; i++) {
            ClaimPosition p = after.get(i);
            if (p != null) {
                priorities[i] = p.priority();
                runAts[i] = p.runAt().toString();
                ids[i] = p.id();
            }
        }
        List<Job> claimed = Sql.query(
                dataSource,
                "claim jobs for " + workerId,
                CLAIM,
                ps -> {
                    ps.setString(1, workerId);
                    Sql.setArray(ps, 2, "bigint", exclude);
                    Sql.setArray(ps, 3, "text", types);
                    ps.setInt(4, limit);
                    ps.setDouble(5, leaseSeconds);
                    Sql.setArray(ps, 6, "text", queues);
                    Sql.setArray(ps, 7, "int2", priorities);
                    Sql.setArray(ps, 8, "text", runAts);
                    Sql.setArray(ps, 9, "bigint", ids);
                },
                JobRows::job);
        if (claimed.size() > limit) {
            throw new IllegalStateException("claimed " + claimed.size() + " jobs for " + limit + " slots");
        }
        return claimed;
    }

    /** Progress and stage to report with a heartbeat; null fields are unchanged since the last beat. */
    public record Beat(Lease lease, Integer progressPercentage, String stage) {
        public Beat {
            if (progressPercentage != null && (progressPercentage < 0 || progressPercentage > 100)) {
                throw new IllegalArgumentException("progress must be between 0 and 100, got " + progressPercentage);
            }
        }
    }

    /** As {@link #heartbeat(String, List, Duration)} with the {@link #DEFAULT_LEASE}. */
    public HeartbeatResult heartbeat(String workerId, List<Beat> beats) {
        return heartbeat(workerId, beats, DEFAULT_LEASE);
    }

    /**
     * Extends the leases of all of one worker's running jobs by {@code lease} (its heartbeat
     * timeout) in one statement and writes the progress reported since the last beat. Returns
     * which leases are still held; for the others the worker must interrupt the handler and
     * discard its outcome. Of those, the ones that were cancelled are named (a person's decision,
     * not a fault).
     */
    public HeartbeatResult heartbeat(String workerId, List<Beat> beats, Duration lease) {
        double leaseSeconds = seconds("lease", lease);
        if (beats.isEmpty()) {
            return new HeartbeatResult(Set.of(), Set.of(), Set.of());
        }
        int n = beats.size();
        Long[] ids = new Long[n];
        Integer[] attempts = new Integer[n];
        Integer[] progress = new Integer[n];
        String[] stages = new String[n];
        for (int i = 0; i < n; i++) {
            Beat b = beats.get(i);
            b.lease().requireHeldBy(workerId);
            ids[i] = b.lease().jobId();
            attempts[i] = b.lease().attempt();
            progress[i] = b.progressPercentage();
            stages[i] = b.stage();
        }
        Set<Long> held = Set.copyOf(Sql.query(
                dataSource,
                "heartbeat of " + workerId,
                HEARTBEAT,
                ps -> {
                    Sql.setArray(ps, 1, "bigint", ids);
                    Sql.setArray(ps, 2, "int4", attempts);
                    Sql.setArray(ps, 3, "int4", progress);
                    Sql.setArray(ps, 4, "text", stages);
                    ps.setDouble(5, leaseSeconds);
                    ps.setString(6, workerId);
                },
                rs -> rs.getLong("id")));
        Set<Long> lost = new HashSet<>(List.of(ids));
        if (lost.size() != n) {
            throw new IllegalStateException("heartbeat listed a job twice: " + List.of(ids));
        }
        lost.removeAll(held);
        return new HeartbeatResult(held, Set.copyOf(lost), lost.isEmpty() ? Set.of() : cancelled(lost));
    }

    /** Writes progress and stage at once (rather than with the next heartbeat), fenced. */
    public Fenced progress(Lease lease, Integer progressPercentage, String stage) {
        HeartbeatResult r = heartbeat(lease.workerId(), List.of(new Beat(lease, progressPercentage, stage)));
        return r.held().contains(lease.jobId())
                ? new Written(lease.jobId(), JobStatus.PROCESSING, null)
                : new LeaseLost(lease);
    }

    /** Which of {@code ids} are cancelled now: read only when a lease turned out lost. */
    public Set<Long> cancelled(Collection<Long> ids) {
        return Set.copyOf(Sql.query(
                dataSource,
                "read which jobs were cancelled",
                CANCELLED_AMONG,
                ps -> Sql.setArray(ps, 1, "bigint", ids),
                rs -> rs.getLong("id")));
    }

    /**
     * Graceful shutdown: the given leases go back to approved at once, without using an attempt.
     * Returns the ids that were released (a lease already lost is not).
     */
    public Set<Long> release(String workerId, Collection<Lease> leases) {
        if (leases.isEmpty()) {
            return Set.of();
        }
        leases.forEach(l -> l.requireHeldBy(workerId));
        return Set.copyOf(Sql.query(
                dataSource,
                "release jobs of " + workerId,
                RELEASE,
                ps -> {
                    ps.setString(1, workerId);
                    Sql.setArray(
                            ps, 2, "bigint", leases.stream().map(Lease::jobId).toArray());
                    Sql.setArray(
                            ps, 3, "int4", leases.stream().map(Lease::attempt).toArray());
                },
                rs -> rs.getLong("id")));
    }

    private static double seconds(String what, Duration d) {
        Objects.requireNonNull(d, what);
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be positive, got " + d);
        }
        return d.toMillis() / 1e3;
    }
}
