package dev.gaffer.video;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.worker.JobContext;
import dev.gaffer.worker.JobHandler;
import dev.gaffer.worker.Outcome;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * The {@code scene_prediction} job: one scene made by an external prediction API (Replicate's
 * protocol, {@link PredictionClient}) instead of FFmpeg alone. The first run creates the
 * prediction, with the job's callback URL as its webhook when the API's public address is known,
 * and waits for it without holding the worker ({@link Outcome#awaitCallback}); the stage names the
 * prediction ({@code prediction <id>}). Called back, or at a poll, it reads the prediction: still
 * running, it waits again (same URL, same deadline); succeeded, it downloads the output (an image
 * or a clip), fits it into the video's format with the scene's caption, and stores the clip like
 * an FFmpeg scene; failed or cancelled, the job fails saying so. Cancelled or timed out while it
 * runs, it cancels the prediction.
 */
final class PredictionScene implements JobHandler {

    static final String STAGE = "prediction ";
    private static final Set<String> RUNNING = Set.of("starting", "processing");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final PredictionClient client;
    private final ArtifactStore artifacts;
    private final Ffmpeg ffmpeg;
    private final Path workDir;

    PredictionScene(PredictionClient client, ArtifactStore artifacts, Ffmpeg ffmpeg, Path workDir) {
        this.client = client;
        this.artifacts = artifacts;
        this.ffmpeg = ffmpeg;
        this.workDir = workDir;
    }

    @Override
    public Outcome handle(JobContext ctx) throws Exception {
        VideoSpec format;
        try {
            format = VideoSpec.ofScene(ctx.parameters());
        } catch (VideoSpec.InvalidSpecException e) {
            return Outcome.fail("invalid scene: " + e.getMessage());
        }
        VideoSpec.Scene scene = format.scenes().getFirst();
        String stage = ctx.stage();
        String id = stage != null && stage.startsWith(STAGE) ? stage.substring(STAGE.length()) : null;
        PredictionConfig config = client.config();
        try {
            JsonNode prediction;
            if (id == null) {
                ObjectNode input = JSON.createObjectNode();
                input.put("prompt", scene.prompt() != null ? scene.prompt() : scene.caption());
                input.put("width", format.width());
                input.put("height", format.height());
                input.put("fps", format.fps());
                input.put("duration", scene.duration());
                if (scene.seed() != null) {
                    input.put("seed", scene.seed());
                }
                String webhook = config.publicUrl() == null ? null : config.publicUrl() + ctx.callbackPath();
                prediction = client.create(input, webhook);
                id = prediction.path("id").asText("");
                if (id.isEmpty() || !id.matches("[A-Za-z0-9_-]{1,100}")) {
                    return Outcome.fail("the prediction service answered without a usable id: " + prediction);
                }
                ctx.progress(10, STAGE + id);
            } else {
                String expected = id;
                prediction = ctx.callback()
                        .map(JobContext.Callback::payload)
                        .filter(p -> expected.equals(p.path("id").asText()) && !RUNNING.contains(status(p)))
                        .orElse(null);
                if (prediction == null) {
                    prediction = client.get(id);
                }
            }
            String status = status(prediction);
            if (RUNNING.contains(status)) {
                return Outcome.awaitCallback(config.timeout(), config.pollEvery(), STAGE + id);
            }
            return switch (status) {
                case "succeeded" -> store(ctx, format, scene, id, prediction);
                case "failed" ->
                    Outcome.fail("prediction " + id + " failed: "
                            + prediction.path("error").asText("no reason given"));
                case "canceled" -> Outcome.fail("prediction " + id + " was cancelled at the service");
                default -> Outcome.fail("prediction " + id + " has an unknown status '" + status + "'");
            };
        } catch (InterruptedException e) {
            // The job was cancelled or ran past its timeout while we talked to the service.
            if (id != null) {
                client.cancel(id);
            }
            throw e;
        }
    }

    /** Cancelled while it waited for its prediction: cancel the prediction its stage names. */
    @Override
    public void cancelledWhileWaiting(dev.gaffer.job.Job job) {
        String stage = job.currentStage();
        if (stage != null && stage.startsWith(STAGE)) {
            client.cancel(stage.substring(STAGE.length()));
        }
    }

    private static String status(JsonNode prediction) {
        return prediction.path("status").asText("").toLowerCase(Locale.ROOT);
    }

    private Outcome store(JobContext ctx, VideoSpec format, VideoSpec.Scene scene, String id, JsonNode prediction)
            throws Exception {
        JsonNode output = prediction.path("output");
        String url = output.isArray() && !output.isEmpty() ? output.get(0).asText() : output.asText("");
        if (url.isEmpty()) {
            return Outcome.fail("prediction " + id + " succeeded without an output URL");
        }
        Path dir = Files.createTempDirectory(Files.createDirectories(workDir), "prediction-" + ctx.jobId() + "-");
        try {
            ctx.progress(60, STAGE + id + ": downloading");
            Path media = dir.resolve("output");
            String type = client.download(url, media);
            boolean still = type.startsWith("image/") || url.matches("(?i).*\\.(png|jpe?g|webp|gif)(\\?.*)?$");
            ctx.throwIfCancelled();
            ctx.progress(80, STAGE + id + ": fitting into the video");
            Path clip = dir.resolve(VideoHandlers.CLIP);
            ffmpeg.renderFromMedia(media, still, scene, format.width(), format.height(), format.fps(), clip);
            Ffmpeg.Probe probe = ffmpeg.probe(clip);
            var stored = artifacts.put(ctx.job().lease(), VideoHandlers.CLIP, "video/mp4", clip);
            if (!(stored instanceof ArtifactStore.Stored s)) {
                throw new InterruptedException("lease lost while storing the clip");
            }
            ObjectNode result = JSON.createObjectNode();
            result.put("artifact", VideoHandlers.CLIP);
            result.put("index", ctx.parameters().path("index").asInt());
            result.put("input_hash", format.inputHash(scene, client.config().rendererId()));
            result.put("prediction_id", id);
            result.put("duration_seconds", probe.durationSeconds());
            result.put("size_bytes", s.artifact().sizeBytes());
            result.put("sha256", s.artifact().sha256());
            return Outcome.complete(result);
        } finally {
            VideoHandlers.deleteRecursively(dir);
        }
    }
}
