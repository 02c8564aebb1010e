package dev.gaffer.video;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.NewJob;
import dev.gaffer.job.SubJob;
import dev.gaffer.job.SubJobFailurePolicy;
import dev.gaffer.worker.HandlerRegistry;
import dev.gaffer.worker.JobContext;
import dev.gaffer.worker.JobHandler;
import dev.gaffer.worker.Outcome;
import dev.gaffer.worker.PreviewContext;
import dev.gaffer.worker.PreviewHandler;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The reference pipeline Gaffer grew out of: a {@code video} job renders each scene of its
 * approved storyboard as a {@code scene} sub-job, in parallel on any workers, then stitches the
 * clips into one MP4. Clips and the video are artifacts in PostgreSQL, so the workers share no
 * disk. {@code image_pairs}, the pipeline's name in the original design, is the same handler.
 */
public final class VideoHandlers {

    public static final String VIDEO = "video";
    public static final String IMAGE_PAIRS = "image_pairs";
    public static final String SCENE = "scene";
    /** A scene made by an external prediction API ({@link PredictionScene}). */
    public static final String SCENE_PREDICTION = "scene_prediction";
    /** The job types of one scene, by renderer. */
    public static final Set<String> SCENES = Set.of(SCENE, SCENE_PREDICTION);
    /** Every job type of the pipeline. */
    public static final Set<String> TYPES = Set.of(VIDEO, IMAGE_PAIRS, SCENE, SCENE_PREDICTION);

    public static final String RENDERING = "rendering";
    /** After the scenes, when the job asks for a review of them: where it stops at the gate. */
    public static final String RENDERED = "rendered";

    public static final String STITCHING = "stitching";
    /** The gate of the rendered scenes, before the stitch ({@code parameters.review: ["scenes"]}). */
    public static final String SCENES_GATE = "scenes";

    public static final String CLIP = "clip.mp4";
    public static final String VIDEO_FILE = "video.mp4";

    private static final ObjectMapper JSON = new ObjectMapper();

    private VideoHandlers() {}

    public static HandlerRegistry register(
            HandlerRegistry registry, ArtifactStore artifacts, Ffmpeg ffmpeg, Path workDir) {
        return register(registry, artifacts, ffmpeg, workDir, java.util.Optional.empty());
    }

    /**
     * As {@link #register(HandlerRegistry, ArtifactStore, Ffmpeg, Path)}, with the {@code
     * scene_prediction} renderer when {@code prediction} is configured ({@link PredictionConfig}).
     */
    public static HandlerRegistry register(
            HandlerRegistry registry,
            ArtifactStore artifacts,
            Ffmpeg ffmpeg,
            Path workDir,
            java.util.Optional<PredictionConfig> prediction) {
        String predictionRenderer = prediction.map(PredictionConfig::rendererId).orElse("prediction");
        JobHandler video = new Video(artifacts, ffmpeg, workDir, predictionRenderer);
        PreviewHandler frames = new Frames(ffmpeg, workDir);
        registry.register(VIDEO, video)
                .register(IMAGE_PAIRS, video)
                .register(SCENE, new Scene(artifacts, ffmpeg, workDir))
                .registerPreview(VIDEO, frames)
                .registerPreview(IMAGE_PAIRS, frames);
        prediction.ifPresent(config -> registry.register(
                SCENE_PREDICTION, new PredictionScene(new PredictionClient(config), artifacts, ffmpeg, workDir)));
        return registry;
    }

    /** The width of a preview frame; its height keeps the video's aspect. */
    public static final int PREVIEW_WIDTH = 160;

    /**
     * The preview of a pending video: the first frame of each scene of the storyboard under
     * review, small (160 pixels wide), as a PNG each. A fraction of a second of FFmpeg per scene.
     */
    static final class Frames implements PreviewHandler {
        private final Ffmpeg ffmpeg;
        private final Path workDir;

        Frames(Ffmpeg ffmpeg, Path workDir) {
            this.ffmpeg = ffmpeg;
            this.workDir = workDir;
        }

