package dev.gaffer.api;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.db.WorkerStore;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobEvent;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.ReviewTrail;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * The API's response bodies. Row records are never serialized directly: these records are the
 * contract with clients, so the tables can change without breaking them. Field names become
 * snake_case ({@link JsonSupport}); timestamps are ISO-8601 in UTC.
 */
public final class Responses {

    private Responses() {}

    /** The seed's approve answer, field for field. */
    @JsonPropertyOrder({"message", "job_id", "status"})
    public record ApproveResponse(String message, long jobId, String status) {
        static ApproveResponse of(Job job) {
            // A job type whose review policy asks for a quorum stays pending until it is reached.
            return new ApproveResponse(
                    job.status() == dev.gaffer.job.JobStatus.PENDING
                            ? "Approval recorded; the job's review policy needs more approvals"
                            : "Job approved successfully",
                    job.id(),
                    job.status().dbName());
        }
    }

    /** Sub-job counts of a job that fanned out. */
    public record SubJobCounts(int total, int open, int finished) {}

    /** A job as clients see it: the seed's fields first, then what a client needs around them. */
    @JsonPropertyOrder({
        "job_id",
        "type",
        "status",
        "progress_percentage",
        "current_stage",
        "parameters",
        "storyboard",
        "inserted_at",
        "updated_at"
    })
    public record JobResponse(
            long jobId,
            String type,
            String status,
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
            SubJobCounts subjobs,
            int storyboardRevision,
            Review review) {

        /**
         * The job's review: the gate ({@code plan}, or a gate its handler stopped at later), the
         * revision decided on there (a decision's If-Match), whether it is open (the job is
         * pending) and, at a later gate, what the handler gave the reviewers to look at.
         */
        public record Review(String gate, int revision, boolean open, JsonNode summary) {}

        static JobResponse of(Job j) {
            return new JobResponse(
                    j.id(),
                    j.type(),
                    j.status().dbName(),
                    j.progressPercentage(),
                    j.currentStage(),
                    j.parameters(),
                    j.storyboard(),
                    j.createdAt(),
                    j.updatedAt(),
                    j.parentId(),
                    j.queue(),
                    j.priority(),
                    j.attempt(),
                    j.maxAttempts(),
                    j.runAt(),
                    j.createdBy(),
                    j.approvedBy(),
                    j.approvedAt(),
                    j.startedAt(),
                    j.finishedAt(),
                    j.lockedBy(),
                    j.heartbeatAt(),
                    j.leaseExpiresAt(),
                    j.lastError(),
                    j.result(),
                    new SubJobCounts(j.subjobsTotal(), j.subjobsOpen(), j.subjobsTotal() - j.subjobsOpen()),
                    j.storyboardRevision(),
                    new Review(
                            j.reviewGate(),
                            j.reviewRevision(),
                            j.status() == dev.gaffer.job.JobStatus.PENDING,
                            j.reviewSummary()));
        }
    }

    public record JobPage(List<JobResponse> jobs, String nextCursor) {}

    /** A pending job's preview of one storyboard revision (job_previews). */
    public record PreviewResponse(
            long jobId,
            int revision,
            String status,
            int attempt,
            JsonNode result,
            String error,
            Instant requestedAt,
            Instant startedAt,
            Instant finishedAt) {
        static PreviewResponse of(dev.gaffer.job.PreviewStore.Preview p) {
            return new PreviewResponse(
                    p.jobId(),
                    p.revision(),
                    p.status(),
                    p.attempt(),
                    p.result(),
                    p.error(),
                    p.requestedAt(),
                    p.startedAt(),
                    p.finishedAt());
        }
    }

    public record SubJobList(long parentId, List<JobResponse> subjobs) {}

    public record EventResponse(
            long id,
            long jobId,
            String kind,
            String status,
            int attempt,
            String workerId,
            String actor,
            Integer progressPercentage,
            String stage,
            String message,
            Instant createdAt,
            Instant attemptStartedAt) {

        static EventResponse of(JobEvent e) {
            return new EventResponse(
                    e.id(),
                    e.jobId(),
                    e.kind(),
                    e.status().dbName(),
                    e.attempt(),
                    e.workerId(),
                    e.actor(),
                    e.progressPercentage(),
                    e.stage(),
                    e.message(),
                    e.createdAt(),
                    e.attemptStartedAt());
        }
    }

    public record EventPage(long jobId, List<EventResponse> events, long nextSince) {}

    /** One decision of the audit trail (job_reviews). */
    public record ReviewResponse(
            long id,
            long jobId,
            String jobType,
            String gate,
            int revision,
            String decision,
            String reviewer,
            String requestedBy,
            String comment,
            Instant decidedAt) {
        static ReviewResponse of(ReviewTrail.Review r) {
            return new ReviewResponse(
                    r.id(),
                    r.jobId(),
                    r.jobType(),
                    r.gate(),
                    r.revision(),
                    r.decision(),
                    r.reviewer(),
                    r.requestedBy(),
                    r.comment(),
                    r.decidedAt());
        }
    }

    public record ReviewList(long jobId, List<ReviewResponse> reviews) {}

    public record ReviewPage(List<ReviewResponse> reviews, long nextSince) {}

    public record Throughput(Instant minute, long completed, long failed, long cancelled) {
        static Throughput of(JobQueries.MinuteThroughput t) {
            return new Throughput(t.minute(), t.completed(), t.failed(), t.cancelled());
        }
    }

    public record StatsResponse(
            long total,
            Map<String, Long> byStatus,
            Map<String, Map<String, Long>> byQueue,
            int windowMinutes,
            List<Throughput> throughput) {}

    public record WorkerResponse(
            String id,
            String name,
            String host,
            long pid,
            List<String> queues,
            int concurrency,
            int running,
            Instant startedAt,
            Instant lastSeenAt) {
        static WorkerResponse of(WorkerStore.WorkerRow w) {
            return new WorkerResponse(
                    w.id(),
                    w.name(),
                    w.host(),
                    w.pid(),
                    w.queues(),
                    w.concurrency(),
                    w.running(),
                    w.startedAt(),
                    w.lastSeenAt());
        }
    }

    public record WorkerList(List<WorkerResponse> workers) {}

    public record Health(String status, Map<String, String> checks) {}
}
