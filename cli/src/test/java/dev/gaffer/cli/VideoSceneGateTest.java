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
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The video pipeline's scenes gate (issue 18) end to end over HTTP, with real FFmpeg: a video
 * that asks for {@code review: ["scenes"]} stops after rendering with links to its clips; a
 * request for changes renders the scenes again and stops again; the approval of that second
 * revision stitches the newest clips. Decisions on the wrong gate or revision change nothing.
 */
class VideoSceneGateTest {

    @TempDir
    Path dir;

    @Test
    void aVideoStopsAtItsScenesGateAndStitchesOnlyAfterApproval() throws Exception {
        Ffmpeg ffmpeg = Ffmpeg.locate(Map.of());
        try (Database db = TestPostgres.freshDatabase("video_scene_gate", 30)) {
            ApiKeyStore keys = new ApiKeyStore(db.dataSource());
            String producer = keys.create("producer", ApiKeyRole.SUBMIT).key();
            String editor = keys.create("editor", ApiKeyRole.APPROVE).key();
            ApiServer api = new ApiServer(
                            db,
                            new JobRequests(db.dataSource()),
                            new JobQueries(db.dataSource()),
                            keys,
                            ApiConfig.defaults())
                    .start(0);
            String base = "http://127.0.0.1:" + api.port();
            List<Worker> workers = new ArrayList<>();
            try {
                for (int i = 1; i <= 2; i++) {
                    HandlerRegistry registry = VideoHandlers.register(
                            HandlerRegistry.discover(),
                            new ArtifactStore(db.dataSource(), ArtifactStore.DEFAULT_MAX_BYTES),
                            ffmpeg,
                            dir.resolve("w" + i));
                    workers.add(new Worker(
                                    WorkerConfig.defaults()
                                            .withName("gate-" + i)
                                            .withConcurrency(3),
                                    db,
                                    registry)
                            .start());
                }
                // A gate the type does not declare is refused at create, naming the field.
                Reply badGate = send(base, producer, "POST", "/api/v3/jobs", """
                        {"type": "video", "parameters": {"width": 160, "height": 90, "review": ["stitch"]},
                         "storyboard": {"scenes": [{"duration": 0.4, "caption": "x"}]}}""", null);
                assertThat(badGate.status()).isEqualTo(422);
                assertThat(badGate.body().path("detail").asText()).contains("parameters.review[0]");

                Reply created = send(base, producer, "POST", "/api/v3/jobs", """
                        {"type": "video", "parameters": {"width": 160, "height": 90, "fps": 25, "review": ["scenes"]},
                         "storyboard": {"scenes": [
                           {"duration": 0.6, "background": "navy", "caption": "One"},
                           {"duration": 0.4, "background": "testsrc", "caption": "Two"}]}}""", null);
                assertThat(created.status()).as("%s", created.body()).isEqualTo(201);
                long id = created.body().path("job_id").asLong();
                assertThat(send(base, editor, "POST", "/api/v3/jobs/" + id + "/approve", null, null)
                                .status())
                        .isEqualTo(200);

                JsonNode first = awaitJob(
                        base,
                        editor,
                        id,
                        j -> j.path("review").path("gate").asText().equals("scenes")
                                && j.path("status").asText().equals("pending"));
                JsonNode review = first.path("review");
                assertThat(review.path("open").asBoolean()).isTrue();
                assertThat(review.path("revision").asInt()).isEqualTo(1);
                assertThat(first.path("locked_by").isNull()).isTrue();
                JsonNode scenes = review.path("summary").path("scenes");
                assertThat(scenes).hasSize(2);
                assertThat(scenes.get(1).path("caption").asText()).isEqualTo("Two");
                // The reviewer's links work: the clip is an MP4 FFmpeg can read.
                Path clip = dir.resolve("clip0.mp4");
                download(base, editor, scenes.get(0).path("clip_url").asText(), clip);
                assertThat(ffmpeg.probe(clip).width()).isEqualTo(160);
                long firstClipJob = scenes.get(0).path("job_id").asLong();
                // While the gate is open nothing is stitched.
                assertThat(first.path("result").isNull()).isTrue();

                // Deciding the wrong gate, a stale revision, or without a reason: nothing changes.
                Reply wrongGate =
                        send(base, editor, "POST", "/api/v3/jobs/" + id + "/approve", "{\"gate\":\"plan\"}", null);
                assertThat(wrongGate.status()).isEqualTo(422);
                assertThat(wrongGate.body().path("detail").asText()).contains("'scenes'");
                assertThat(send(base, editor, "POST", "/api/v3/jobs/" + id + "/reject", "{\"gate\":\"scenes\"}", null)
                                .status())
                        .isEqualTo(422);
                assertThat(send(base, editor, "POST", "/api/v3/jobs/" + id + "/approve", null, "\"7\"")
                                .status())
                        .isEqualTo(412);
                assertThat(send(base, producer, "POST", "/api/v3/jobs/" + id + "/approve", null, null)
                                .status())
                        .isEqualTo(403);
                assertThat(get(base, editor, "/api/v3/jobs/" + id)
                                .path("status")
                                .asText())
                        .isEqualTo("pending");

                // Changes requested: every scene is rendered again and the job stops again.
                Reply changes = send(
                        base,
                        editor,
                        "POST",
                        "/api/v3/jobs/" + id + "/request-changes",
                        "{\"comment\":\"scene one is too dark\",\"gate\":\"scenes\"}",
                        "\"1\"");
                assertThat(changes.status()).as("%s", changes.body()).isEqualTo(200);
                JsonNode second = awaitJob(
                        base,
                        editor,
                        id,
                        j -> j.path("review").path("revision").asInt() == 2
                                && j.path("status").asText().equals("pending"));
                JsonNode newScenes = second.path("review").path("summary").path("scenes");
                assertThat(newScenes.get(0).path("job_id").asLong()).isNotEqualTo(firstClipJob);
                assertThat(get(base, editor, "/api/v3/reviews/awaiting").path("jobs"))
                        .anySatisfy(j -> assertThat(j.path("job_id").asLong()).isEqualTo(id));

                Reply approved = send(
                        base,
                        editor,
                        "POST",
                        "/api/v3/jobs/" + id + "/approve",
                        "{\"comment\":\"better\",\"gate\":\"scenes\"}",
                        "\"2\"");
                assertThat(approved.status()).as("%s", approved.body()).isEqualTo(200);
                JsonNode done = awaitJob(
                        base, editor, id, j -> j.path("status").asText().equals("completed"));
                assertThat(done.path("result").path("scenes").asInt()).isEqualTo(2);
                assertThat(done.path("approved_by").asText())
                        .as("the plan's approver")
                        .isEqualTo("editor");
                Path video = dir.resolve("video.mp4");
                download(base, editor, done.path("result").path("download_url").asText(), video);
                assertThat(ffmpeg.probe(video).durationSeconds()).isBetween(0.9, 1.1);

                // The trail has the plan and both decisions at the gate; the history the stops.
                JsonNode trail =
                        get(base, editor, "/api/v3/jobs/" + id + "/reviews").path("reviews");
                assertThat(trail)
                        .extracting(r -> r.path("gate").asText() + "/"
                                + r.path("revision").asInt() + "/"
                                + r.path("decision").asText())
                        .containsExactly("plan/1/approved", "scenes/1/changes_requested", "scenes/2/approved");
                JsonNode events = get(base, editor, "/api/v3/jobs/" + id + "/events?limit=200")
                        .path("events");
                List<String> kinds = new ArrayList<>();
                events.forEach(e -> kinds.add(e.path("kind").asText()));
                assertThat(kinds)
                        .containsSubsequence(
                                "approved",
                                "waiting",
                                "resumed",
                                "awaiting_review",
                                "changes_requested",
                                "waiting",
                                "awaiting_review",
                                "approved",
                                "completed");
                assertThat(get(base, editor, "/api/v3/jobs/" + id + "/subjobs").path("subjobs"))
                        .hasSize(4);
            } finally {
                for (Worker w : workers) {
                    w.shutdown(Duration.ofSeconds(5));
                }
                api.stop();
            }
        }
    }
}
