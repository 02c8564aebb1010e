package dev.gaffer.worker;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * A job type's preview (issue 18): cheap, bounded work that a worker runs while a job is pending,
 * so that its reviewer sees what the plan would make before deciding (the video pipeline renders
 * one small frame per scene). Called on a virtual thread, once per storyboard revision (again if
 * its worker dies, at most three attempts), with {@link PreviewContext#timeout()} to finish in;
 * the thread is interrupted when it runs out.
 *
 * <p>A preview is not a run of the job: the job stays pending, keeps its attempts, and its result
 * is untouched. What this returns (any JSON object, at most 64 KiB) is the preview's own result;
 * files go with {@link PreviewContext#attach}. An exception fails this attempt.
 */
@FunctionalInterface
public interface PreviewHandler {

    JsonNode preview(PreviewContext ctx) throws Exception;
}
