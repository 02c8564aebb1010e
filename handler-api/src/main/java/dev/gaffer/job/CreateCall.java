package dev.gaffer.job;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The call of the create transition, the SQL function {@code gaffer_create_jobs} of migration
 * V009, with its arrays: one entry per job. The API ({@code JobRequests.create}) and the Java
 * client's insert in a caller's own transaction make this same call; the transition itself (the
 * API's checks once more, the insert, the events, the NOTIFY hints) is the function's, in SQL.
 */
public final class CreateCall {

    public static final String SQL = """
            SELECT ord, job_id, outcome, status
              FROM gaffer_create_jobs(?::text[], ?::text[], ?::int[], ?::text[]::jsonb[], ?::text[]::jsonb[], ?::int[],
                                      ?::text[]::timestamptz[], ?::text[], ?::text[], ?::text[])
            """;

    /**
     * What became of one job of the call: {@code outcome} is {@code created}, {@code exists} (its
     * idempotency key was known, with the same type and parameters) or {@code conflict} (known,
     * with another type or other parameters); {@code jobId} is then the existing job's.
     */
    public record Row(int ord, long jobId, String outcome, JobStatus status) {}

    private CreateCall() {}

    /** Runs the call on {@code connection}, in whatever transaction it is in; rows in the jobs' order (by ordinal). */
    public static List<Row> run(Connection connection, List<NewJob> jobs, List<String> approvedBy) throws SQLException {
        try (PreparedStatement ps = connection.prepareStatement(SQL)) {
            bind(ps, jobs, approvedBy);
            List<Row> rows = new ArrayList<>(jobs.size());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    rows.add(row(rs));
                }
            }
            if (rows.size() != jobs.size()) {
                throw new IllegalStateException("creating " + jobs.size() + " jobs returned " + rows.size() + " rows");
            }
            // The function answers in no particular order; each row names its job's ordinal.
            rows.sort(java.util.Comparator.comparingInt(Row::ord));
            return rows;
        }
    }

    public static Row row(ResultSet rs) throws SQLException {
        return new Row(
                rs.getInt("ord"),
                rs.getLong("job_id"),
                rs.getString("outcome"),
                JobStatus.fromDb(rs.getString("status")));
    }

    /** Binds the ten arrays; {@code approvedBy} holds who approved each job at creation (null: pending). */
    public static void bind(PreparedStatement ps, List<NewJob> jobs, List<String> approvedBy) throws SQLException {
        int n = jobs.size();
        if (approvedBy.size() != n) {
            throw new IllegalArgumentException(n + " jobs but " + approvedBy.size() + " approvers");
        }
        String[] types = new String[n];
        String[] queues = new String[n];
        Integer[] priorities = new Integer[n];
        String[] parameters = new String[n];
        String[] storyboards = new String[n];
        Integer[] maxAttempts = new Integer[n];
        String[] runAts = new String[n];
        String[] keys = new String[n];
        String[] createdBy = new String[n];
        String[] approvers = new String[n];
        for (int i = 0; i < n; i++) {
            NewJob j = Objects.requireNonNull(jobs.get(i), "job");
            types[i] = j.type();
            queues[i] = j.queue();
            priorities[i] = j.priority();
            parameters[i] = Json.write(j.parameters());
            storyboards[i] = Json.write(j.storyboard());
            maxAttempts[i] = j.maxAttempts();
            runAts[i] = j.runAt() == null ? null : j.runAt().toString();
            keys[i] = j.idempotencyKey();
            createdBy[i] = j.createdBy();
            approvers[i] = approvedBy.get(i);
        }
        Connection c = ps.getConnection();
        ps.setArray(1, c.createArrayOf("text", types));
        ps.setArray(2, c.createArrayOf("text", queues));
        ps.setArray(3, c.createArrayOf("int4", priorities));
        ps.setArray(4, c.createArrayOf("text", parameters));
        ps.setArray(5, c.createArrayOf("text", storyboards));
        ps.setArray(6, c.createArrayOf("int4", maxAttempts));
        ps.setArray(7, c.createArrayOf("text", runAts));
        ps.setArray(8, c.createArrayOf("text", keys));
        ps.setArray(9, c.createArrayOf("text", createdBy));
        ps.setArray(10, c.createArrayOf("text", approvers));
    }
}
