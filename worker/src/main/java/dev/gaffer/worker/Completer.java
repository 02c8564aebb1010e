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
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Lock;
import java.util.function.Supplier;

/**
 * The completions of this worker's handlers, waiting to be written. A handler that returns hands
 * its result here and its thread ends; the claim loop writes every completion that queued since
 * its previous round in its next round's statement, together with the round's claim ({@link
 * ClaimLoop}: one statement and one commit for both). There is no waiting to fill a batch: under
 * load batches form by themselves, and an idle worker writes a lone completion at once. A job
 * counts as completed only once its row is committed: until then it stays among the worker's
 * held jobs, its lease beaten for, and the answer of {@link #submit} is not complete.
 *
 * <p>Sub-jobs are written one statement each, with their parent's fan-in ({@link
 * OutcomeStore#completeMany}): a batch across parents would lock them in no fixed order.
 *
 * <p>Measured in docs/benchmarks.md: a no-op job cost about one commit and ~1 ms of PostgreSQL CPU
 * when every completion was its own statement; the rounds halve the statements again.
 */
final class Completer {

    /**
     * Most completions in one statement; a bound on its size. Above what one round can claim
     * (concurrency plus prefetch, each at most 1 000): with a smaller bound, rounds that claim more
     * than they may complete let the unwritten completions pile up (found with the burn-down at a
     * prefetch of 512, where thousands waited, beaten for by every heartbeat).
     */
    static final int MAX_BATCH = 4096;

    /**
     * Completions are written with the next claim; without one, once this many queued, once the
     * oldest waited {@link #FLUSH_DELAY}, or at once when the worker has nothing else running.
     * Under load they ride with the claims (a statement for both); an idle worker writes a lone
     * completion at once.
     */
    static final int FLUSH_BATCH = 256;

    static final java.time.Duration FLUSH_DELAY = java.time.Duration.ofMillis(2);

    /** One completion to write, and who waits for its answer. */
    record Request(Completion completion, boolean subJob, long deadlineNanos, CompletableFuture<Fenced> answer) {
        Lease lease() {
            return completion.lease();
        }
    }

    private final String workerId;
    private final OutcomeStore outcomes;
    private final Lock leaseWrites;
    private final Duration writeDeadline;
    private final ConcurrentLinkedDeque<Request> topLevel = new ConcurrentLinkedDeque<>();
    private final ConcurrentLinkedDeque<Request> subJobs = new ConcurrentLinkedDeque<>();
    private final AtomicInteger pending = new AtomicInteger();
    // When the oldest completion still queued arrived (System.nanoTime()); 0: none or not known.
    private volatile long oldestNanos;
    private volatile Runnable wake;

    Completer(String workerId, OutcomeStore outcomes, Lock leaseWrites, Duration writeDeadline) {
        this.workerId = workerId;
        this.outcomes = outcomes;
        this.leaseWrites = leaseWrites;
        this.writeDeadline = writeDeadline;
    }

    /** From now on the claim loop writes the queue; {@code wake} tells it that something queued. */
    void writtenByRounds(Runnable wakeRounds) {
        this.wake = wakeRounds;
    }

    /** Nobody writes in rounds any more: each later completion is written on its caller's thread. */
    void writtenByCallers() {
        this.wake = null;
    }

    /**
     * Queues one completion for the next round; the answer completes once it is written (or the
     * lease turned out lost, or writing failed past the write deadline). Without a round loop
     * (not started, or stopped), it is written at once on this thread.
     */
    CompletableFuture<Fenced> submit(Lease lease, JsonNode result, boolean subJob) {
        Request r = new Request(
                new Completion(lease, result),
                subJob,
                System.nanoTime() + writeDeadline.toNanos(),
                new CompletableFuture<>());
        Runnable w = wake;
        if (w == null) {
            writeAlone(r);
            return r.answer();
        }
        (subJob ? subJobs : topLevel).add(r);
        int n = pending.incrementAndGet();
        if (n == 1) {
            oldestNanos = System.nanoTime();
        }
        // The loop waits for a batch, or for the oldest to be due: it needs waking only for the
        // first of a batch (to time it), a full batch, and a sub-job (whose parent waits).
        if (n == 1 || n == FLUSH_BATCH || subJob) {
            w.run();
        }
        return r.answer();
    }

