package dev.gaffer.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Set;

/**
 * How a job type checks its parameters and storyboard when a job is created, so that a client
 * hears of a mistake at once (422 naming the field) instead of after a person approved the job and
 * a worker failed it. Declared next to the type's handler and found with {@link
 * java.util.ServiceLoader} ({@code META-INF/services/dev.gaffer.job.JobTypeValidator}), like the
 * handlers; the API runs the validators on its class path ({@link JobTypeValidators}).
 */
public interface JobTypeValidator {

    /** The job types this validator checks. */
    Set<String> types();

    /**
     * Throws {@link InvalidJobException} naming the field at fault (e.g. {@code parameters.ms}).
     * The documents have passed {@link JsonLimits}; {@code storyboard} may be null.
     */
    void validate(String type, JsonNode parameters, JsonNode storyboard);

    /**
     * The gates a job of {@code type} may stop at after its plan ({@code Outcome.AwaitReview}):
     * the names a review policy may be set for. None by default.
     */
    default Set<String> gates(String type) {
        return Set.of();
    }

    /**
     * Whether a pending job of {@code type} gets a preview ({@code PreviewHandler}) before its
     * reviewer decides: the API asks for one when the job is created and at every revision.
     */
    default boolean hasPreview(String type) {
        return false;
    }

    /**
     * Whether a job of {@code type} keeps a list of scenes under its storyboard's {@code scenes}
     * that people edit one at a time ({@code /api/v3/jobs/{id}/scenes}): each edit is a whole new
     * storyboard revision, checked by {@link #validate}. A scene may carry a {@code seed}, which
     * {@code …/regenerate} replaces with a new one so that only that scene is made again.
     */
    default boolean hasScenes(String type) {
        return false;
    }
}
