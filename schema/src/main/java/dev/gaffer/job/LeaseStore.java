package dev.gaffer.job;

import static dev.gaffer.job.JobHistory.RECORD;
import static dev.gaffer.job.JobRows.COLUMNS;

import dev.gaffer.db.Sql;
import dev.gaffer.job.Results.Fenced;
import dev.gaffer.job.Results.HeartbeatResult;
import dev.gaffer.job.Results.LeaseLost;
import dev.gaffer.job.Results.Written;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
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
     * The claim alone commits with {@code synchronous_commit = off} for its own transaction
     * ({@code set_config(…, true)}, as SET LOCAL): it returns as soon as the commit is in the WAL
     * buffers, and the WAL writer flushes it within {@code wal_writer_delay} (200 ms by default).
     * A claim that a server crash loses in between is as if it had never happened: the job is
     * approved again with its attempt unspent, and every write of the worker that claimed it is
     * fenced by {@code (attempt, locked_by, status)} and so matches no row (a claim by the same
     * worker again is found by the worker's check for jobs it already runs). The handler may have
     * started: that is a second run of an at-least-once job, as after any lost worker. Nothing
     * written by a job, and no completion, is ever unflushed: the first synchronous commit after
     * the claim (a heartbeat, the completion) flushes the WAL up to itself, the claim included. A
     * round that carries completions ({@link #CLAIM_AND_COMPLETE}) commits as usual.
     *
     * <p>Found with the ping-pong benchmark (docs/benchmarks.md, issue 16): after a few
     * milliseconds idle, a one-row update with a durable commit took 0.45 – 0.54 ms here against 0.16 ms
     * in a tight loop (the WAL flush of an idle machine), and a job's pickup waits for two such
     * commits, its approval's and its claim's.
     */
    static final String UNFLUSHED_COMMIT = ", set_config('synchronous_commit', 'off', true) AS commit_mode";

    /** What a claim writes into each row it takes, from the CTE {@code claim} of the statement. */
    private static final String CLAIM_SET = """
                   SET status = 'processing', attempt = j.attempt + 1, locked_by = (SELECT worker FROM claim),
                       heartbeat_at = now(), claimed_at = now(),
                       lease_expires_at = (SELECT lease_until FROM claim),
                       started_at = COALESCE(j.started_at, now()), updated_at = now()
            """;

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
     *
     * <p>These are the claim's CTEs, up to {@code claimed} (the claimed rows), shared by {@link
     * #CLAIM} and {@link #CLAIM_AND_COMPLETE}.
     */
    private static final String CLAIM_CTES = """
            claim AS (SELECT ?::text AS worker, ?::bigint[] AS exclude, ?::text[] AS types, ?::int AS slots,
                                  now() + make_interval(secs => ?::double precision) AS lease_until%s),
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
            """ + CLAIM_SET + """
                 WHERE j.id = ANY (ARRAY(SELECT id FROM candidates))
                RETURNING j.*)\
            """;

    /**
     * The claim on its own. It writes no event: since V010 the event that ends an attempt carries
     * when it started ({@code attempt_started_at}, from {@code jobs.claimed_at}), and it sends no
     * hint, since nothing waits for one. It commits without waiting for its WAL to reach the disk
     * ({@link #UNFLUSHED_COMMIT}).
     */
    static final String CLAIM = """
            WITH %s
            SELECT %s FROM claimed ORDER BY priority DESC, run_at, id
            """.formatted(CLAIM_CTES.formatted(UNFLUSHED_COMMIT), COLUMNS);

    /**
     * The pickup: one job, named by the hint that announced it, claimed as {@link #CLAIM} claims
     * (same fence, same lease, the same unflushed commit) if it is still claimable by this worker:
     * approved, due, in one of its queues, of a type it handles, and not locked by another claim
     * (SKIP LOCKED: an idle worker that loses the race gets nothing and waits as before). A
     * primary-key lookup, where the claim reads the queue's index from its head.
     */
    static final String PICK_UP = """
            WITH claim AS (SELECT ?::text AS worker, ?::bigint AS id, ?::text[] AS queues, ?::text[] AS types,
                                  now() + make_interval(secs => ?::double precision) AS lease_until%s),
            candidate AS MATERIALIZED (
                SELECT j.id FROM jobs j, claim
                 WHERE j.id = claim.id AND j.status = 'approved' AND j.run_at <= now()
                   AND j.queue = ANY (claim.queues) AND (claim.types IS NULL OR j.type = ANY (claim.types))
                   FOR UPDATE OF j SKIP LOCKED),
            claimed AS (
                UPDATE jobs j
            """.formatted(UNFLUSHED_COMMIT) + CLAIM_SET + """
                 WHERE j.id = (SELECT id FROM candidate)
                RETURNING j.*)
            SELECT %s FROM claimed
            """.formatted(COLUMNS);

    /**
     * One round of a worker: completes the top-level jobs whose handlers finished (as {@link
     * OutcomeStore#COMPLETE_TOP_LEVEL}: fenced, no parent) and claims the next jobs (as {@link
     * #CLAIM}) in one statement and one commit, instead of a completion statement and a claim
     * statement. The completed rows are processing rows of this worker, the claimed ones approved
     * rows: no row is in both. The last branch of the UNION is one row with the completed ids
     * (its job columns NULL, {@code nothing_claimed} true), so that they come back even when
     * nothing was claimed; they came on every claimed row before, and a round of n completions and
     * n claims sent n² ids, at 512 of each about 3 MB per round and most of the worker's CPU (found
     * with a profile of the burn-down at a prefetch of 512, docs/benchmarks.md).
     *
     * <p>The claim runs first: PostgreSQL runs a data-modifying CTE when the query first reads it,
     * so the claimed rows are the first branch. The whole statement reads with the snapshot of its
     * start, and its {@code FOR UPDATE} meets every row that another worker claimed after that
     * snapshot: READ COMMITTED locks the row's newest version before it re-checks the WHERE clause,
     * finds it processing and skips it, but keeps the lock until this round commits, and the other
     * worker's completion of that row waits for this round. With the completions first, the claim
     * read from a snapshot as old as the completions took, and with four workers their rounds
     * spent a quarter of their time in {@code Lock: transactionid} (samples of pg_stat_activity,
     * docs/benchmarks.md, issue 16); claiming first leaves them a window of the claim's own scan. The claimed rows
     * come in no particular order: the caller sorts them ({@link #CLAIM_ORDER}). Each completion's
     * history entry is written into its own row ({@link JobHistory#COMPLETION}: no job_events row,
     * no hint, since nothing waits for one).
     *
     * <p>The fence compares the status with a sub-select rather than the literal: with the literal
     * the generic plan (the claim connection forces one) read every processing row of the
     * partial index jobs_processing_idx and joined the completions to them in a nested loop, 20 ms
     * for 128 completions with 256 rows held; with the sub-select the index's predicate is not
     * implied, and each completion is one primary-key lookup (1.9 ms). Found with EXPLAIN ANALYZE
     * of the statement during the burn-down (docs/benchmarks.md, issue 16).
     */
    static final String CLAIM_AND_COMPLETE = """
            WITH %s,
            outcomes AS (
                SELECT * FROM unnest(?::bigint[], ?::int[], ?::text[]) AS o(id, attempt, result)),
            done AS (
                UPDATE jobs j
                   SET status = 'completed', result = o.result::jsonb, progress_percentage = 100, %s,
                       updated_at = now(), locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL
                  FROM outcomes o
                 WHERE j.id = o.id AND j.attempt = o.attempt AND j.locked_by = (SELECT worker FROM claim)
                   AND j.status = (SELECT 'processing'::job_status) AND j.parent_id IS NULL
                RETURNING j.id)
            SELECT NULL::bigint[] AS completed_ids, false AS nothing_claimed, %s FROM claimed
            UNION ALL
            SELECT (SELECT array_agg(id) FROM done), true, %s
            """.formatted(
                    CLAIM_CTES.formatted(""),
                    JobHistory.COMPLETION.formatted("(SELECT worker FROM claim)"),
                    COLUMNS,
                    String.join(", ", java.util.Collections.nCopies(COLUMNS.split(",").length, "NULL")));

    /**
     * One statement for all running jobs of a worker: extends each lease that is still held by the
     * worker's own timeout and writes the progress and stage reported since the last beat (NULL:
     * unchanged; 100 is written as 99, since 100 % means completed). Only the columns written here
     * change, none of them indexed, so the updates stay HOT.
     *
     * <p>The status is compared with a sub-select, as in {@link #CLAIM_AND_COMPLETE}: with the
     * literal, the generic plan read every entry of jobs_processing_idx under the worker's name
     * (live and dead: during a drain, tens of thousands) and joined the beats to them in a
     * nested loop, 41 ms per beat at 1 M queued (pg_stat_statements), holding the locks of the
     * worker's jobs meanwhile, so that its own rounds' completions waited; now each beat is one
     * primary-key lookup (docs/benchmarks.md, 2026-12-07).
     *
     * <p>It runs with {@link #GENERIC_PLAN} ({@link #heartbeat(Connection, String, List, Duration)}).
     * A custom plan, which a pool connection makes for a statement's first executions, sees the
     * size of the beats but estimates the worker's processing rows from the table's statistics,
     * where a worker's name (new at every start) is not: one row. It then scanned the whole table
     * for that row and compared each of its rows with every beat, 1 s for 2 000 jobs held (EXPLAIN
     * ANALYZE), while the worker's rounds waited for the beat (docs/benchmarks.md, 2026-12-08).
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
                 WHERE j.id = b.id AND j.attempt = b.attempt AND j.locked_by = ?
                   AND j.status = (SELECT 'processing'::job_status)
                RETURNING j.id, j.queue, j.status, j.attempt, j.locked_by, j.progress_percentage, j.current_stage,
                          (b.progress IS NOT NULL OR b.stage IS NOT NULL) AS reported),
            changes AS (
                SELECT id, queue, 'progress'::job_event_kind AS kind, status, attempt, locked_by AS worker_id,
                       NULL::text AS actor, progress_percentage, current_stage AS stage, NULL::text AS message,
                       NULL::timestamptz AS attempt_started_at, NULL::bigint AS event_id
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
                       'worker shut down before the job finished' AS message, r.claimed_at AS attempt_started_at,
                       NULL::bigint AS event_id
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
        if (limit <= 0 || queues.isEmpty()) {
            checkClaim(workerId, queues, after, lease);
            return List.of();
        }
        ClaimBinding claim = new ClaimBinding(workerId, queues, after, types, limit, exclude, lease);
        List<Job> claimed = Sql.query(dataSource, "claim jobs for " + workerId, CLAIM, claim::bind, JobRows::job);
        if (claimed.size() > limit) {
            throw new IllegalStateException("claimed " + claimed.size() + " jobs for " + limit + " slots");
        }
        return claimed;
    }

    /**
     * Claims job {@code jobId} for {@code workerId} on {@code connection} (in autocommit), if it
     * is claimable in one of {@code queues} and of one of {@code types} (null: any type); empty
     * if not. For the worker that hears of a job's approval while it has nothing to do: it
     * claims on the connection that told it, whose backend is awake, instead of waking its claim
     * loop and that loop's backend (docs/benchmarks.md, ping-pong). The caller makes sure it does
     * not run an earlier attempt of this job still.
     */
    public Optional<Job> pickUp(
            Connection connection,
            String workerId,
            long jobId,
            Collection<String> queues,
            Collection<String> types,
            Duration lease)
            throws SQLException {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(workerId, "workerId");
        double seconds = seconds("lease", lease);
        if (queues.isEmpty()) {
            return Optional.empty();
        }
        if (!connection.getAutoCommit()) {
            throw new IllegalStateException("a pickup commits on its own: the connection must be in autocommit");
        }
        List<Job> rows = Sql.query(
                connection,
                PICK_UP,
                ps -> {
                    ps.setString(1, workerId);
                    ps.setLong(2, jobId);
                    Sql.setArray(ps, 3, "text", queues);
                    Sql.setArray(ps, 4, "text", types);
                    ps.setDouble(5, seconds);
                },
                JobRows::job);
        if (rows.size() > 1) {
            throw new IllegalStateException("picked up " + rows.size() + " rows for job " + jobId);
        }
        return rows.stream().findFirst();
    }

    /** What one {@link #claimAndComplete} did: the jobs it completed and the jobs it claimed, in claim order. */
    public record Round(Set<Long> completed, List<Job> claimed) {}

    /**
     * One round of a worker in one statement and one commit: completes {@code completions} (top-level
     * jobs of this worker, each fenced as in {@link OutcomeStore#completeMany}; the ones that do not
     * qualify, a lease lost or a sub-job, are left alone and not among {@link Round#completed()})
     * and claims up to {@code limit} jobs as {@link #claim(String, List, List, Collection, int,
     * Collection, Duration)} does. {@code limit} may be 0 (complete only); {@code completions} may
     * be empty (claim only).
     */
    public Round claimAndComplete(
            String workerId,
            List<String> queues,
            List<ClaimPosition> after,
            Collection<String> types,
            int limit,
            Collection<Long> exclude,
            Duration lease,
            List<OutcomeStore.Completion> completions) {
        checkClaim(workerId, queues, after, lease);
        if (limit < 0) {
            throw new IllegalArgumentException("limit must not be negative, got " + limit);
        }
        int n = completions.size();
        OutcomeStore.Completion[] byId = completions.toArray(new OutcomeStore.Completion[0]);
        // Ascending ids: the UPDATE's nested loop then locks the rows in id order.
        Arrays.sort(byId, BY_JOB_ID);
        long[] ids = new long[n];
        int[] attempts = new int[n];
        String[] results = new String[n];
        for (int i = 0; i < n; i++) {
            OutcomeStore.Completion c = byId[i];
            c.lease().requireHeldBy(workerId);
            ids[i] = c.lease().jobId();
            if (i > 0 && ids[i] == ids[i - 1]) {
                throw new IllegalArgumentException("job " + ids[i] + " is listed twice");
            }
            attempts[i] = c.lease().attempt();
            results[i] = c.result() == null ? null : Json.write(c.result());
        }
        ClaimBinding claim = new ClaimBinding(workerId, queues, after, types, limit, exclude, lease);
        Set<Long> done = new HashSet<>();
        List<Job> claimed = new ArrayList<>();
        Sql.query(
                dataSource,
                "claim and complete for " + workerId,
                CLAIM_AND_COMPLETE,
                ps -> {
                    // Bound again if the statement is retried: start the answer afresh.
                    done.clear();
                    claimed.clear();
                    claim.bind(ps);
                    Sql.setLongs(ps, 10, ids);
                    Sql.setInts(ps, 11, attempts);
                    Sql.setArray(ps, 12, "text", results);
                },
                rs -> {
                    if (rs.getBoolean(2)) {
                        // The one row of the completions (its job columns NULL).
                        java.sql.Array a = rs.getArray(1);
                        if (a != null) {
                            for (Object id : (Object[]) a.getArray()) {
                                if (!done.add(((Number) id).longValue())) {
                                    throw new IllegalStateException("completed job " + id + " twice in one round");
                                }
                            }
                        }
                    } else {
                        claimed.add(JobRows.job(rs, 3));
                    }
                    return null;
                });
        // In claim order, which the statement leaves to its caller (a sort of a few hundred rows
        // in PostgreSQL was a measurable part of the round).
        claimed.sort(CLAIM_ORDER);
        if (claimed.size() > limit) {
            throw new IllegalStateException("claimed " + claimed.size() + " jobs for " + limit + " slots");
        }
        for (long id : done) {
            if (Arrays.binarySearch(ids, id) < 0) {
                throw new IllegalStateException("completing " + Arrays.toString(ids) + " changed job " + id);
            }
        }
        return new Round(done, claimed);
    }

    /** The claim's order: priority descending, then run_at, then id. */
    static final java.util.Comparator<Job> CLAIM_ORDER = java.util.Comparator.comparingInt(Job::priority)
            .reversed()
            .thenComparing(Job::runAt)
            .thenComparingLong(Job::id);

    private static final java.util.Comparator<OutcomeStore.Completion> BY_JOB_ID =
            java.util.Comparator.comparingLong(c -> c.lease().jobId());

    private static void checkClaim(String workerId, List<String> queues, List<ClaimPosition> after, Duration lease) {
        Objects.requireNonNull(workerId, "workerId");
        seconds("lease", lease);
        if (queues.size() != after.size()) {
            throw new IllegalArgumentException(
                    queues.size() + " queues but " + after.size() + " positions; give one per queue (null: the head)");
        }
    }

    /** The claim's nine parameters, bound in the order of {@link #CLAIM_CTES}. */
    private static final class ClaimBinding {
        private final String workerId;
        private final Collection<String> types;
        private final int limit;
        private final long[] exclude;
        private final double leaseSeconds;
        private final List<String> queues;
        private final Integer[] priorities;
        private final String[] runAts;
        private final Long[] ids;

        ClaimBinding(
                String workerId,
                List<String> queues,
                List<ClaimPosition> after,
                Collection<String> types,
                int limit,
                Collection<Long> exclude,
                Duration lease) {
            checkClaim(workerId, queues, after, lease);
            this.workerId = workerId;
            this.types = types;
            this.limit = limit;
            this.exclude = exclude == null
                    ? new long[0]
                    : exclude.stream().mapToLong(Long::longValue).toArray();
            this.leaseSeconds = seconds("lease", lease);
            this.queues = queues;
            int n = queues.size();
            priorities = new Integer[n];
            // As text: Instant.toString() keeps every digit the database gave (microseconds), where a
            // round trip through the JVM's time zone might not.
            runAts = new String[n];
            ids = new Long[n];
            for (int i = 0; i < n; i++) {
                ClaimPosition p = after.get(i);
                if (p != null) {
                    priorities[i] = p.priority();
                    runAts[i] = p.runAt().toString();
                    ids[i] = p.id();
                }
            }
        }

        void bind(PreparedStatement ps) throws SQLException {
            ps.setString(1, workerId);
            Sql.setLongs(ps, 2, exclude);
            Sql.setArray(ps, 3, "text", types);
            ps.setInt(4, limit);
            ps.setDouble(5, leaseSeconds);
            Sql.setArray(ps, 6, "text", queues);
            Sql.setArray(ps, 7, "int2", priorities);
            Sql.setArray(ps, 8, "text", runAts);
            Sql.setArray(ps, 9, "bigint", ids);
        }
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
        seconds("lease", lease);
        if (beats.isEmpty()) {
            return new HeartbeatResult(Set.of(), Set.of(), Set.of());
        }
        List<Long> ids = new ArrayList<>(beats.size());
        for (Beat b : beats) {
            b.lease().requireHeldBy(workerId);
            ids.add(b.lease().jobId());
        }
        Set<Long> lost = new HashSet<>(ids);
        if (lost.size() != ids.size()) {
            throw new IllegalStateException("heartbeat listed a job twice: " + ids);
        }
        Set<Long> held = Sql.inRetriedTransaction(
                dataSource, "heartbeat of " + workerId, c -> heartbeat(c, workerId, beats, lease));
        lost.removeAll(held);
        return new HeartbeatResult(held, Set.copyOf(lost), lost.isEmpty() ? Set.of() : cancelled(lost));
    }

    /** Makes the plans of the rest of the transaction without looking at the parameters' values. */
    static final String GENERIC_PLAN = "SET LOCAL plan_cache_mode = force_generic_plan";

    /**
     * The heartbeat's statement on {@code c}, which is in a transaction (the caller commits): the
     * leases still held. {@link #GENERIC_PLAN} first, see {@link #HEARTBEAT}.
     */
    static Set<Long> heartbeat(Connection c, String workerId, List<Beat> beats, Duration lease) throws SQLException {
        double leaseSeconds = seconds("lease", lease);
        try (var st = c.createStatement()) {
            st.execute(GENERIC_PLAN);
        }
        int n = beats.size();
        Long[] ids = new Long[n];
        Integer[] attempts = new Integer[n];
        Integer[] progress = new Integer[n];
        String[] stages = new String[n];
        for (int i = 0; i < n; i++) {
            Beat b = beats.get(i);
            ids[i] = b.lease().jobId();
            attempts[i] = b.lease().attempt();
            progress[i] = b.progressPercentage();
            stages[i] = b.stage();
        }
        return Set.copyOf(Sql.query(
                c,
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
