package dev.gaffer.job;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;

/** The {@link JobTypeValidator}s found on a class path, by job type; a type without one is not checked. */
public final class JobTypeValidators {

    private final Map<String, JobTypeValidator> byType;

    private JobTypeValidators(Map<String, JobTypeValidator> byType) {
        this.byType = Map.copyOf(byType);
    }

    /** Every validator that {@link ServiceLoader} finds with this class's loader. */
    public static JobTypeValidators discover() {
        return discover(JobTypeValidators.class.getClassLoader());
    }

    public static JobTypeValidators discover(ClassLoader loader) {
        return new JobTypeValidators(Map.of()).plus(ServiceLoader.load(JobTypeValidator.class, loader));
    }

    /** These and {@code more}; a type may have one validator only. */
    public JobTypeValidators plus(Iterable<JobTypeValidator> more) {
        Map<String, JobTypeValidator> all = new TreeMap<>(byType);
        for (JobTypeValidator v : more) {
            for (String type : v.types()) {
                JobTypeValidator before = all.putIfAbsent(type, v);
                if (before != null) {
                    throw new IllegalStateException("two validators for job type '" + type + "': "
                            + before.getClass().getName() + " and "
                            + v.getClass().getName());
                }
            }
        }
        return new JobTypeValidators(all);
    }

    /** Checks a job of {@code type} with its validator, if it has one. */
    public void validate(String type, JsonNode parameters, JsonNode storyboard) {
        JobTypeValidator v = byType.get(type);
        if (v != null) {
            v.validate(type, parameters, storyboard);
        }
    }

    /** The gates that {@code type} declares (none for a type without a validator). */
    public Set<String> gates(String type) {
        JobTypeValidator v = byType.get(type);
        return v == null ? Set.of() : Set.copyOf(v.gates(type));
    }

    /** Whether {@code type} declares a preview. */
    public boolean hasPreview(String type) {
        JobTypeValidator v = byType.get(type);
        return v != null && v.hasPreview(type);
    }

    /** Whether {@code type} keeps a storyboard of scenes that people edit one at a time. */
    public boolean hasScenes(String type) {
        JobTypeValidator v = byType.get(type);
        return v != null && v.hasScenes(type);
    }

    /** The types that have a validator. */
    public Set<String> types() {
        return byType.keySet();
    }
}
