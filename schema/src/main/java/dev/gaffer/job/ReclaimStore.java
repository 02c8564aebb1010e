package dev.gaffer.job;

import static dev.gaffer.job.JobHistory.RECORD;

import dev.gaffer.db.Sql;
import dev.gaffer.job.Results.ReclaimResult;
import java.time.Duration;
import java.util.Collection;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The cluster's maintenance writes: leases that ran out go back to approved (or to failed on their
 * last attempt), the jobs of a worker's predecessors that are gone are freed at its start, and
 * finished jobs are pruned after their retention. Run by one worker of the cluster at a time
 * (db-scheduler) or at a worker's start. Every statement's text, as PostgreSQL receives it, is in
 * {@code schema/src/test/resources/sql/ReclaimStore.*.sql}.
 */
public final class ReclaimStore {

    /**
     * The reclaim: returns the processing jobs that match {@code which} to approved (or failed
     * when their attempts are used up). The rows are locked with SKIP LOCKED: a row that a heartbeat or a completion
     * is writing right now is alive and left alone, and a row whose lease changed before the lock
     * is re-checked against the predicate. {@code error} is the reason recorded in last_error.
     *
     * <p>run_at is left as it was (it had passed, or the job could not have been claimed): a
     * reclaimed job keeps its place at the head of the claim order instead of queueing behind a
     * backlog that arrived after it, so a dead worker costs its jobs seconds, not the backlog's
     * length. Measured in docs/reliability.md (scenario 2).
     */
    private static String reclaim(String which, String error) {
        return """
            WITH stale AS MATERIALIZED (
                SELECT id, locked_by, heartbeat_at, lease_expires_at FROM jobs
                 WHERE status = 'processing' AND %1$s
                 ORDER BY id
                 LIMIT ?
                   FOR UPDATE SKIP LOCKED),
            reclaimed AS (
                UPDATE jobs j
                   SET status = CASE WHEN j.attempt < j.max_attempts THEN 'approved' ELSE 'failed' END::job_status,
                       finished_at = CASE WHEN j.attempt < j.max_attempts THEN NULL ELSE now() END,
                       finished_event_id = CASE WHEN j.attempt < j.max_attempts THEN NULL
                                                ELSE nextval('job_events_id_seq') END,
                       last_error = %2$s,
                       locked_by = NULL, heartbeat_at = NULL, lease_expires_at = NULL, updated_at = now()
                  FROM stale s
                 WHERE j.id = s.id
                RETURNING j.*, s.locked_by AS previous_worker),
            finished AS (SELECT id, parent_id, status, last_error FROM reclaimed WHERE status = 'failed'),
            %3$s,
            changes AS (
                SELECT id, queue, CASE WHEN status = 'approved' THEN 'reclaimed' ELSE 'failed' END::job_event_kind AS kind,
                       status, attempt, previous_worker AS worker_id, NULL::text AS actor, progress_percentage,
                       current_stage AS stage, last_error AS message, claimed_at AS attempt_started_at,
                       finished_event_id AS event_id
                  FROM reclaimed
                UNION ALL
                %4$s),
            %5$s
                SELECT status::text AS status, count(*) AS n, (SELECT count(*) FROM notified) AS notified
                  FROM reclaimed GROUP BY status
                """.formatted(which, error, FanIn.of("SELECT id FROM reclaimed"), FanIn.CHANGES, RECORD);
    }

    /**
     * Leases whose holder let them end: each was written by its holder with its own timeout, so a
     * reclaimer configured with a shorter timeout never takes a healthy job of a slower-beating
     * worker.
     */
    static final String RECLAIM_EXPIRED = reclaim(
            "lease_expires_at < now()",
            "format('reclaimed: worker %s stopped heartbeating (last heartbeat %s, lease ended %s)',"
                    + " s.locked_by, s.heartbeat_at, s.lease_expires_at)");

    /**
     * Startup recovery: the jobs of earlier processes of this worker's name that the caller found
     * gone (see WorkerStore.predecessors); their ids are given, never derived from the name.
     */
    static final String RECOVER_PREDECESSORS = reclaim(
            "locked_by = ANY (?::text[])",
            "format('reclaimed: worker %s was restarted as a new process', s.locked_by)");

