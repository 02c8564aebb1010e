package dev.gaffer.worker;

import java.util.Map;

/**
 * How a jar of handlers announces itself: list the implementing class in
 * {@code META-INF/services/dev.gaffer.worker.JobHandlerProvider} and put the jar on the worker's
 * class path. The class needs a public no-argument constructor.
 */
public interface JobHandlerProvider {

    /** Handlers by job type. */
    Map<String, JobHandler> handlers();
}
