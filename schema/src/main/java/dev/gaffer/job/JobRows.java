package dev.gaffer.job;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.gaffer.db.Sql;
import java.sql.ResultSet;
import java.sql.SQLException;

/** How rows of {@code jobs} and {@code job_events} become {@link Job} and {@link JobEvent}. */
final class JobRows {

    /** The columns of {@link Job}, in its order: what every statement that returns jobs selects. */
    static final String COLUMNS = """
            id, parent_id, type, queue, priority, parameters, storyboard, result, status, current_stage,
            progress_percentage, attempt, max_attempts, run_at, last_error, locked_by, heartbeat_at, lease_expires_at,
            subjobs_total, subjobs_open, fanout_stage, resume_stage, on_subjob_failure, idempotency_key, created_by,
            approved_by, created_at, approved_at, started_at, finished_at, updated_at""";

    /*
     * The jsonb columns as Json.parse reads them (a default ObjectMapper), but with the parsers'
     * buffers from a pool that all threads share. The API reads rows on a virtual thread per
     * request, and Jackson's default pool, one per thread, would allocate a parser's buffers
     * (about 16 KB) afresh for each document of each row.
     */
    private static final ObjectReader JSONB = new ObjectMapper(JsonFactory.builder()
                    .recyclerPool(JsonRecyclerPools.sharedConcurrentDequePool())
                    .build())
            .reader();

    private JobRows() {}

    static Job job(ResultSet rs) throws SQLException {
        return new Job(
                rs.getLong("id"),
                Sql.nullableLong(rs, "parent_id"),
                rs.getString("type"),
                rs.getString("queue"),
                rs.getInt("priority"),
                jsonb(rs, "parameters"),
                jsonb(rs, "storyboard"),
                jsonb(rs, "result"),
                JobStatus.fromDb(rs.getString("status")),
                rs.getString("current_stage"),
                rs.getInt("progress_percentage"),
                rs.getInt("attempt"),
                rs.getInt("max_attempts"),
                Sql.instant(rs, "run_at"),
                rs.getString("last_error"),
                rs.getString("locked_by"),
                Sql.instant(rs, "heartbeat_at"),
                Sql.instant(rs, "lease_expires_at"),
                rs.getInt("subjobs_total"),
                rs.getInt("subjobs_open"),
                rs.getString("fanout_stage"),
                rs.getString("resume_stage"),
                SubJobFailurePolicy.fromDb(rs.getString("on_subjob_failure")),
                rs.getString("idempotency_key"),
                rs.getString("created_by"),
                rs.getString("approved_by"),
                Sql.instant(rs, "created_at"),
                Sql.instant(rs, "approved_at"),
                Sql.instant(rs, "started_at"),
                Sql.instant(rs, "finished_at"),
                Sql.instant(rs, "updated_at"));
    }

    private static JsonNode jsonb(ResultSet rs, String column) throws SQLException {
        String text = rs.getString(column);
        if (text == null) {
            return null;
        }
        try {
            return JSONB.readTree(text);
        } catch (JsonProcessingException e) {
            // Only PostgreSQL's own jsonb output reaches this; failing to parse it is a bug.
            throw new IllegalStateException("jsonb from PostgreSQL did not parse", e);
        }
    }

    static JobEvent event(ResultSet rs) throws SQLException {
        return new JobEvent(
                rs.getLong("id"),
                rs.getLong("job_id"),
                rs.getString("kind"),
                JobStatus.fromDb(rs.getString("status")),
                rs.getInt("attempt"),
                rs.getString("worker_id"),
                rs.getString("actor"),
                Sql.nullableInt(rs, "progress_percentage"),
                rs.getString("stage"),
                rs.getString("message"),
                Sql.instant(rs, "created_at"),
                Sql.instant(rs, "attempt_started_at"));
    }
}
