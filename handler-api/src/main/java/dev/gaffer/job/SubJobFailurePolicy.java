package dev.gaffer.job;

import java.util.Locale;

/** What a waiting parent does when a sub-job fails for good (PostgreSQL enum subjob_failure_policy). */
public enum SubJobFailurePolicy {
    /** Resume once every sub-job has finished, failed or not; the handler sees the failures and decides. */
    WAIT_ALL,
    /** The first failed sub-job fails the parent at once and cancels its unfinished siblings. */
    FAIL_FAST;

    // Spelled once: every job row read asks for it.
    private final String dbName = name().toLowerCase(Locale.ROOT);

    private static final SubJobFailurePolicy[] VALUES = values();

    public String dbName() {
        return dbName;
    }

    public static SubJobFailurePolicy fromDb(String value) {
        for (SubJobFailurePolicy p : VALUES) {
            if (p.dbName.equals(value)) {
                return p;
            }
        }
        throw new IllegalArgumentException(
                "unknown sub-job failure policy '" + value + "'; expected wait_all or fail_fast");
    }
}
