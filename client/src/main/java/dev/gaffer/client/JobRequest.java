package dev.gaffer.client;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.NewJob;
import java.time.Instant;
import java.util.Objects;

/**
 * A job to create, from Java: {@code JobRequest.of("email", params).withQueue("mail")}. Every
 * {@code with} checks its value with the API's rules and messages ({@link NewJob}), so a request
 * the API would refuse cannot be built: it throws {@link InvalidJobException} naming the field.
 *
 * @param approvedBy who approves the job at creation, or null: it waits as pending until a
 *     person approves it. A job with a storyboard (a plan to review) cannot be approved at
 *     creation; over REST none can (approve it with {@link GafferClient#approve}).
 */
public record JobRequest(NewJob job, String approvedBy) {

    public JobRequest {
        Objects.requireNonNull(job, "job");
        if (approvedBy != null) {
            if (approvedBy.isBlank() || approvedBy.indexOf('\u0000') >= 0) {
                throw new InvalidJobException("approved_by", "must name who approved the job");
            }
            if (job.storyboard() != null) {
                throw new InvalidJobException(
                        "approved_by",
                        "a job with a storyboard waits for a person to approve it; create it without approved_by");
            }
        }
    }

    /** A pending job of {@code type} with {@code parameters} (a JSON object, or null for none). */
    public static JobRequest of(String type, JsonNode parameters) {
        return new JobRequest(NewJob.of(type, parameters), null);
    }

    public String type() {
        return job.type();
    }

    public String idempotencyKey() {
        return job.idempotencyKey();
    }

    public JobRequest withQueue(String queue) {
        return new JobRequest(job.withQueue(queue), approvedBy);
    }

    /** -100 to 100; higher runs first. */
    public JobRequest withPriority(int priority) {
        return new JobRequest(job.withPriority(priority), approvedBy);
    }

    /** The plan a person reviews before approving. */
    public JobRequest withStoryboard(JsonNode storyboard) {
        return new JobRequest(job.withStoryboard(storyboard), approvedBy);
    }

    public JobRequest withMaxAttempts(int maxAttempts) {
        return new JobRequest(job.withMaxAttempts(maxAttempts), approvedBy);
    }

    /** Not claimable before {@code runAt}. */
    public JobRequest withRunAt(Instant runAt) {
        return new JobRequest(job.withRunAt(runAt), approvedBy);
    }

    /** A second request with the same key creates nothing and answers with the first job. */
    public JobRequest withIdempotencyKey(String key) {
        return new JobRequest(job.withIdempotencyKey(key), approvedBy);
    }

    public JobRequest withCreatedBy(String createdBy) {
        return new JobRequest(job.withCreatedBy(createdBy), approvedBy);
    }

    /** Approved at creation by {@code approver}: claimable as soon as the transaction commits. */
    public JobRequest approvedBy(String approver) {
        return new JobRequest(job, Objects.requireNonNull(approver, "approver"));
    }
}
