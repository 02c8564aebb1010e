package dev.gaffer.bench;

import java.time.Duration;
import java.util.List;

/** One benchmark scenario: a config, a hard deadline per run, and {@link #runOnce} filling a result row. */
interface Scenario {

    String name();

    /** The hard limit of one run; past it the run is aborted and reported as timed out. */
    Duration deadline();

    /** One run. Must stop its children and drop its databases before returning, also on failure. */
    void runOnce(Context ctx, Measurements out) throws Exception;

    /**
     * A step after {@link #runOnce}, outside its deadline, with bounds of its own (the burn-down's
     * external peers). Must not throw: it records what went wrong with {@link Measurements#fail}.
     */
    default void afterRun(Context ctx, Measurements out) {}

    /** Markdown to print below the table, computed from every run (ratios of medians); "" if none. */
    default String summary(List<Measurements> runs) {
        return "";
    }
}
