package dev.gaffer.job;

import java.util.Objects;

/**
 * A worker's hold on the preview of one storyboard revision of a pending job (job_previews,
 * V021): every write of the preview, its files included, is fenced by all four.
 */
public record PreviewLease(long jobId, int revision, int attempt, String workerId) {

    public PreviewLease {
        Objects.requireNonNull(workerId, "workerId");
    }

    /** The prefix of the names of this preview's files among the job's artifacts. */
    public String artifactPrefix() {
        return "preview-r" + revision + "-";
    }
}
