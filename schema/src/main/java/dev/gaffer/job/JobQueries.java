package dev.gaffer.job;

import dev.gaffer.db.Sql;
import java.sql.Types;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * Read-only SQL behind the API's listings and dashboards. Writes stay in {@link JobStore}; nothing
 * here changes a row.
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
             LIMIT ?""".formatted(JobStore.COLUMNS);

    private static final String COUNT_BY_QUEUE_AND_STATUS = """
            SELECT queue, status::text AS status, count(*) AS n
              FROM jobs
             GROUP BY queue, status
             ORDER BY queue, status""";

    /**
     * Terminal jobs per minute over the last {@code ?} minutes, including empty minutes. The join
     * condition is a range on finished_at, served by the partial index jobs_finished_idx.
     */
    private static final String THROUGHPUT_PER_MINUTE = """
            SELECT m.minute,
                   count(j.id) FILTER (WHERE j.status = 'completed') AS completed,
                   count(j.id) FILTER (WHERE j.status = 'failed')    AS failed,
                   count(j.id) FILTER (WHERE j.status = 'cancelled') AS cancelled
              FROM generate_series(date_trunc('minute', now()) - make_interval(mins => ? - 1),
                                   date_trunc('minute', now()), interval '1 minute') AS m(minute)
              LEFT JOIN jobs j ON j.finished_at >= m.minute AND j.finished_at < m.minute + interval '1 minute'
             GROUP BY m.minute
             ORDER BY m.minute""";

    private static final String LAST_EVENT_ID = "SELECT coalesce(max(id), 0) AS id FROM job_events";

    private final DataSource dataSource;

    public JobQueries(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
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
                JobStore::job);
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