        @Override
        public JsonNode preview(PreviewContext ctx) throws Exception {
            VideoSpec spec = VideoSpec.from(ctx.job().parameters(), ctx.job().storyboard());
            int width = Math.min(PREVIEW_WIDTH, spec.width());
            int height = Math.max(2, (int) Math.round((double) width * spec.height() / spec.width() / 2) * 2);
            Path dir = Files.createTempDirectory(
                    Files.createDirectories(workDir), "preview-" + ctx.job().id() + "-");
            try {
                ObjectNode result = JSON.createObjectNode();
                result.put("revision", ctx.revision());
                result.put("width", width);
                result.put("height", height);
                var frames = result.putArray("frames");
                for (int i = 0; i < spec.scenes().size(); i++) {
                    if (Thread.currentThread().isInterrupted()) {
                        throw new InterruptedException(
                                "preview of job " + ctx.job().id() + " cancelled");
                    }
                    VideoSpec.Scene scene = spec.scenes().get(i);
                    Path png = dir.resolve("scene-" + i + ".png");
                    ffmpeg.renderFrame(scene, width, height, png);
                    ObjectNode f = frames.addObject();
                    f.put("index", i);
                    f.put("caption", scene.caption());
                    f.put("duration_seconds", scene.duration());
                    f.put("url", ctx.attach("scene-" + i + ".png", "image/png", png));
                }
                return result;
            } finally {
                deleteRecursively(dir);
            }
        }
    }

    /** The parent: fan out one scene per storyboard entry, then stitch. */
    static final class Video implements JobHandler {
        private final ArtifactStore artifacts;
        private final Ffmpeg ffmpeg;
        private final Path workDir;
        private final String predictionRenderer;

        Video(ArtifactStore artifacts, Ffmpeg ffmpeg, Path workDir, String predictionRenderer) {
            this.artifacts = artifacts;
            this.ffmpeg = ffmpeg;
            this.workDir = workDir;
            this.predictionRenderer = predictionRenderer;
        }

        /** The scene job type and the renderer name of the hashes, for the video's {@code renderer}. */
        private Renderer renderer(JobContext ctx) {
            return "prediction".equals(VideoSpec.renderer(ctx.parameters()))
                    ? new Renderer(SCENE_PREDICTION, predictionRenderer)
                    : new Renderer(SCENE, VideoSpec.RENDERER);
        }

        @Override
        public Outcome handle(JobContext ctx) throws Exception {
            VideoSpec spec;
            try {
                spec = VideoSpec.from(ctx.parameters(), ctx.storyboard());
            } catch (VideoSpec.InvalidSpecException e) {
                return Outcome.fail("invalid video job: " + e.getMessage());
            }
            // Read once per run: every clip any revision of the job made, and which renderer makes them.
            Renderer renderer = renderer(ctx);
            List<Job> subJobs = ctx.subJobs();
            if (RENDERED.equals(ctx.stage())) {
                return awaitSceneReview(spec, renderer.id(), subJobs);
            }
            if (!STITCHING.equals(ctx.stage())) {
                // The first run of a revision renders the scenes that have no clip yet: a scene
                // whose input hash matches a clip an earlier revision made is reused. A request
                // for changes at the scenes gate (its redo stage, RENDERING) renders every scene
                // again. The stitch takes the newest clip of each scene's hash.
                boolean review = VideoSpec.reviewGates(ctx.parameters()).contains(SCENES_GATE);
                boolean redo = RENDERING.equals(ctx.stage());
                java.util.Map<String, Job> made = redo ? java.util.Map.of() : clipsByHash(subJobs);
                List<SubJob> scenes = new ArrayList<>();
                java.util.Set<String> asked = new java.util.HashSet<>();
                for (int i = 0; i < spec.scenes().size(); i++) {
                    String hash = spec.inputHash(spec.scenes().get(i), renderer.id());
                    if (made.containsKey(hash) || !asked.add(hash)) {
                        continue;
                    }
                    ObjectNode p = spec.format(JSON);
                    p.put("index", i);
                    p.put("input_hash", hash);
                    p.set("scene", spec.scenes().get(i).toJson(JSON));
                    scenes.add(
                            new SubJob(renderer.jobType(), null, ctx.job().priority(), p, NewJob.DEFAULT_MAX_ATTEMPTS));
                }
                if (!scenes.isEmpty()) {
                    // One scene that cannot be rendered makes the video impossible: stop the others at once.
                    return Outcome.waitFor(
                            scenes, RENDERING, review ? RENDERED : STITCHING, SubJobFailurePolicy.FAIL_FAST);
                }
                // Every scene has its clip already: straight on to the gate or the stitch.
                if (review) {
                    return awaitSceneReview(spec, renderer.id(), subJobs);
                }
            }
            return stitch(ctx, spec, renderer.id(), subJobs);
        }

        /**
         * The newest completed scene sub-job of each input hash, over every revision the job had:
         * the clips it may reuse. A scene job's hash is the one its handler computed from its own
         * parameters ({@code result.input_hash}), so a clip is never taken for other inputs.
         */
        private static java.util.Map<String, Job> clipsByHash(List<Job> subJobs) {
            java.util.Map<String, Job> newest = new java.util.HashMap<>();
            for (Job j : subJobs) {
                if (SCENES.contains(j.type()) && j.status() == JobStatus.COMPLETED && j.result() != null) {
                    String hash = j.result().path("input_hash").asText("");
                    if (!hash.isEmpty()) {
                        newest.merge(hash, j, (a, b) -> a.id() > b.id() ? a : b);
                    }
                }
            }
            return newest;
        }

