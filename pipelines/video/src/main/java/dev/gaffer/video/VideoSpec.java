package dev.gaffer.video;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gaffer.job.InvalidJobException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * What the reference {@code video} job renders. The scenes are the storyboard a person approves
 * ({@code storyboard.scenes}, or {@code parameters.scenes} when the job has no storyboard); the
 * output format is in the parameters ({@code width}, {@code height}, {@code fps}).
 *
 * <pre>{"width":640,"height":360,"fps":25}
 * {"scenes":[{"duration":2,"background":"navy","caption":"Opening"},
 *            {"duration":1.5,"background":"testsrc","caption":"The pattern"}]}</pre>
 */
public record VideoSpec(int width, int height, int fps, List<Scene> scenes) {

    public static final int MAX_SCENES = 200;
    public static final double MAX_SCENE_SECONDS = 600;
    public static final int MAX_CAPTION_LENGTH = 200;
    private static final Pattern HEX_COLOUR = Pattern.compile("^#?[0-9a-fA-F]{6}$");
    private static final Pattern NAMED_COLOUR = Pattern.compile("^[a-z]{3,20}$");

    /**
     * One clip: how long, what is behind the caption, and the caption; for a generative renderer
     * also a prompt and a seed (both optional; null when absent). The FFmpeg renderer draws the
     * first three; every field is part of the scene's input hash, so a changed prompt or a new
     * seed ({@code …/regenerate}) makes the scene again.
     */
    public record Scene(double duration, String background, String caption, String prompt, Long seed) {

        public static final String TEST_PATTERN = "testsrc";

        public Scene(double duration, String background, String caption) {
            this(duration, background, caption, null, null);
        }

        /** The scene as the parameters of its {@code scene} sub-job, its fields in a fixed order. */
        public ObjectNode toJson(ObjectMapper mapper) {
            ObjectNode n = mapper.createObjectNode();
            n.put("duration", duration);
            n.put("background", background);
            n.put("caption", caption);
            if (prompt != null) {
                n.put("prompt", prompt);
            }
            if (seed != null) {
                n.put("seed", seed);
            }
            return n;
        }
    }

    /**
     * The renderer whose clips the input hashes name: a clip made by another renderer, or by
     * another version of this one, is never taken for the same scene.
     */
    public static final String RENDERER = "ffmpeg-scene/1";

    public static final int MAX_PROMPT_LENGTH = 4000;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The renderers a video may ask for ({@code parameters.renderer}): FFmpeg here, or a prediction API. */
    public static final java.util.Set<String> RENDERERS = java.util.Set.of("ffmpeg", "prediction");

    /** {@code parameters.renderer}: {@code ffmpeg} (the default) or {@code prediction}. */
    public static String renderer(JsonNode parameters) {
        JsonNode v = parameters == null ? null : parameters.get("renderer");
        if (v == null || v.isNull()) {
            return "ffmpeg";
        }
        if (!v.isTextual() || !RENDERERS.contains(v.asText())) {
            throw new InvalidSpecException(
                    "parameters.renderer", "must be one of " + new java.util.TreeSet<>(RENDERERS) + ", got " + v);
        }
        return v.asText();
    }

    public static final int MAX_KEEP_REVISIONS = 100;

    /**
     * What a scene's clip is made from, as one hash: the renderer, the output format and the
     * scene's fields (not its position: a scene moved by an insertion is the same clip). Two
     * scenes with the same hash make the same clip, so a clip stored under it is reused.
     */
    public String inputHash(Scene scene) {
        return inputHash(scene, RENDERER);
    }

