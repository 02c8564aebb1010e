package dev.gaffer.job;

import dev.gaffer.db.Sql;
import java.sql.Types;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The reads of jobs and their history: one job, its sub-jobs, its events, the feed of all events,
 * and the listings and counts behind the API and its dashboard. Nothing here changes a row; the
 * writes are {@link JobRequests}', {@link LeaseStore}'s, {@link OutcomeStore}'s and {@link
 * ReclaimStore}'s.
 */
public final class JobQueries {

    /** Most rows one page of {@link #list} returns. */
    public static final int MAX_PAGE_SIZE = 200;

    /** Most minutes {@link #throughput} looks back. */
    public static final int MAX_THROUGHPUT_MINUTES = 24 * 60;

    /** Which jobs to list; a null field does not filter. */
    public record JobFilter(JobStatus status, String type, String queue, Long parentId) {
        public static final JobFilter ALL = new JobFilter(null, null, null, null);
    }

    /** One page, newest first; {@code nextCursor} is the id to pass as {@code beforeId} next, or null at the end. */
    public record Page(List<Job> jobs, Long nextCursor) {}

    /** How many jobs one queue holds in one status. */
    public record StatusCount(String queue, JobStatus status, long count) {}

    /** Jobs that reached a terminal state in one minute (database clock, truncated to the minute). */
    public record MinuteThroughput(Instant minute, long completed, long failed, long cancelled) {}

    /**
     * Keyset pagination on the primary key, newest first: {@code id < cursor} walks the primary
     * key index backwards and stops after LIMIT matching rows, so page 1000 costs what page 1
     * costs. Each filter is "parameter IS NULL OR column = parameter", which keeps one statement
     * (and one prepared plan) for every combination; the plan is the same backward index scan
     * with a filter either way. A very selective filter over a huge table would want its own
     * index; parent_id has one (jobs_parent_idx).
     */
    private static final String LIST = """
            SELECT %s FROM jobs
             WHERE id < ?
               AND (?::job_status IS NULL OR status = ?::job_status)
               AND (?::text IS NULL OR type = ?::text)
               AND (?::text IS NULL OR queue = ?::text)
               AND (?::bigint IS NULL OR parent_id = ?::bigint)
             ORDER BY id DESC
             LIMIT ?""".formatted(JobRows.COLUMNS);

    private static final String COUNT_BY_QUEUE_AND_STATUS = """
            SELECT queue, status::text AS status, count(*) AS n
              FROM jobs
             GROUP BY queue, status
             ORDER BY queue, status""";

    /**
     * Terminal jobs per minute over the last {@code ?} minutes, including empty minutes. Finished
     * jobs are found through jobs_finished_event_idx, newest first: {@code after} is the newest
     * job that finished a minute before the window began (a transaction that took its finishing id
     * before and its start time after that one's would have had to run for a minute), and the
     * window's jobs are those after it; their finished_at places them in their minute exactly.
     */
    private static final String THROUGHPUT_PER_MINUTE = """
            WITH span AS (SELECT date_trunc('minute', now()) - make_interval(mins => ? - 1) AS since),
            after AS (
                SELECT COALESCE((SELECT j.finished_event_id FROM jobs j
                                  WHERE j.finished_event_id IS NOT NULL
                                    AND j.finished_at < (SELECT since FROM span) - interval '1 minute'
                                  ORDER BY j.finished_event_id DESC
                                  LIMIT 1), 0) AS id),
            recent AS (
                SELECT j.id, j.status, j.finished_at FROM jobs j
                 WHERE j.finished_event_id > (SELECT id FROM after) AND j.finished_at >= (SELECT since FROM span))
            SELECT m.minute,
                   count(j.id) FILTER (WHERE j.status = 'completed') AS completed,
                   count(j.id) FILTER (WHERE j.status = 'failed')    AS failed,
                   count(j.id) FILTER (WHERE j.status = 'cancelled') AS cancelled
              FROM span, generate_series(span.since, date_trunc('minute', now()), interval '1 minute') AS m(minute)
              LEFT JOIN recent j ON j.finished_at >= m.minute AND j.finished_at < m.minute + interval '1 minute'
             GROUP BY m.minute
             ORDER BY m.minute""";

    /** The newest event id: of job_events or of a finished job's row (a completion lives there, V011). */
    private static final String LAST_EVENT_ID =
            "SELECT greatest((SELECT max(id) FROM job_events), (SELECT max(finished_event_id) FROM jobs), 0) AS id";

