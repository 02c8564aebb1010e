package dev.gaffer.bench;

import java.time.Duration;

/** One benchmark scenario: a config, a hard deadline per run, and {@link #runOnce} filling a result row. */
interface Scenario {

    String name();

    /** The hard limit of one run; past it the run is aborted and reported as timed out. */
    Duration deadline();

    /** One run. Must stop its children and drop its databases before returning, also on failure. */
    void runOnce(Context ctx, Measurements out) throws Exception;
}
