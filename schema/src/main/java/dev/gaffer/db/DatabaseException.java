package dev.gaffer.db;

import java.sql.SQLException;

/**
 * The one unchecked exception that SQL errors become. Callers branch on {@link #kind()} rather
 * than on SQLState strings: a unique violation is an answer (someone else got there first), an
 * unavailable database is a 503, everything else is a bug or an outage worth a stack trace.
 */
public final class DatabaseException extends RuntimeException {

    public enum Kind {
        /** SQLState 23505: a unique constraint rejected the row. */
        UNIQUE_VIOLATION,
        /** A CHECK, NOT NULL or foreign key rejected the write (SQLState class 23, not 23505). */
        CONSTRAINT_VIOLATION,
        /** The database cannot be reached, is shutting down, or the pool timed out. */
        UNAVAILABLE,
        /** Anything else. */
        OTHER
    }

    private final Kind kind;
    private final String sqlState;

    public DatabaseException(String message, SQLException cause) {
        super(message + ": " + cause.getMessage(), cause);
        this.sqlState = cause.getSQLState();
        this.kind = classify(cause);
    }

    public Kind kind() {
        return kind;
    }

    public String sqlState() {
        return sqlState;
    }

    public boolean isUniqueViolation() {
        return kind == Kind.UNIQUE_VIOLATION;
    }

    public boolean isUnavailable() {
        return kind == Kind.UNAVAILABLE;
    }

    static Kind classify(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                String state = sql.getSQLState();
                if (state.equals("23505")) {
                    return Kind.UNIQUE_VIOLATION;
                }
                if (state.startsWith("23")) {
                    return Kind.CONSTRAINT_VIOLATION;
                }
                // 08: connection exceptions; 57P01-57P03: admin shutdown, crash shutdown, cannot
                // connect now; 53300: too many connections.
                if (state.startsWith("08")
                        || state.equals("57P01")
                        || state.equals("57P02")
                        || state.equals("57P03")
                        || state.equals("53300")) {
                    return Kind.UNAVAILABLE;
                }
            }
            if (t instanceof java.sql.SQLTransientConnectionException) {
                // HikariCP's "connection is not available, request timed out".
                return Kind.UNAVAILABLE;
            }
        }
        return Kind.OTHER;
    }
}