    static final String FIND_BY_ID = "SELECT " + JobRows.COLUMNS + " FROM jobs WHERE id = ?";

    /** A storyboard that a revision replaced (job_storyboards, V022). */
    static final String STORYBOARD_AT = "SELECT storyboard::text AS storyboard, replaced_by, replaced_at"
            + " FROM job_storyboards WHERE job_id = ? AND revision = ?";

    /** A storyboard revision that a later one replaced: what it was, who replaced it and when. */
    public record ReplacedStoryboard(
            long jobId,
            int revision,
            com.fasterxml.jackson.databind.JsonNode storyboard,
            String replacedBy,
            Instant replacedAt) {}

    /** The replaced revisions of a job's storyboard, newest first, with how each ended (V024). */
    static final String REPLACED = "SELECT revision, replaced_by, replaced_at, ended_as::text AS ended_as,"
            + " result::text AS result FROM job_storyboards WHERE job_id = ? ORDER BY revision DESC";

    /**
     * A storyboard revision that a later one replaced: who replaced it and when, and how the job
     * ended at it when it was replaced after it ran (null: replaced while pending) with its result.
     */
    public record ReplacedRevision(
            int revision,
            String replacedBy,
            Instant replacedAt,
            String endedAs,
            com.fasterxml.jackson.databind.JsonNode result) {}

    static final String SUBJOBS = "SELECT " + JobRows.COLUMNS + " FROM jobs WHERE parent_id = ? ORDER BY id";

    /** The view job_history: job_events and the completions kept in the jobs rows (V011). */
    static final String EVENTS_OF_JOB = "SELECT * FROM job_history WHERE job_id = ? AND id > ? ORDER BY id LIMIT ?";

    /**
     * The feed: job_history after an id, written out as its two halves, each limited in its own
     * index order (job_events_pkey, jobs_finished_event_idx), then merged. Through the view,
     * PostgreSQL 15 sorts the completed jobs instead of reading them in index order (a half a
     * second at a million retained, EXPLAIN in docs/benchmarks.md); the columns are the view's.
     */
    static final String EVENTS_AFTER = """
            SELECT * FROM (
                (SELECT id, job_id, kind, status, attempt, worker_id, actor, progress_percentage, stage, message,
                        created_at, attempt_started_at
                   FROM job_events WHERE id > ? ORDER BY id LIMIT ?)
                UNION ALL
                (SELECT finished_event_id, id, 'completed'::job_event_kind, status, attempt, completed_by, NULL::text,
                        progress_percentage, current_stage, NULL::text, finished_at, claimed_at
                   FROM jobs WHERE status = 'completed' AND finished_event_id > ? ORDER BY finished_event_id LIMIT ?)) h
             ORDER BY id LIMIT ?""";

    private final DataSource dataSource;

