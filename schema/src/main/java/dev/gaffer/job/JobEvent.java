package dev.gaffer.job;

import java.time.Instant;

/** One row of {@code job_events}. */
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
        Instant createdAt) {}
