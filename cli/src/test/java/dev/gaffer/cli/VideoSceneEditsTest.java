package dev.gaffer.cli;

import static dev.gaffer.cli.HttpCalls.awaitJob;
import static dev.gaffer.cli.HttpCalls.download;
import static dev.gaffer.cli.HttpCalls.get;
import static dev.gaffer.cli.HttpCalls.send;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.api.ApiConfig;
import dev.gaffer.api.ApiServer;
import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.cli.HttpCalls.Reply;
import dev.gaffer.db.Database;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.testing.TestPostgres;
import dev.gaffer.video.Ffmpeg;
import dev.gaffer.video.VideoHandlers;
import dev.gaffer.worker.HandlerRegistry;
import dev.gaffer.worker.Worker;
import dev.gaffer.worker.WorkerConfig;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scene management (issue 19) end to end over HTTP, with real FFmpeg and two workers: a finished
 * video edited one scene at a time goes back to review, and once approved renders only the
 * scenes whose inputs changed and stitches again; every revision of the video stays
 * downloadable. Bad edits are refused and change nothing.
 */
class VideoSceneEditsTest {

    static final int FPS = 25;
    static final double SCENE_SECONDS = 0.4;
    static final int FRAMES_PER_SCENE = (int) Math.round(FPS * SCENE_SECONDS);

    @TempDir
    static Path dir;

    static Database db;
    static ApiServer api;
    static String base;
    static String producer;
    static String editor;
    static String other;
    static Ffmpeg ffmpeg;
    static final List<Worker> workers = new ArrayList<>();

    @BeforeAll
    static void start() {
        ffmpeg = Ffmpeg.locate(Map.of());
        db = TestPostgres.freshDatabase("video_scene_edits", 30);
        ApiKeyStore keys = new ApiKeyStore(db.dataSource());
        producer = keys.create("producer", ApiKeyRole.SUBMIT).key();
        other = keys.create("someone-else", ApiKeyRole.SUBMIT).key();
        editor = keys.create("editor", ApiKeyRole.APPROVE).key();
        api = new ApiServer(
                        db,
                        new JobRequests(db.dataSource()),
                        new JobQueries(db.dataSource()),
                        keys,
                        ApiConfig.defaults())
                .start(0);
        base = "http://127.0.0.1:" + api.port();
        for (int i = 1; i <= 2; i++) {
            HandlerRegistry registry = VideoHandlers.register(
                    HandlerRegistry.discover(),
                    new ArtifactStore(db.dataSource(), ArtifactStore.DEFAULT_MAX_BYTES),
                    ffmpeg,
                    dir.resolve("w" + i));
            workers.add(
                    new Worker(WorkerConfig.defaults().withName("edits-" + i).withConcurrency(3), db, registry)
                            .start());
        }
    }

    @AfterAll
    static void stop() {
        for (Worker w : workers) {
            w.shutdown(Duration.ofSeconds(5));
        }
        api.stop();
        db.close();
    }

    private static long create(String json) throws Exception {
        Reply created = send(base, producer, "POST", "/api/v3/jobs", json, null);
        assertThat(created.status()).as("%s", created.body()).isEqualTo(201);
        return created.body().path("job_id").asLong();
    }

    private static JsonNode approveAndFinish(long id, int revision) throws Exception {
        Reply approved = send(base, editor, "POST", "/api/v3/jobs/" + id + "/approve", "{}", "\"" + revision + "\"");
        assertThat(approved.status()).as("%s", approved.body()).isEqualTo(200);
        return awaitJob(base, editor, id, j -> j.path("status").asText().equals("completed"));
    }

    private static List<Long> subJobIds(long id) throws Exception {
        List<Long> ids = new ArrayList<>();
        get(base, editor, "/api/v3/jobs/" + id + "/subjobs")
                .path("subjobs")
                .forEach(s -> ids.add(s.path("job_id").asLong()));
        return ids;
    }

