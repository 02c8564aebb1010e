package dev.gaffer.job;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.util.JsonRecyclerPools;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import dev.gaffer.db.Sql;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import org.postgresql.PGResultSetMetaData;

/** How rows of {@code jobs} and {@code job_events} become {@link Job} and {@link JobEvent}. */
final class JobRows {

    /** The columns of {@link Job}, in its order: what every statement that returns jobs selects. */
    static final String COLUMNS = """
            id, parent_id, type, queue, priority, parameters, storyboard, result, status, current_stage,
            progress_percentage, attempt, max_attempts, run_at, last_error, locked_by, heartbeat_at, lease_expires_at,
            subjobs_total, subjobs_open, fanout_stage, resume_stage, on_subjob_failure, idempotency_key, created_by,
            approved_by, created_at, approved_at, started_at, finished_at, updated_at, storyboard_revision, review_gate,
            review_summary, gate_round""";

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

    private static final com.fasterxml.jackson.databind.node.JsonNodeFactory JSONB_NODES =
            com.fasterxml.jackson.databind.node.JsonNodeFactory.instance;

    private JobRows() {}

    /**
     * The job in a row that has {@link #COLUMNS} in their order, wherever they start. Read by
     * position: a lookup by name costs a map lookup per column, and a worker reads every job it
     * claims this way (found with a profile of the burn-down, docs/benchmarks.md).
     */
    static Job job(ResultSet rs) throws SQLException {
        return job(rs, rs.findColumn("id"));
    }

    /** As {@link #job(ResultSet)}, with {@link #COLUMNS} starting at column {@code first}. */
    static Job job(ResultSet rs, int first) throws SQLException {
        int i = first;
        long id = rs.getLong(i);
        long parent = rs.getLong(i + 1);
        Long parentId = rs.wasNull() ? null : parent;
        return new Job(
                id,
                parentId,
                rs.getString(i + 2),
                rs.getString(i + 3),
                rs.getInt(i + 4),
                jsonb(rs, i + 5),
                jsonb(rs, i + 6),
                jsonb(rs, i + 7),
                JobStatus.fromDb(rs.getString(i + 8)),
                rs.getString(i + 9),
                rs.getInt(i + 10),
                rs.getInt(i + 11),
                rs.getInt(i + 12),
                instant(rs, i + 13),
                rs.getString(i + 14),
                rs.getString(i + 15),
                instant(rs, i + 16),
                instant(rs, i + 17),
                rs.getInt(i + 18),
                rs.getInt(i + 19),
                rs.getString(i + 20),
                rs.getString(i + 21),
                SubJobFailurePolicy.fromDb(rs.getString(i + 22)),
                rs.getString(i + 23),
                rs.getString(i + 24),
                rs.getString(i + 25),
                instant(rs, i + 26),
                instant(rs, i + 27),
                instant(rs, i + 28),
                instant(rs, i + 29),
                instant(rs, i + 30),
                rs.getInt(i + 31),
                rs.getString(i + 32),
                jsonb(rs, i + 33),
                rs.getInt(i + 34));
    }

    /**
     * A timestamptz column. When the driver received it in binary (a statement it has prepared on
     * the server, from its fifth use on), the 8 bytes are microseconds since 2000-01-01 UTC and
     * become an Instant without the driver's detour through a calendar and an OffsetDateTime;
     * otherwise the driver parses it. Found with a profile of the burn-down: the timestamps of the
     * claimed rows were a seventh of the claim loop's time (docs/benchmarks.md).
     */
    static Instant instant(ResultSet rs, int column) throws SQLException {
        if (binary(rs, column)) {
            byte[] b = rs.getBytes(column);
            if (b == null) {
                return null;
            }
            if (b.length == 8) {
                long micros = ((b[0] & 0xffL) << 56)
                        | ((b[1] & 0xffL) << 48)
                        | ((b[2] & 0xffL) << 40)
                        | ((b[3] & 0xffL) << 32)
                        | ((b[4] & 0xffL) << 24)
                        | ((b[5] & 0xffL) << 16)
                        | ((b[6] & 0xffL) << 8)
                        | (b[7] & 0xffL);
                // infinity and -infinity: the driver's own answer
                if (micros != Long.MAX_VALUE && micros != Long.MIN_VALUE) {
                    return Instant.ofEpochSecond(
                            PG_EPOCH_SECONDS + Math.floorDiv(micros, 1_000_000L),
                            Math.floorMod(micros, 1_000_000L) * 1_000L);
                }
            }
        }
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    /** 2000-01-01T00:00:00Z, PostgreSQL's epoch, in seconds since 1970's. */
    private static final long PG_EPOCH_SECONDS = 946_684_800L;

    /** Whether the driver received {@code column} in binary; false for a driver other than pgjdbc. */
    private static boolean binary(ResultSet rs, int column) throws SQLException {
        ResultSetMetaData md = rs.getMetaData();
        if (!md.isWrapperFor(PGResultSetMetaData.class)) {
            return false;
        }
        return md.unwrap(PGResultSetMetaData.class).getFormat(column) == 1;
    }

    private static JsonNode jsonb(ResultSet rs, int column) throws SQLException {
        String text = rs.getString(column);
        if (text == null) {
            return null;
        }
        if (text.equals("{}")) {
            // Most parameters of most jobs; an ObjectNode of its own each time, since callers may
            // change what they get.
            return JSONB_NODES.objectNode();
        }
        try {
            return JSONB.readTree(text);
        } catch (JsonProcessingException e) {
            // Only PostgreSQL's own jsonb output reaches this; failing to parse it is a bug.
            throw new IllegalStateException("jsonb from PostgreSQL did not parse", e);
        }
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
