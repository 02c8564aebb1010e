package dev.gaffer.client;

import dev.gaffer.job.JobStatus;

/** Which jobs {@link GafferClient#list} returns; every field may be null (no filter). */
public record JobFilter(JobStatus status, String type, String queue, Long parentId) {

    public static final JobFilter ALL = new JobFilter(null, null, null, null);

    public JobFilter withStatus(JobStatus s) {
        return new JobFilter(s, type, queue, parentId);
    }

    public JobFilter withType(String t) {
        return new JobFilter(status, t, queue, parentId);
    }

    public JobFilter withQueue(String q) {
        return new JobFilter(status, type, q, parentId);
    }

    public JobFilter withParent(Long id) {
        return new JobFilter(status, type, queue, id);
    }
}
