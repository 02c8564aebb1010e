package dev.gaffer.cli;

import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SIGTERM and SIGINT (Ctrl-C) as a latch that the long-running commands ({@code api}, {@code
 * worker}, {@code dev}) wait on. The signals end the command's main thread rather than the JVM's
 * shutdown, so that the command stops what it runs in its own order (workers give their jobs
 * back, servers end their streams, pools close) and the process exits 0 like any clean stop.
 */
final class StopSignals {

    private static final Logger log = LoggerFactory.getLogger(StopSignals.class);

    private StopSignals() {}

    /** Handles both signals from now on; the latch opens at the first. */
    static CountDownLatch install() {
        CountDownLatch stop = new CountDownLatch(1);
        for (String signal : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> {
                log.info("received SIG{}: shutting down", signal);
                stop.countDown();
            });
        }
        return stop;
    }
}
