package dev.gaffer.bench;

import java.nio.file.Path;
import java.time.Duration;

/** What a scenario run gets: the server, the child-process launcher, the size mode and where to write. */
record Context(BenchDatabase db, Children children, boolean quick, int run, Path resultsDirectory) {

    /** A database name unique to this scenario run. */
    String database(String scenario) {
        return "bench_" + scenario + "_" + run;
    }

    static void sleep(Duration d) throws InterruptedException {
        Thread.sleep(d);
    }

    static void log(String format, Object... args) {
        System.out.printf("[%tT] %s%n", System.currentTimeMillis(), String.format(format, args));
    }
}
