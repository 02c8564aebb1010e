package dev.gaffer.worker;

import static org.assertj.core.api.Assertions.fail;

import dev.gaffer.db.Database;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.NewJob;
import dev.gaffer.job.Results;
import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Shared bits of the worker tests: fast configs, job creation, bounded waiting. */
final class TestSupport {

    static final Duration DEADLINE = Duration.ofSeconds(30);

    private TestSupport() {}

    /** Short intervals so tests run in seconds; maintenance off unless a test turns it on. */
    static WorkerConfig config(String name) {
        return WorkerConfig.defaults()
                .withName(name)
                .withPolling(Duration.ofMillis(200), true)
                .withHeartbeat(Duration.ofMillis(200), Duration.ofSeconds(15))
                .withMaintenance(false, Duration.ofMillis(500))
                .withRetry(Duration.ofMillis(50), Duration.ofMillis(200))
                .withShutdownGrace(Duration.ofSeconds(5));
    }

    static Job approve(JobRequests requests, NewJob job) {
        Job created = requests.create(job).job();
        return ((Results.Moved) requests.approve(created.id(), "tester")).job();
    }

    /** Polls {@code condition} until it holds, failing the test after the deadline. */
    static void await(String what, BooleanSupplier condition) {
        await(what, DEADLINE, condition);
    }

    static void await(String what, Duration deadline, BooleanSupplier condition) {
        long end = System.nanoTime() + deadline.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - end > 0) {
                fail("timed out after " + deadline.toSeconds() + " s waiting for: " + what);
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                throw new AssertionError(e);
            }
        }
    }

    static Database openAnother(Database db, int poolSize) {
        return Database.open(db.config().withMaxPoolSize(poolSize));
    }
}