    /**
     * One step of pruning: reads the next {@code ?} finished jobs in the order they finished
     * (jobs_finished_event_idx, after finished_event_id {@code ?}) and deletes those of them that
     * are top-level and older than the retention; their sub-jobs go with them (the foreign key's
     * ON DELETE CASCADE), and the events of all of them (trigger jobs_delete_events). Sub-jobs are
     * never pruned on their own: a parent may still need them, and the walk steps over them.
     * Returns how many it deleted, the last finished_event_id it read (NULL: nothing was left to
     * read) and how many of the jobs it read are still within the retention (the walk ends there:
     * jobs finish in the order of their finished_event_id).
     */
    static final String PRUNE = """
            WITH args AS (SELECT now() - make_interval(secs => ?::double precision) AS cutoff),
            scanned AS MATERIALIZED (
                SELECT id, parent_id, finished_at, finished_event_id FROM jobs
                 WHERE finished_event_id > ?
                 ORDER BY finished_event_id
                 LIMIT ?),
            deleted AS (
                DELETE FROM jobs j USING scanned s, args
                 WHERE j.id = s.id AND s.parent_id IS NULL AND s.finished_at < args.cutoff
                RETURNING j.id)
            SELECT (SELECT count(*) FROM deleted) AS deleted,
                   (SELECT max(finished_event_id) FROM scanned) AS last_read,
                   (SELECT count(*) FROM scanned, args WHERE scanned.finished_at >= args.cutoff) AS retained
            """;

    private final DataSource dataSource;

    public ReclaimStore(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Returns up to {@code limit} processing jobs whose lease has ended ({@code lease_expires_at}
     * has passed, database clock) to approved, or to failed when their attempts are used up. Each
     * lease's end was written by its holder with its own timeout.
     */
    public ReclaimResult reclaimExpired(int limit) {
        return reclaim("reclaim jobs with expired leases", RECLAIM_EXPIRED, ps -> ps.setInt(1, limit));
    }

    /**
     * Startup recovery: frees the jobs still held by {@code workerIds}, earlier processes of a
     * worker's name that the caller found gone (their leases are fenced off from now on).
     */
    public ReclaimResult recoverPredecessors(Collection<String> workerIds, int limit) {
        if (workerIds.isEmpty()) {
            return new ReclaimResult(0, 0);
        }
        return reclaim("recover jobs of " + workerIds, RECOVER_PREDECESSORS, ps -> {
            Sql.setArray(ps, 1, "text", workerIds);
            ps.setInt(2, limit);
        });
    }

    private ReclaimResult reclaim(String what, String sql, Sql.Binder binder) {
        int requeued = 0;
        int failed = 0;
        for (var row :
                Sql.query(dataSource, what, sql, binder, rs -> new Object[] {rs.getString("status"), rs.getInt("n")})) {
            switch ((String) row[0]) {
                case "approved" -> requeued = (Integer) row[1];
                case "failed" -> failed = (Integer) row[1];
                default -> throw new IllegalStateException("reclaim produced status " + row[0]);
            }
        }
        return new ReclaimResult(requeued, failed);
    }

    /**
     * Deletes finished top-level jobs older than {@code retention}, oldest first, reading at most
     * {@code limit} finished jobs per statement (each its own short transaction), until it has
     * deleted {@code limit} or reached the jobs within the retention; returns how many it deleted.
     */
    public int pruneFinished(Duration retention, int limit) {
        int deleted = 0;
        long after = 0;
        while (deleted < limit) {
            long from = after;
            PruneStep step = Sql.query(
                            dataSource,
                            "prune finished jobs",
                            PRUNE,
                            ps -> {
                                ps.setDouble(1, retention.toNanos() / 1e9);
                                ps.setLong(2, from);
                                ps.setInt(3, limit);
                            },
                            rs -> new PruneStep(
                                    rs.getInt("deleted"), (Long) rs.getObject("last_read"), rs.getLong("retained") > 0))
                    .getFirst();
            deleted += step.deleted();
            if (step.lastRead() == null || step.reachedRetained()) {
                break;
            }
            after = step.lastRead();
        }
        return deleted;
    }

    /** One {@link #PRUNE}: jobs deleted, the last finished_event_id read (null: none left), whether it read a retained job. */
    private record PruneStep(int deleted, Long lastRead, boolean reachedRetained) {}
}
