package dev.gaffer.worker;

import java.util.Map;

/**
 * How a jar of handlers announces itself: list the implementing class in
 * {@code META-INF/services/dev.gaffer.worker.JobHandlerProvider} and put the jar in the folder of
 * {@code gaffer worker --handlers DIR} (and of {@code gaffer api}), or on the class path of an
 * embedded worker ({@code WorkerBuilder.discoverHandlers}). The class needs a public no-argument
 * constructor. See docs/handlers.md.
 */
public interface JobHandlerProvider {

    /** Handlers by job type. */
    Map<String, JobHandler> handlers();
}