    /** Whether completions wait to be written. */
    boolean pending() {
        return pending.get() > 0;
    }

    /**
     * Whether the queued completions should be written now rather than with a later claim: a sub-job
     * waits (its parent's fan-in), a batch is full, the oldest has waited {@link #FLUSH_DELAY}, or
     * the worker is {@code idle} (nothing else will come to share the statement with).
     */
    boolean due(boolean idle) {
        if (!subJobs.isEmpty()) {
            return true;
        }
        int n = pending.get();
        if (n <= 0) {
            return false;
        }
        return idle || n >= FLUSH_BATCH || nanosUntilDue() <= 0;
    }

    /** Nanoseconds until the oldest queued completion is due (it may be past). */
    long nanosUntilDue() {
        long oldest = oldestNanos;
        if (oldest == 0) {
            oldestNanos = oldest = System.nanoTime();
        }
        return FLUSH_DELAY.toNanos() - (System.nanoTime() - oldest);
    }

    /** Up to {@link #MAX_BATCH} queued completions of top-level jobs, oldest first, for one round. */
    List<Request> takeTopLevel() {
        return take(topLevel);
    }

    private List<Request> take(ConcurrentLinkedDeque<Request> from) {
        List<Request> batch = new ArrayList<>();
        Request r;
        while (batch.size() < MAX_BATCH && (r = from.poll()) != null) {
            batch.add(r);
        }
        if (!batch.isEmpty() && pending.addAndGet(-batch.size()) > 0) {
            // Those left behind arrived meanwhile; their age is not known more precisely.
            oldestNanos = System.nanoTime();
        }
        return batch;
    }

    /** The completions of a round's statement: those in {@code done} are written, the others had lost their lease. */
    void answer(List<Request> batch, Set<Long> done) {
        for (Request r : batch) {
            Lease l = r.lease();
            r.answer()
                    .complete(
                            done.contains(l.jobId())
                                    ? new Written(l.jobId(), JobStatus.COMPLETED, null)
                                    : new LeaseLost(l));
        }
    }

    /**
     * A round's statement failed: completions still inside their write deadline go back to the
     * front of the queue for the next round; the others get the error (their jobs will be
     * reclaimed once their leases run out).
     */
    void failed(List<Request> batch, RuntimeException e) {
        long now = System.nanoTime();
        for (int i = batch.size() - 1; i >= 0; i--) {
            Request r = batch.get(i);
            if (now - r.deadlineNanos() < 0) {
                pending.incrementAndGet();
                (r.subJob() ? subJobs : topLevel).addFirst(r);
            } else {
                r.answer().completeExceptionally(e);
            }
        }
    }

    /**
     * Runs a round's statement that completes jobs: it updates many of this worker's rows, as a
     * heartbeat does, so the two take {@code leaseWrites} and never wait on each other's row locks
     * in opposite orders.
     */
    <T> T inRound(Supplier<T> statement) {
        leaseWrites.lock();
        try {
            return statement.get();
        } finally {
            leaseWrites.unlock();
        }
    }

    /** Writes the queued completions of sub-jobs (each with its fan-in); returns how many. */
    int writeSubJobs() {
        List<Request> batch = take(subJobs);
        if (batch.isEmpty()) {
            return 0;
        }
        try {
            answer(batch, write(batch));
        } catch (RuntimeException e) {
            failed(batch, e);
            throw e;
        }
        return batch.size();
    }

    /** Everything still queued, written without a claim: at the end of the round loop. */
    void writeRest() {
        while (pending()) {
            List<Request> batch = takeTopLevel();
            batch.addAll(take(subJobs));
            try {
                answer(batch, write(batch));
            } catch (RuntimeException e) {
                for (Request r : batch) {
                    r.answer().completeExceptionally(e);
                }
            }
        }
    }

    private void writeAlone(Request r) {
        try {
            answer(List.of(r), write(List.of(r)));
        } catch (RuntimeException e) {
            r.answer().completeExceptionally(e);
        }
    }

    private Set<Long> write(Collection<Request> batch) {
        List<Completion> completions = new ArrayList<>(batch.size());
        for (Request r : batch) {
            completions.add(r.completion());
        }
        leaseWrites.lock();
        try {
            return outcomes.completeMany(workerId, completions);
        } finally {
            leaseWrites.unlock();
        }
    }
}
