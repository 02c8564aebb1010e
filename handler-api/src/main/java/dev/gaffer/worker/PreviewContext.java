package dev.gaffer.worker;

import dev.gaffer.job.Job;
import java.nio.file.Path;
import java.time.Duration;

/** What a {@link PreviewHandler} sees: the pending job, the revision it previews, and where its files go. */
public interface PreviewContext {

    /** The pending job, as it was when the preview was claimed. */
    Job job();

    /** The storyboard revision previewed. */
    int revision();

    /** How long the preview may take before it is interrupted and its attempt fails. */
    Duration timeout();

    /**
     * Stores {@code file} among the job's artifacts as {@code preview-r<revision>-<name>} and
     * returns the URL the API serves it at. Throws {@link InterruptedException} when the preview's
     * lease was lost (it took too long and another worker has it).
     */
    String attach(String name, String contentType, Path file) throws InterruptedException;
}
