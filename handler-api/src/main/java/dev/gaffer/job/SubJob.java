package dev.gaffer.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;

/**
 * A sub-job to spawn from a running parent. It is created approved (the parent's approval covers
 * it); its queue defaults to the parent's.
 */
public record SubJob(String type, String queue, int priority, JsonNode parameters, int maxAttempts) {

    public SubJob {
        NewJob.requireName("type", type);
        if (queue != null) {
            NewJob.requireName("queue", queue);
        }
        if (priority < NewJob.MIN_PRIORITY || priority > NewJob.MAX_PRIORITY) {
            throw new InvalidJobException("priority", "must be a whole number from -100 to 100, got " + priority);
        }
        parameters = parameters == null ? JsonNodeFactory.instance.objectNode() : parameters;
        if (!parameters.isObject()) {
            throw new InvalidJobException("parameters", "must be a JSON object");
        }
        parameters = JsonLimits.checked("parameters", parameters);
        JobControls.check(parameters);
        if (maxAttempts < 1 || maxAttempts > NewJob.MAX_ATTEMPTS_LIMIT) {
            throw new InvalidJobException("max_attempts", "must be a whole number from 1 to 1000, got " + maxAttempts);
        }
    }

    public static SubJob of(String type, JsonNode parameters) {
        return new SubJob(type, null, 0, parameters, NewJob.DEFAULT_MAX_ATTEMPTS);
    }
}