    /** The MD5 of every decoded video frame, in order ({@code ffmpeg -f framemd5}). */
    private static List<String> frameChecksums(Path video) throws Exception {
        Process p = new ProcessBuilder(
                        "ffmpeg", "-v", "error", "-i", video.toString(), "-map", "0:v", "-f", "framemd5", "-")
                .redirectError(ProcessBuilder.Redirect.DISCARD)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        List<String> sums = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank() && !line.startsWith("#")) {
                String[] cols = line.split(",");
                sums.add(cols[cols.length - 1].strip());
            }
        }
        return sums;
    }

    @Test
    void editingOneSceneOfEightRerendersOnlyThatSceneAndKeepsBothVideos() throws Exception {
        StringBuilder scenes = new StringBuilder();
        String[] colours = {"navy", "teal", "olive", "purple", "maroon", "gray", "green", "black"};
        for (int i = 0; i < 8; i++) {
            scenes.append(i == 0 ? "" : ",")
                    .append("{\"duration\": ")
                    .append(SCENE_SECONDS)
                    .append(", \"background\": \"")
                    .append(colours[i])
                    .append("\", \"caption\": \"Scene ")
                    .append(i)
                    .append("\"}");
        }
        long id = create("{\"type\": \"video\", \"parameters\": {\"width\": 160, \"height\": 90, \"fps\": " + FPS
                + "}, \"storyboard\": {\"scenes\": [" + scenes + "]}}");
        JsonNode first = approveAndFinish(id, 1);
        assertThat(first.path("result").path("scenes_rendered").asInt()).isEqualTo(8);
        assertThat(first.path("result").path("revision").asInt()).isEqualTo(1);
        List<Long> before = subJobIds(id);
        assertThat(before).hasSize(8);
        Path v1 = dir.resolve("v1.mp4");
        download(base, editor, "/api/v3/jobs/" + id + "/artifacts/video.mp4", v1);

        // The scenes as they are, with what revision 1 made of each.
        JsonNode list = get(base, producer, "/api/v3/jobs/" + id + "/scenes");
        assertThat(list.path("revision").asInt()).isEqualTo(1);
        assertThat(list.path("scenes")).hasSize(8);
        JsonNode three = get(base, producer, "/api/v3/jobs/" + id + "/scenes/3");
        assertThat(three.path("scene").path("caption").asText()).isEqualTo("Scene 3");
        assertThat(three.path("output").path("reused").asBoolean()).isFalse();
        assertThat(three.path("output").path("clip_url").asText()).startsWith("/api/v3/jobs/");

        // Bad edits change nothing.
        String scene3 = "/api/v3/jobs/" + id + "/scenes/3";
        assertThat(send(base, producer, "PATCH", scene3, "{\"caption\": \"x\"}", null)
                        .status())
                .isEqualTo(428);
        Reply stale = send(base, producer, "PATCH", scene3, "{\"caption\": \"x\"}", "\"7\"");
        assertThat(stale.status()).isEqualTo(412);
        assertThat(stale.body().path("detail").asText()).contains("revision 1");
        Reply tooLong = send(base, producer, "PATCH", scene3, "{\"caption\": \"" + "x".repeat(201) + "\"}", "\"1\"");
        assertThat(tooLong.status()).isEqualTo(422);
        assertThat(tooLong.body().path("field").asText()).isEqualTo("storyboard.scenes[3].caption");
        Reply unknown = send(base, producer, "PATCH", scene3, "{\"captoin\": \"x\"}", "\"1\"");
        assertThat(unknown.status()).isEqualTo(422);
        assertThat(unknown.body().path("field").asText()).isEqualTo("storyboard.scenes[3].captoin");
        assertThat(send(base, producer, "PATCH", "/api/v3/jobs/" + id + "/scenes/8", "{\"caption\": \"x\"}", "\"1\"")
                        .status())
                .isEqualTo(404);
        assertThat(send(base, other, "PATCH", scene3, "{\"caption\": \"x\"}", "\"1\"")
                        .status())
                .isEqualTo(403);
        assertThat(get(base, editor, "/api/v3/jobs/" + id).path("status").asText())
                .isEqualTo("completed");

        // The edit: revision 2, back to review.
        Reply edited = send(base, producer, "PATCH", scene3, "{\"caption\": \"Changed\"}", "\"1\"");
        assertThat(edited.status()).as("%s", edited.body()).isEqualTo(200);
        assertThat(edited.body().path("job").path("status").asText()).isEqualTo("pending");
        assertThat(edited.body().path("job").path("storyboard_revision").asInt())
                .isEqualTo(2);
        assertThat(edited.body().path("job").path("review").path("gate").asText())
                .isEqualTo("plan");
        assertThat(edited.body().path("scene").path("scene").path("caption").asText())
                .isEqualTo("Changed");
        assertThat(edited.body().path("scene").path("scene").path("background").asText())
                .isEqualTo("purple");

        Reply approved = send(base, editor, "POST", "/api/v3/jobs/" + id + "/approve", "{}", "\"2\"");
        assertThat(approved.status()).isEqualTo(200);
        // While revision 2 runs, it is not edited.
        Reply running = send(base, producer, "PATCH", scene3, "{\"caption\": \"Again\"}", "\"2\"");
        assertThat(running.status()).as("%s", running.body()).isEqualTo(409);
        assertThat(running.body().path("detail").asText()).contains("revision 2");
        JsonNode second =
                awaitJob(base, editor, id, j -> j.path("status").asText().equals("completed"));

        // Exactly one new scene job, for scene 3; the other seven clips were reused.
        List<Long> after = subJobIds(id);
        assertThat(after).hasSize(9).containsAll(before);
        assertThat(second.path("result").path("scenes_rendered").asInt()).isEqualTo(1);
        assertThat(second.path("result").path("scenes_reused").asInt()).isEqualTo(7);
        JsonNode outputs = second.path("result").path("scene_outputs");
        for (int i = 0; i < 8; i++) {
            assertThat(outputs.get(i).path("reused").asBoolean())
                    .as("scene %d", i)
                    .isEqualTo(i != 3);
        }
        assertThat(second.path("result").path("revision").asInt()).isEqualTo(2);

        // Both videos, newest by default.
        JsonNode revisions = get(base, editor, "/api/v3/jobs/" + id + "/artifacts/video.mp4/revisions")
                .path("revisions");
        assertThat(revisions).extracting(r -> r.path("revision").asInt()).containsExactly(2, 1);
        assertThat(revisions)
                .extracting(r -> r.path("storyboard_revision").asInt())
                .containsExactly(2, 1);
        assertThat(revisions.get(1).path("sha256").asText())
                .isEqualTo(first.path("result").path("sha256").asText());
        Path v2 = dir.resolve("v2.mp4");
        download(base, editor, "/api/v3/jobs/" + id + "/artifacts/video.mp4", v2);
        Path v1Again = dir.resolve("v1-again.mp4");
        download(base, editor, "/api/v3/jobs/" + id + "/artifacts/video.mp4?revision=1", v1Again);
        assertThat(ArtifactStore.sha256(v1Again)).isEqualTo(ArtifactStore.sha256(v1));
        assertThat(ArtifactStore.sha256(v2)).isNotEqualTo(ArtifactStore.sha256(v1));
        assertThat(send(base, editor, "GET", "/api/v3/jobs/" + id + "/artifacts/video.mp4?revision=3", null, null)
                        .status())
                .isEqualTo(404);

        // The job's history: revision 2 current, revision 1 completed with its result and video.
        JsonNode history = get(base, editor, "/api/v3/jobs/" + id + "/revisions");
        assertThat(history.path("current_revision").asInt()).isEqualTo(2);
        JsonNode r2 = history.path("revisions").get(0);
        JsonNode r1 = history.path("revisions").get(1);
        assertThat(r2.path("status").asText()).isEqualTo("completed");
        assertThat(r1.path("status").asText()).isEqualTo("completed");
        assertThat(r1.path("replaced_by").asText()).isEqualTo("producer");
        assertThat(r1.path("result").path("sha256").asText())
                .isEqualTo(first.path("result").path("sha256").asText());
        assertThat(r1.path("artifacts"))
                .singleElement()
                .satisfies(a -> assertThat(a.path("download_url").asText()).endsWith("video.mp4?revision=1"));
        assertThat(r2.path("artifacts"))
                .singleElement()
                .satisfies(a -> assertThat(a.path("revision").asInt()).isEqualTo(2));

        // Same length; frames differ only within scene 3.
        assertThat(ffmpeg.probe(v2).durationSeconds())
                .isCloseTo(ffmpeg.probe(v1).durationSeconds(), within(0.05));
        List<String> old = frameChecksums(v1);
        List<String> now = frameChecksums(v2);
        assertThat(now).hasSameSizeAs(old).hasSize(8 * FRAMES_PER_SCENE);
        for (int f = 0; f < old.size(); f++) {
            int scene = f / FRAMES_PER_SCENE;
            if (scene == 3) {
                continue;
            }
            assertThat(now.get(f)).as("frame %d of scene %d", f, scene).isEqualTo(old.get(f));
        }
        assertThat(now.subList(3 * FRAMES_PER_SCENE, 4 * FRAMES_PER_SCENE))
                .isNotEqualTo(old.subList(3 * FRAMES_PER_SCENE, 4 * FRAMES_PER_SCENE));
    }

    @Test
    void regeneratingASceneAtAGateWaitsAndThenRerendersOnlyThatScene() throws Exception {
        long id = create("""
                {"type": "video", "parameters": {"width": 160, "height": 90, "fps": 25, "review": ["scenes"]},
                 "storyboard": {"scenes": [{"duration": 0.4, "caption": "A"}, {"duration": 0.4, "caption": "B"}]}}""");
        Reply approved = send(base, editor, "POST", "/api/v3/jobs/" + id + "/approve", "{}", "\"1\"");
        assertThat(approved.status()).isEqualTo(200);
        awaitJob(base, editor, id, j -> j.path("review").path("gate").asText().equals("scenes"));
        // Waiting at the scenes gate, the revision has run: decide it first.
        Reply atGate = send(base, producer, "POST", "/api/v3/jobs/" + id + "/scenes/1/regenerate", null, "\"1\"");
        assertThat(atGate.status()).isEqualTo(409);
        assertThat(atGate.body().path("detail").asText()).contains("gate 'scenes'");
        send(base, editor, "POST", "/api/v3/jobs/" + id + "/approve", "{\"gate\": \"scenes\"}", null);
        JsonNode first =
                awaitJob(base, editor, id, j -> j.path("status").asText().equals("completed"));
        long clip0 =
                first.path("result").path("scene_outputs").get(0).path("job_id").asLong();
        long clip1 =
                first.path("result").path("scene_outputs").get(1).path("job_id").asLong();

        Reply regen = send(base, producer, "POST", "/api/v3/jobs/" + id + "/scenes/1/regenerate", null, "\"1\"");
        assertThat(regen.status()).as("%s", regen.body()).isEqualTo(200);
        JsonNode seeded = regen.body().path("scene").path("scene");
        assertThat(seeded.path("caption").asText()).isEqualTo("B");
        assertThat(seeded.path("seed").isIntegralNumber()).isTrue();
        send(base, editor, "POST", "/api/v3/jobs/" + id + "/approve", "{}", "\"2\"");
        awaitJob(
                base,
                editor,
                id,
                j -> j.path("review").path("gate").asText().equals("scenes")
                        && j.path("status").asText().equals("pending"));
        send(base, editor, "POST", "/api/v3/jobs/" + id + "/approve", "{\"gate\": \"scenes\"}", null);
        JsonNode second =
                awaitJob(base, editor, id, j -> j.path("status").asText().equals("completed"));
        JsonNode outputs = second.path("result").path("scene_outputs");
        assertThat(outputs.get(0).path("job_id").asLong()).isEqualTo(clip0);
        assertThat(outputs.get(1).path("job_id").asLong()).isNotEqualTo(clip1);
        assertThat(second.path("result").path("scenes_rendered").asInt()).isEqualTo(1);
        assertThat(subJobIds(id)).hasSize(3);
    }

    @Test
    void scenesOfAPendingPlanAreAddedAndDeletedAndOnlyVideosHaveScenes() throws Exception {
        long id = create("""
                {"type": "video", "parameters": {"width": 160, "height": 90},
                 "storyboard": {"scenes": [{"duration": 0.4, "caption": "A"}, {"duration": 0.4, "caption": "B"}]}}""");
        String scenes = "/api/v3/jobs/" + id + "/scenes";
        Reply added =
                send(base, producer, "POST", scenes + "?index=1", "{\"duration\": 1, \"caption\": \"New\"}", "\"1\"");
        assertThat(added.status()).as("%s", added.body()).isEqualTo(200);
        assertThat(added.body().path("scene").path("index").asInt()).isEqualTo(1);
        assertThat(get(base, producer, scenes).path("scenes"))
                .extracting(s -> s.path("scene").path("caption").asText())
                .containsExactly("A", "New", "B");
        assertThat(send(base, producer, "DELETE", scenes + "/0", null, "\"2\"").status())
                .isEqualTo(200);
        assertThat(send(base, producer, "DELETE", scenes + "/0", null, "\"3\"").status())
                .isEqualTo(200);
        Reply last = send(base, producer, "DELETE", scenes + "/0", null, "\"4\"");
        assertThat(last.status()).isEqualTo(422);
        assertThat(last.body().path("field").asText()).isEqualTo("storyboard.scenes");
        JsonNode job = get(base, producer, "/api/v3/jobs/" + id);
        assertThat(job.path("status").asText()).isEqualTo("pending");
        assertThat(job.path("storyboard_revision").asInt()).isEqualTo(4);
        assertThat(get(base, producer, scenes).path("scenes"))
                .extracting(s -> s.path("scene").path("caption").asText())
                .containsExactly("B");
        assertThat(send(base, producer, "POST", scenes + "?index=9", "{\"duration\": 1}", "\"4\"")
                        .status())
                .isEqualTo(422);
        assertThat(send(base, producer, "GET", scenes + "/x", null, null).status())
                .isEqualTo(400);

        long noop = create("{\"type\": \"noop\"}");
        Reply notVideo = send(base, producer, "GET", "/api/v3/jobs/" + noop + "/scenes", null, null);
        assertThat(notVideo.status()).isEqualTo(422);
        assertThat(notVideo.body().path("field").asText()).isEqualTo("type");
        assertThat(notVideo.body().path("detail").asText()).contains("'noop'").contains("video");
        assertThat(send(base, producer, "GET", "/api/v3/jobs/999999/scenes", null, null)
                        .status())
                .isEqualTo(404);
    }

    private static org.assertj.core.data.Offset<Double> within(double d) {
        return org.assertj.core.data.Offset.offset(d);
    }
}