    /** As {@link #inputHash(Scene)}, for the clip of another renderer (and its version). */
    public String inputHash(Scene scene, String renderer) {
        String canonical = renderer + "\n" + width + "x" + height + "@" + fps + "\n" + scene.toJson(JSON);
        try {
            return java.util.HexFormat.of()
                    .formatHex(java.security.MessageDigest.getInstance("SHA-256")
                            .digest(canonical.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    /**
     * How many revisions of the video to keep ({@code parameters.keep_revisions}, 1 to 100; null:
     * every one). Older ones are deleted when a new one is stored.
     */
    public static Integer keepRevisions(JsonNode parameters) {
        JsonNode v = parameters == null ? null : parameters.get("keep_revisions");
        if (v == null || v.isNull()) {
            return null;
        }
        if (!v.isIntegralNumber() || v.asLong() < 1 || v.asLong() > MAX_KEEP_REVISIONS) {
            throw new InvalidSpecException(
                    "parameters.keep_revisions", "must be a whole number from 1 to " + MAX_KEEP_REVISIONS);
        }
        return v.asInt();
    }

    /** A storyboard or parameters that cannot be rendered, with the path of the offending field. */
    public static final class InvalidSpecException extends InvalidJobException {
        public InvalidSpecException(String field, String problem) {
            super(field, problem);
        }
    }

    public static VideoSpec from(JsonNode parameters, JsonNode storyboard) {
        JsonNode params =
                parameters == null ? com.fasterxml.jackson.databind.node.MissingNode.getInstance() : parameters;
        int width = intField(params, "width", 640, 16, 3840, "parameters.width");
        int height = intField(params, "height", 360, 16, 2160, "parameters.height");
        if (width % 2 != 0 || height % 2 != 0) {
            throw new InvalidSpecException(
                    "parameters.width", "and height must be even (H.264 with yuv420p), got " + width + "x" + height);
        }
        int fps = intField(params, "fps", 25, 1, 120, "parameters.fps");
        String where = "storyboard.scenes";
        JsonNode scenesNode = storyboard == null ? null : storyboard.get("scenes");
        if (scenesNode == null) {
            scenesNode = params.get("scenes");
            where = "parameters.scenes";
        }
        if (scenesNode == null || !scenesNode.isArray() || scenesNode.isEmpty()) {
            throw new InvalidSpecException("storyboard.scenes", "must be a non-empty list of scenes");
        }
        if (scenesNode.size() > MAX_SCENES) {
            throw new InvalidSpecException(where, "has " + scenesNode.size() + " scenes; at most " + MAX_SCENES);
        }
        List<Scene> scenes = new ArrayList<>();
        for (int i = 0; i < scenesNode.size(); i++) {
            scenes.add(scene(scenesNode.get(i), where + "[" + i + "]"));
        }
        return new VideoSpec(width, height, fps, List.copyOf(scenes));
    }

    /**
     * The parameters of a {@code scene} sub-job: the output format and one scene under {@code
     * scene}, as a spec of that one scene.
     */
    public static VideoSpec ofScene(JsonNode parameters) {
        JsonNode scene = parameters == null ? null : parameters.get("scene");
        scene(scene, "parameters.scene");
        ObjectNode storyboard = JSON.createObjectNode();
        storyboard.putArray("scenes").add(scene);
        return from(parameters, storyboard);
    }

    /** Parses one scene, e.g. the parameters of a {@code scene} sub-job. */
    public static Scene scene(JsonNode n, String where) {
        if (n == null || !n.isObject()) {
            throw new InvalidSpecException(where, "must be an object with duration, background and caption");
        }
        JsonNode d = n.get("duration");
        if (d == null || !d.isNumber() || d.asDouble() < 0.1 || d.asDouble() > MAX_SCENE_SECONDS) {
            throw new InvalidSpecException(
                    where + ".duration", "must be a number of seconds from 0.1 to " + (int) MAX_SCENE_SECONDS);
        }
        String background = n.path("background").asText(Scene.TEST_PATTERN).toLowerCase(Locale.ROOT);
        if (!background.equals(Scene.TEST_PATTERN)
                && !HEX_COLOUR.matcher(background).matches()
                && !NAMED_COLOUR.matcher(background).matches()) {
            throw new InvalidSpecException(
                    where + ".background", "must be a colour name (navy), a hex colour (#1e90ff) or testsrc");
        }
        if (HEX_COLOUR.matcher(background).matches() && !background.startsWith("#")) {
            background = "#" + background;
        }
        String caption = n.path("caption").asText("");
        if (caption.length() > MAX_CAPTION_LENGTH) {
            throw new InvalidSpecException(where + ".caption", "must be at most " + MAX_CAPTION_LENGTH + " characters");
        }
        JsonNode p = n.get("prompt");
        if (p != null && !p.isNull() && (!p.isTextual() || p.asText().length() > MAX_PROMPT_LENGTH)) {
            throw new InvalidSpecException(
                    where + ".prompt", "must be text of at most " + MAX_PROMPT_LENGTH + " characters");
        }
        JsonNode s = n.get("seed");
        if (s != null && !s.isNull() && (!s.isIntegralNumber() || s.asLong() < 0 || s.asLong() > Integer.MAX_VALUE)) {
            throw new InvalidSpecException(where + ".seed", "must be a whole number from 0 to " + Integer.MAX_VALUE);
        }
        java.util.Set<String> known = java.util.Set.of("duration", "background", "caption", "prompt", "seed");
        for (var it = n.fieldNames(); it.hasNext(); ) {
            String field = it.next();
            if (!known.contains(field)) {
                throw new InvalidSpecException(
                        where + "." + field,
                        "is not a field of a scene; a scene has " + new java.util.TreeSet<>(known));
            }
        }
        return new Scene(
                d.asDouble(),
                background,
                caption,
                p == null || p.isNull() ? null : p.asText(),
                s == null || s.isNull() ? null : s.asLong());
    }

    /** The gates a video job may stop at: {@code scenes}, the rendered clips before the stitch. */
    public static final java.util.Set<String> GATES = java.util.Set.of(VideoHandlers.SCENES_GATE);

    /**
     * The gates a video job asks for in {@code parameters.review} (e.g. {@code ["scenes"]}):
     * none when absent; a gate that is not in {@link #GATES} is refused.
     */
    public static java.util.Set<String> reviewGates(JsonNode parameters) {
        JsonNode review = parameters == null ? null : parameters.get("review");
        if (review == null || review.isNull()) {
            return java.util.Set.of();
        }
        if (!review.isArray()) {
            throw new InvalidSpecException("parameters.review", "must be a list of gates, e.g. [\"scenes\"]");
        }
        java.util.Set<String> gates = new java.util.TreeSet<>();
        for (int i = 0; i < review.size(); i++) {
            JsonNode g = review.get(i);
            if (!g.isTextual() || !GATES.contains(g.asText())) {
                throw new InvalidSpecException(
                        "parameters.review[" + i + "]",
                        "must be one of " + new java.util.TreeSet<>(GATES) + ", got " + g);
            }
            gates.add(g.asText());
        }
        return gates;
    }

    public double totalSeconds() {
        return scenes.stream().mapToDouble(Scene::duration).sum();
    }

    /** The output format as JSON, passed to every scene sub-job so that the clips concatenate. */
    public ObjectNode format(ObjectMapper mapper) {
        ObjectNode n = mapper.createObjectNode();
        n.put("width", width);
        n.put("height", height);
        n.put("fps", fps);
        return n;
    }

    public ArrayNode scenesJson(ObjectMapper mapper) {
        ArrayNode a = mapper.createArrayNode();
        scenes.forEach(s -> a.add(s.toJson(mapper)));
        return a;
    }

    private static int intField(JsonNode params, String name, int dflt, int min, int max, String field) {
        JsonNode v = params.get(name);
        if (v == null || v.isNull()) {
            return dflt;
        }
        if (!v.isIntegralNumber() || v.asLong() < min || v.asLong() > max) {
            throw new InvalidSpecException(field, "must be a whole number from " + min + " to " + max);
        }
        return v.asInt();
    }
}