    public JobQueries(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** Revision {@code revision} of job {@code jobId}'s storyboard, if a later revision replaced it. */
    public Optional<ReplacedStoryboard> replacedStoryboard(long jobId, int revision) {
        return Sql.query(
                        dataSource,
                        "read storyboard revision " + revision + " of job " + jobId,
                        STORYBOARD_AT,
                        ps -> {
                            ps.setLong(1, jobId);
                            ps.setInt(2, revision);
                        },
                        rs -> {
                            String text = rs.getString("storyboard");
                            return new ReplacedStoryboard(
                                    jobId,
                                    revision,
                                    text == null ? null : Json.parse(text),
                                    rs.getString("replaced_by"),
                                    Sql.instant(rs, "replaced_at"));
                        })
                .stream()
                .findFirst();
    }

    /** Every replaced revision of job {@code jobId}'s storyboard, newest first. */
    public List<ReplacedRevision> replacedRevisions(long jobId) {
        return Sql.query(
                dataSource, "list the replaced revisions of job " + jobId, REPLACED, ps -> ps.setLong(1, jobId), rs -> {
                    String result = rs.getString("result");
                    return new ReplacedRevision(
                            rs.getInt("revision"),
                            rs.getString("replaced_by"),
                            Sql.instant(rs, "replaced_at"),
                            rs.getString("ended_as"),
                            result == null ? null : Json.parse(result));
                });
    }

    public Optional<Job> find(long id) {
        return Sql.query(dataSource, "find job " + id, FIND_BY_ID, ps -> ps.setLong(1, id), JobRows::job).stream()
                .findFirst();
    }

    /** The sub-jobs of {@code parentId} (all waves), oldest first. */
    public List<Job> subJobs(long parentId) {
        return Sql.query(
                dataSource, "list sub-jobs of " + parentId, SUBJOBS, ps -> ps.setLong(1, parentId), JobRows::job);
    }

    /** A job's history after event {@code afterId} (0 for all), oldest first. */
    public List<JobEvent> events(long jobId, long afterId, int limit) {
        return Sql.query(
                dataSource,
                "read events of job " + jobId,
                EVENTS_OF_JOB,
                ps -> {
                    ps.setLong(1, jobId);
                    ps.setLong(2, afterId);
                    ps.setInt(3, limit);
                },
                JobRows::event);
    }

    /** Every job's events after {@code afterId}, oldest first: the feed behind live streams. */
    public List<JobEvent> eventsAfter(long afterId, int limit) {
        return Sql.query(
                dataSource,
                "read events",
                EVENTS_AFTER,
                ps -> {
                    ps.setLong(1, afterId);
                    ps.setInt(2, limit);
                    ps.setLong(3, afterId);
                    ps.setInt(4, limit);
                    ps.setInt(5, limit);
                },
                JobRows::event);
    }

    /** The database's clock (tests and tools). */
    public Instant databaseNow() {
        return Sql.query(dataSource, "read the clock", "SELECT now() AS now", ps -> {}, rs -> Sql.instant(rs, "now"))
                .getFirst();
    }

    /** Up to {@code limit} jobs matching {@code filter} with an id below {@code beforeId} (null: from the newest). */
    public Page list(JobFilter filter, Long beforeId, int limit) {
        if (limit < 1 || limit > MAX_PAGE_SIZE) {
            throw new IllegalArgumentException("limit must be between 1 and " + MAX_PAGE_SIZE + ", got " + limit);
        }
        List<Job> rows = Sql.query(
                dataSource,
                "list jobs",
                LIST,
                ps -> {
                    ps.setLong(1, beforeId == null ? Long.MAX_VALUE : beforeId);
                    String status =
                            filter.status() == null ? null : filter.status().dbName();
                    ps.setString(2, status);
                    ps.setString(3, status);
                    ps.setString(4, filter.type());
                    ps.setString(5, filter.type());
                    ps.setString(6, filter.queue());
                    ps.setString(7, filter.queue());
                    if (filter.parentId() == null) {
                        ps.setNull(8, Types.BIGINT);
                        ps.setNull(9, Types.BIGINT);
                    } else {
                        ps.setLong(8, filter.parentId());
                        ps.setLong(9, filter.parentId());
                    }
                    // One more than asked tells whether another page follows.
                    ps.setInt(10, limit + 1);
                },
                JobRows::job);
        if (rows.size() > limit) {
            List<Job> page = List.copyOf(rows.subList(0, limit));
            return new Page(page, page.getLast().id());
        }
        return new Page(List.copyOf(rows), null);
    }

    public List<StatusCount> countByQueueAndStatus() {
        return Sql.query(
                dataSource,
                "count jobs by queue and status",
                COUNT_BY_QUEUE_AND_STATUS,
                ps -> {},
                rs -> new StatusCount(
                        rs.getString("queue"), JobStatus.fromDb(rs.getString("status")), rs.getLong("n")));
    }

    /** Terminal jobs per minute for the last {@code minutes} minutes, oldest first, the current minute last. */
    public List<MinuteThroughput> throughput(int minutes) {
        if (minutes < 1 || minutes > MAX_THROUGHPUT_MINUTES) {
            throw new IllegalArgumentException(
                    "minutes must be between 1 and " + MAX_THROUGHPUT_MINUTES + ", got " + minutes);
        }
        return Sql.query(
                dataSource,
                "measure throughput",
                THROUGHPUT_PER_MINUTE,
                ps -> ps.setInt(1, minutes),
                rs -> new MinuteThroughput(
                        Sql.instant(rs, "minute"),
                        rs.getLong("completed"),
                        rs.getLong("failed"),
                        rs.getLong("cancelled")));
    }

    /** The newest job_events id (0 when there is none): where a live feed starts. */
    public long lastEventId() {
        return Sql.query(dataSource, "read the last event id", LAST_EVENT_ID, ps -> {}, rs -> rs.getLong("id"))
                .getFirst();
    }
}
