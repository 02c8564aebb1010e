package dev.gaffer.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;

/** One row of {@code jobs}, as read. Never serialized to the API directly. */
public record Job(
        long id,
        Long parentId,
        String type,
        String queue,
        int priority,
        JsonNode parameters,
        JsonNode storyboard,
        JsonNode result,
        JobStatus status,
        String currentStage,
        int progressPercentage,
        int attempt,
        int maxAttempts,
        Instant runAt,
        String lastError,
        String lockedBy,
        Instant heartbeatAt,
        Instant leaseExpiresAt,
        int subjobsTotal,
        int subjobsOpen,
        String fanoutStage,
        String resumeStage,
        SubJobFailurePolicy onSubjobFailure,
        String idempotencyKey,
        String createdBy,
        String approvedBy,
        Instant createdAt,
        Instant approvedAt,
        Instant startedAt,
        Instant finishedAt,
        Instant updatedAt,
        int storyboardRevision,
        String reviewGate,
        JsonNode reviewSummary,
        int gateRound) {

    /**
     * The revision the review of {@link #reviewGate()} is about: at the plan the storyboard
     * revision, at a later gate the job's stop at a gate. What a decision's {@code If-Match} names.
     */
    public int reviewRevision() {
        return "plan".equals(reviewGate) ? storyboardRevision : gateRound;
    }

    /** The lease this row represents; only meaningful while it is processing. */
    public Lease lease() {
        if (status != JobStatus.PROCESSING) {
            throw new IllegalStateException("job " + id + " is " + status.dbName() + ", not processing");
        }
        return new Lease(id, attempt, lockedBy);
    }
}