        /**
         * The clip of each scene of the spec, in order: the newest completed scene job of its
         * input hash (a request for changes at the scenes gate renders every scene again, and
         * the earlier clips stay as they were).
         */
        private static List<Job> latestScenes(List<Job> subJobs, VideoSpec spec, String renderer) {
            java.util.Map<String, Job> made = clipsByHash(subJobs);
            List<Job> clips = new ArrayList<>();
            for (VideoSpec.Scene scene : spec.scenes()) {
                clips.add(made.get(spec.inputHash(scene, renderer)));
            }
            return clips;
        }

        /**
         * Why the scenes cannot be used (the first scene without a clip, with what became of the
         * job that was to make it), or null when every scene of the spec has its clip.
         */
        private static String unusable(List<Job> subJobs, List<Job> clips, VideoSpec spec, String renderer) {
            for (int i = 0; i < clips.size(); i++) {
                if (clips.get(i) != null) {
                    continue;
                }
                String hash = spec.inputHash(spec.scenes().get(i), renderer);
                Job last = null;
                for (Job j : subJobs) {
                    if (SCENES.contains(j.type())
                            && hash.equals(j.parameters().path("input_hash").asText())
                            && (last == null || j.id() > last.id())) {
                        last = j;
                    }
                }
                return last == null
                        ? "scene " + i + " has no clip and no scene job made one"
                        : "scene " + i + " (job " + last.id() + ") "
                                + last.status().dbName() + (last.lastError() == null ? "" : ": " + last.lastError());
            }
            return null;
        }

        /**
         * Stops at the scenes gate with what the reviewer looks at: each scene's caption and
         * clip (a link to download it). Approved, the job stitches; with changes requested, it
         * renders the scenes again and stops here again.
         */
        private static Outcome awaitSceneReview(VideoSpec spec, String renderer, List<Job> subJobs) {
            List<Job> scenes = latestScenes(subJobs, spec, renderer);
            String why = unusable(subJobs, scenes, spec, renderer);
            if (why != null) {
                return Outcome.fail(why);
            }
            ObjectNode summary = JSON.createObjectNode();
            summary.put("look_at", "the rendered scenes; approve to stitch them, request changes to render them again");
            var list = summary.putArray("scenes");
            for (int index = 0; index < scenes.size(); index++) {
                Job s = scenes.get(index);
                ObjectNode n = list.addObject();
                n.put("index", index);
                n.put("caption", spec.scenes().get(index).caption());
                n.put("job_id", s.id());
                n.put("clip_url", "/api/v3/jobs/" + s.id() + "/artifacts/" + CLIP);
                n.put(
                        "duration_seconds",
                        s.result() == null
                                ? 0
                                : s.result().path("duration_seconds").asDouble());
            }
            return Outcome.awaitReview(SCENES_GATE, STITCHING, RENDERING, summary);
        }

