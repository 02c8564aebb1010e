package dev.gaffer.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.job.JobStatus;
import java.time.Instant;

/**
 * A job as the API returns it ({@code GET /api/v3/jobs/{id}}). Fields a newer server adds are
 * ignored.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record JobInfo(
        long jobId,
        String type,
        JobStatus status,
        int progressPercentage,
        String currentStage,
        JsonNode parameters,
        JsonNode storyboard,
        Instant insertedAt,
        Instant updatedAt,
        Long parentId,
        String queue,
        int priority,
        int attempt,
        int maxAttempts,
        Instant runAt,
        String createdBy,
        String approvedBy,
        Instant approvedAt,
        Instant startedAt,
        Instant finishedAt,
        String lockedBy,
        Instant heartbeatAt,
        Instant leaseExpiresAt,
        String lastError,
        JsonNode result,
        SubJobCounts subjobs) {

    /** How many sub-jobs it spawned, and how many of them are still open. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record SubJobCounts(int total, int open, int finished) {}

    public boolean isFinished() {
        return status != null && status.isTerminal();
    }
}
