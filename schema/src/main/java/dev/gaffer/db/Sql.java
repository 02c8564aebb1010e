package dev.gaffer.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/** Small JDBC helpers so that each store method reads as its SQL and its row mapping. */
public final class Sql {

    private Sql() {}

    @FunctionalInterface
    public interface Binder {
        void bind(PreparedStatement ps) throws SQLException;
    }

    @FunctionalInterface
    public interface RowMapper<T> {
        T map(ResultSet rs) throws SQLException;
    }

    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    /**
     * Runs one statement in autocommit. A deadlock or serialization failure rolled the whole
     * statement back, so it is run again (a few times): cancelling a parent locks parent then
     * children while a child's completion locks child then parent, and PostgreSQL breaks such a
     * cycle by aborting one side.
     */
    public static <T> List<T> query(DataSource ds, String what, String sql, Binder binder, RowMapper<T> mapper) {
        for (int attempt = 1; ; attempt++) {
            try (Connection c = autocommitted(ds)) {
                return query(c, sql, binder, mapper);
            } catch (SQLException e) {
                if (!isRetryable(e) || attempt >= MAX_STATEMENT_ATTEMPTS) {
                    throw new DatabaseException(what, e);
                }
                pause(attempt);
            }
        }
    }

    static final int MAX_STATEMENT_ATTEMPTS = 4;

    /**
     * A connection of {@code ds} in autocommit. Gaffer's own pools hand out autocommit
     * connections; an application's pool that an embedded worker borrows may not (Spring's
     * defaults), and a statement of ours must not stay uncommitted until someone else's commit.
     * Pools restore their default when the connection comes back.
     */
    public static Connection autocommitted(DataSource ds) throws SQLException {
        Connection c = ds.getConnection();
        try {
            if (!c.getAutoCommit()) {
                c.setAutoCommit(true);
            }
            return c;
        } catch (SQLException | RuntimeException e) {
            c.close();
            throw e;
        }
    }

    /** SQLState 40P01 (deadlock detected) or 40001 (serialization failure). */
    static boolean isRetryable(SQLException e) {
        return "40P01".equals(e.getSQLState()) || "40001".equals(e.getSQLState());
    }

    private static void pause(int attempt) {
        try {
            Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(5, 20L * attempt));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while retrying a statement", e);
        }
    }

    public static <T> List<T> query(Connection c, String sql, Binder binder, RowMapper<T> mapper) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            binder.bind(ps);
            try (ResultSet rs = ps.executeQuery()) {
                List<T> rows = new ArrayList<>();
                while (rs.next()) {
                    rows.add(mapper.map(rs));
                }
                return rows;
            }
        }
    }

    /** Runs one statement in autocommit, re-run on deadlock like {@link #query(DataSource, String, String, Binder, RowMapper)}. */
    public static int update(DataSource ds, String what, String sql, Binder binder) {
        for (int attempt = 1; ; attempt++) {
            try (Connection c = autocommitted(ds);
                    PreparedStatement ps = c.prepareStatement(sql)) {
                binder.bind(ps);
                return ps.executeUpdate();
            } catch (SQLException e) {
                if (!isRetryable(e) || attempt >= MAX_STATEMENT_ATTEMPTS) {
                    throw new DatabaseException(what, e);
                }
                pause(attempt);
            }
        }
    }

    /**
     * As {@link #inTransaction}, run again on deadlock like {@link #query(DataSource, String, String,
     * Binder, RowMapper)}: for work that writes nothing but its statements.
     */
    public static <T> T inRetriedTransaction(DataSource ds, String what, Work<T> work) {
        for (int attempt = 1; ; attempt++) {
            try {
                return inTransaction(ds, what, work);
            } catch (DatabaseException e) {
                if (!(e.getCause() instanceof SQLException s) || !isRetryable(s) || attempt >= MAX_STATEMENT_ATTEMPTS) {
                    throw e;
                }
                pause(attempt);
            }
        }
    }

    /** Runs {@code work} in one transaction: committed when it returns, rolled back when it throws. */
    public static <T> T inTransaction(DataSource ds, String what, Work<T> work) {
        try (Connection c = ds.getConnection()) {
            boolean autoCommit = c.getAutoCommit();
            c.setAutoCommit(false);
            try {
                T result = work.run(c);
                c.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            } finally {
                c.setAutoCommit(autoCommit);
            }
        } catch (SQLException e) {
            throw new DatabaseException(what, e);
        }
    }

    public static Instant instant(ResultSet rs, String column) throws SQLException {
        OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
        return t == null ? null : t.toInstant();
    }

    public static Long nullableLong(ResultSet rs, String column) throws SQLException {
        long v = rs.getLong(column);
        return rs.wasNull() ? null : v;
    }

    public static Integer nullableInt(ResultSet rs, String column) throws SQLException {
        int v = rs.getInt(column);
        return rs.wasNull() ? null : v;
    }

    /**
     * Binds an SQL array of {@code type} (a PostgreSQL element type: bigint, int4, int2, text) at
     * {@code index}; a null {@code values} binds NULL. Statements take their lists as arrays, so
     * that one prepared statement serves any number of rows.
     */
    public static void setArray(PreparedStatement ps, int index, String type, Object[] values) throws SQLException {
        if (values instanceof Long[] || values instanceof Integer[] || values instanceof String[]) {
            // The driver encodes a typed array itself (binary where it can); createArrayOf builds
            // and escapes an array literal, which the worker did for every id of every round.
            ps.setObject(index, values);
        } else {
            ps.setArray(index, values == null ? null : ps.getConnection().createArrayOf(type, values));
        }
    }

    /** Binds a bigint[]; the driver sends it in binary. */
    public static void setLongs(PreparedStatement ps, int index, long[] values) throws SQLException {
        ps.setObject(index, values);
    }

    /** Binds an int4[]; the driver sends it in binary. */
    public static void setInts(PreparedStatement ps, int index, int[] values) throws SQLException {
        ps.setObject(index, values);
    }

    /** As {@link #setArray(PreparedStatement, int, String, Object[])}, for a collection. */
    public static void setArray(PreparedStatement ps, int index, String type, java.util.Collection<?> values)
            throws SQLException {
        setArray(ps, index, type, values == null ? null : values.toArray());
    }
}
