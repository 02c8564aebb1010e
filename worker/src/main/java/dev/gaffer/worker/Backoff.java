package dev.gaffer.worker;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Delay before retry number {@code attempt}: base × 2^(attempt−1), capped, with "equal jitter"
 * (half fixed, half random) so that a burst of failures does not come back as a burst while the
 * delay still grows with each attempt.
 */
public record Backoff(Duration base, Duration cap) {

    public Backoff {
        if (base.isNegative() || base.isZero() || cap.compareTo(base) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < base <= cap, got " + base + " and " + cap);
        }
    }

    /** Upper bound of the delay after the given (1-based) failed attempt, before jitter. */
    public Duration ceiling(int attempt) {
        int doublings = Math.max(0, Math.min(attempt - 1, 40));
        long nanos = base.toNanos();
        for (int i = 0; i < doublings && nanos < cap.toNanos(); i++) {
            nanos *= 2;
        }
        return Duration.ofNanos(Math.min(nanos, cap.toNanos()));
    }

    public Duration delay(int attempt) {
        long ceiling = ceiling(attempt).toNanos();
        long half = ceiling / 2;
        return Duration.ofNanos(half + ThreadLocalRandom.current().nextLong(ceiling - half + 1));
    }
}
