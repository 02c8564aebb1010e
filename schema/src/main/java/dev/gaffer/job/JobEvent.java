package dev.gaffer.job;

import java.time.Instant;

/**
 * One row of {@code job_events}. {@code attemptStartedAt} is set on an event that ends an attempt
 * (completed, failed, retried, waiting, reclaimed, released, cancelled while running): when that
 * attempt was claimed.
 */
public record JobEvent(
        long id,
        long jobId,
        String kind,
        JobStatus status,
        int attempt,
        String workerId,
        String actor,
        Integer progressPercentage,
        String stage,
        String message,
        Instant createdAt,
        Instant attemptStartedAt) {}
