package dev.gaffer.worker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.Lease;
import dev.gaffer.job.OutcomeStore;
import dev.gaffer.job.OutcomeStore.Completion;
import dev.gaffer.job.Results.Fenced;
import dev.gaffer.job.Results.LeaseLost;
import dev.gaffer.job.Results.Written;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Lock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes the completions of this worker's top-level jobs in batches: one statement and one
 * commit for all the handlers that finished while the previous batch was being written. There is
 * no waiting to fill a batch; under load batches form by themselves, and an idle worker writes a
 * lone completion at once. Each handler's thread still blocks until its own row is written, so a
 * slot is given back only once its outcome is durable, exactly as with a single write.
 *
 * <p>Measured in docs/benchmarks.md: a no-op job cost about one commit and ~1 ms of PostgreSQL
 * CPU when every completion was its own statement; batching is what lets the burn-down reach
 * thousands of jobs per second on two cores.
 *
 * <p>A batch and a heartbeat of this worker both update many of its rows; they take {@code
 * leaseWrites} so that they never wait on each other's row locks in opposite orders.
 */
final class Completer {

    /** Most completions in one statement; a bound on its size. */
    static final int MAX_BATCH = 256;

    private static final Logger log = LoggerFactory.getLogger(Completer.class);
    private static final Duration IDLE_CHECK = Duration.ofMillis(200);

    private record Request(Completion completion, CompletableFuture<Fenced> answer) {}

    private final String workerId;
    private final OutcomeStore outcomes;
    private final Lock leaseWrites;
    private final BlockingQueue<Request> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private volatile boolean stopped;

    Completer(String workerId, OutcomeStore outcomes, Lock leaseWrites) {
        this.workerId = workerId;
        this.outcomes = outcomes;
        this.leaseWrites = leaseWrites;
        this.thread = Thread.ofPlatform().name("gaffer-complete-" + workerId).unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    /**
     * Completes one job and blocks until its batch is written. Throws what the batch threw (a
     * DatabaseException is retried by the caller). An interrupt does not cut the wait short: the
     * request is queued and will be written; it is kept for the caller to see.
     */
    Fenced complete(Lease lease, JsonNode result) {
        Request r = new Request(new Completion(lease, result), new CompletableFuture<>());
        if (stopped || !thread.isAlive()) {
            // Not running (stopped, or not started yet): write it alone, on this thread.
            write(List.of(r));
        } else {
            queue.add(r);
        }
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    return r.answer().get();
                } catch (InterruptedException e) {
                    interrupted = true;
                } catch (ExecutionException e) {
                    if (e.getCause() instanceof RuntimeException re) {
                        throw re;
                    }
                    throw new IllegalStateException(e.getCause());
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** Writes what is queued, up to one batch; returns how many completions it wrote (tests). */
    int runOnce() {
        List<Request> batch = new ArrayList<>();
        queue.drainTo(batch, MAX_BATCH);
        return batch.isEmpty() ? 0 : write(batch);
    }

    private int write(List<Request> batch) {
        List<Completion> completions = new ArrayList<>(batch.size());
        for (Request r : batch) {
            completions.add(r.completion());
        }
        Set<Long> done;
        leaseWrites.lock();
        try {
            done = outcomes.completeMany(workerId, completions);
        } catch (RuntimeException e) {
            for (Request r : batch) {
                r.answer().completeExceptionally(e);
            }
            return 0;
        } finally {
            leaseWrites.unlock();
        }
        for (Request r : batch) {
            Lease l = r.completion().lease();
            r.answer()
                    .complete(
                            done.contains(l.jobId())
                                    ? new Written(l.jobId(), JobStatus.COMPLETED, null)
                                    : new LeaseLost(l));
        }
        return batch.size();
    }

    private void run() {
        while (!stopped || !queue.isEmpty()) {
            try {
                Request first = queue.poll(IDLE_CHECK.toMillis(), TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                List<Request> batch = new ArrayList<>();
                batch.add(first);
                queue.drainTo(batch, MAX_BATCH - 1);
                write(batch);
            } catch (InterruptedException e) {
                // only stop() decides when to end; go round again
            } catch (RuntimeException e) {
                log.error("completion writer of {} failed; continuing", workerId, e);
            }
        }
    }

    /** Writes what is still queued, then ends. */
    void stop() {
        stopped = true;
        try {
            thread.join(Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
