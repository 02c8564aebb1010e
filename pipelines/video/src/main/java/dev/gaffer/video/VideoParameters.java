package dev.gaffer.video;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.job.JobTypeValidator;
import java.util.Set;

/**
 * The reference pipeline's job types checked at creation, with the rules their handlers apply: a
 * video's storyboard is checked while the client can still fix it, rather than failing after a
 * person approved it.
 */
public final class VideoParameters implements JobTypeValidator {

    @Override
    public Set<String> types() {
        return VideoHandlers.TYPES;
    }

    @Override
    public void validate(String type, JsonNode parameters, JsonNode storyboard) {
        if (VideoHandlers.SCENE.equals(type) || VideoHandlers.SCENE_PREDICTION.equals(type)) {
            VideoSpec.ofScene(parameters);
        } else {
            VideoSpec.from(parameters, storyboard);
            VideoSpec.reviewGates(parameters);
            VideoSpec.keepRevisions(parameters);
            VideoSpec.renderer(parameters);
        }
    }

    /** A video gets a preview before approval: one small frame per scene. */
    @Override
    public boolean hasPreview(String type) {
        return !VideoHandlers.SCENES.contains(type);
    }

    /** A video may stop at {@code scenes} (when its parameters ask for it); a scene at none. */
    @Override
    public Set<String> gates(String type) {
        return VideoHandlers.SCENES.contains(type) ? Set.of() : VideoSpec.GATES;
    }

    /** A video's storyboard is its scenes, edited one at a time over {@code …/scenes}. */
    @Override
    public boolean hasScenes(String type) {
        return !VideoHandlers.SCENES.contains(type);
    }
}
