package dev.gaffer.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import dev.gaffer.job.JobStatus;
import java.time.Instant;

/** One entry of a job's history ({@code job_events}), as the API and its event streams send it. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record JobEventInfo(
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