        private Outcome stitch(JobContext ctx, VideoSpec spec, String renderer, List<Job> subJobs) throws Exception {
            List<Job> scenes = latestScenes(subJobs, spec, renderer);
            String why = unusable(subJobs, scenes, spec, renderer);
            if (why != null) {
                return Outcome.fail(why);
            }
            // The scenes took the job to 90 % (FanIn.SUBJOBS_PROGRESS_SHARE); the stitch reports
            // the rest, and only completing it is 100 %.
            Path dir = Files.createTempDirectory(Files.createDirectories(workDir), "video-" + ctx.jobId() + "-");
            try {
                ctx.progress(92, STITCHING + ": fetching " + scenes.size() + " clips");
                List<Path> clips = new ArrayList<>();
                for (int i = 0; i < scenes.size(); i++) {
                    Job s = scenes.get(i);
                    ctx.throwIfCancelled();
                    Path clip = dir.resolve("scene-" + i + ".mp4");
                    if (!artifacts.download(s.id(), CLIP, clip)) {
                        // The clip is gone (pruned?): rendering again is the only fix.
                        return Outcome.fail("the clip of scene job " + s.id() + " is missing");
                    }
                    clips.add(clip);
                }
                ctx.progress(95, STITCHING + ": joining clips");
                Path out = dir.resolve(VIDEO_FILE);
                ffmpeg.concat(clips, out, spec.totalSeconds(), f -> {});
                Ffmpeg.Probe probe = ffmpeg.probe(out);
                ctx.progress(98, STITCHING + ": storing video");
                var stored = artifacts.put(
                        ctx.job().lease(), VIDEO_FILE, "video/mp4", out, VideoSpec.keepRevisions(ctx.parameters()));
                if (!(stored instanceof ArtifactStore.Stored s)) {
                    throw new InterruptedException("lease lost while storing the video");
                }
                ObjectNode result = JSON.createObjectNode();
                result.put("artifact", VIDEO_FILE);
                result.put("download_url", "/api/v3/jobs/" + ctx.jobId() + "/artifacts/" + VIDEO_FILE);
                result.put("content_type", "video/mp4");
                result.put("size_bytes", s.artifact().sizeBytes());
                result.put("sha256", s.artifact().sha256());
                result.put("duration_seconds", probe.durationSeconds());
                result.put("width", probe.width());
                result.put("height", probe.height());
                result.put("fps", probe.frameRate());
                result.put("scenes", scenes.size());
                result.put("revision", s.artifact().revision());
                result.put("storyboard_revision", ctx.job().storyboardRevision());
                // What this revision made of each scene: its clip, and whether it was rendered for
                // this revision (after its approval) or reused from an earlier one.
                Instant approved = ctx.job().approvedAt();
                int rendered = 0;
                var outputs = result.putArray("scene_outputs");
                for (int i = 0; i < scenes.size(); i++) {
                    Job scene = scenes.get(i);
                    boolean fresh = approved == null || !scene.createdAt().isBefore(approved);
                    rendered += fresh ? 1 : 0;
                    ObjectNode o = outputs.addObject();
                    o.put("index", i);
                    o.put("input_hash", scene.result().path("input_hash").asText());
                    o.put("job_id", scene.id());
                    o.put("clip_url", "/api/v3/jobs/" + scene.id() + "/artifacts/" + CLIP);
                    o.put(
                            "duration_seconds",
                            scene.result().path("duration_seconds").asDouble());
                    o.put("reused", !fresh);
                }
                result.put("scenes_rendered", rendered);
                result.put("scenes_reused", scenes.size() - rendered);
                return Outcome.complete(result);
            } finally {
                deleteRecursively(dir);
            }
        }
    }

    /** Which scene job makes a video's clips, and the renderer's name in their input hashes. */
    private record Renderer(String jobType, String id) {}

    /** One scene: render it with FFmpeg, reporting FFmpeg's own progress, and store the clip. */
    static final class Scene implements JobHandler {
        private final ArtifactStore artifacts;
        private final Ffmpeg ffmpeg;
        private final Path workDir;

        Scene(ArtifactStore artifacts, Ffmpeg ffmpeg, Path workDir) {
            this.artifacts = artifacts;
            this.ffmpeg = ffmpeg;
            this.workDir = workDir;
        }

        @Override
        public Outcome handle(JobContext ctx) throws Exception {
            JsonNode p = ctx.parameters();
            VideoSpec format;
            try {
                format = VideoSpec.ofScene(p);
            } catch (VideoSpec.InvalidSpecException e) {
                return Outcome.fail("invalid scene: " + e.getMessage());
            }
            VideoSpec.Scene scene = format.scenes().getFirst();
            Path dir = Files.createTempDirectory(Files.createDirectories(workDir), "scene-" + ctx.jobId() + "-");
            try {
                Path clip = dir.resolve(CLIP);
                ctx.progress(0, RENDERING);
                ffmpeg.renderScene(
                        scene,
                        format.width(),
                        format.height(),
                        format.fps(),
                        clip,
                        fraction -> ctx.progress((int) Math.round(fraction * 99), RENDERING));
                Ffmpeg.Probe probe = ffmpeg.probe(clip);
                var stored = artifacts.put(ctx.job().lease(), CLIP, "video/mp4", clip);
                if (!(stored instanceof ArtifactStore.Stored s)) {
                    throw new InterruptedException("lease lost while storing the clip");
                }
                ObjectNode result = JSON.createObjectNode();
                result.put("artifact", CLIP);
                result.put("index", p.path("index").asInt());
                // From the scene's own parameters: the parent reuses this clip for any scene of the
                // same inputs, in this revision or a later one.
                result.put("input_hash", format.inputHash(scene));
                result.put("duration_seconds", probe.durationSeconds());
                result.put("size_bytes", s.artifact().sizeBytes());
                result.put("sha256", s.artifact().sha256());
                return Outcome.complete(result);
            } finally {
                deleteRecursively(dir);
            }
        }
    }

    static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(path);
            }
        }
    }
}
