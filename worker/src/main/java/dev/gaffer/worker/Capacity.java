package dev.gaffer.worker;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Free handler slots: the worker's concurrency and the optional per-queue limits. Only the claim
 * loop takes slots (after a claim returned jobs for them); finished handlers give them back from
 * any thread, so a slot count read by the claim loop can only be too low, never too high.
 */
final class Capacity {

    private final int concurrency;
    private final Map<String, Integer> queueLimits;
    private final AtomicInteger busy = new AtomicInteger();
    private final Map<String, AtomicInteger> busyByQueue = new ConcurrentHashMap<>();

    Capacity(int concurrency, Map<String, Integer> queueLimits) {
        this.concurrency = concurrency;
        this.queueLimits = Map.copyOf(queueLimits);
    }

    int concurrency() {
        return concurrency;
    }

    int free() {
        return Math.max(0, concurrency - busy.get());
    }

    /** Free slots for {@code queue}: the worker's, further bounded by the queue's limit if it has one. */
    int free(String queue) {
        Integer limit = queueLimits.get(queue);
        int free = free();
        return limit == null ? free : Math.max(0, Math.min(free, limit - busy(queue)));
    }

    boolean limited(String queue) {
        return queueLimits.containsKey(queue);
    }

    int busy() {
        return busy.get();
    }

    int busy(String queue) {
        AtomicInteger n = busyByQueue.get(queue);
        return n == null ? 0 : n.get();
    }

    void take(String queue) {
        busy.incrementAndGet();
        busyByQueue.computeIfAbsent(queue, q -> new AtomicInteger()).incrementAndGet();
    }

    void give(String queue) {
        busy.decrementAndGet();
        busyByQueue.get(queue).decrementAndGet();
    }
}
