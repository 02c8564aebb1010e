package dev.gaffer.worker.builtin;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.job.JobTypeValidator;
import java.util.Set;

/**
 * Job type {@code noop} takes any parameters and storyboard and ignores them. Declaring it here is
 * what makes the API accept the type when GAFFER_JOB_TYPES is unset.
 */
public final class NoopParameters implements JobTypeValidator {

    @Override
    public Set<String> types() {
        return Set.of(NoopHandler.TYPE);
    }

    @Override
    public void validate(String type, JsonNode parameters, JsonNode storyboard) {
        // Anything that passed the API's JSON limits will do.
    }
}
