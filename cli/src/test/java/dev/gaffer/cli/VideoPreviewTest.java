package dev.gaffer.cli;

import static dev.gaffer.cli.HttpCalls.download;
import static dev.gaffer.cli.HttpCalls.get;
import static dev.gaffer.cli.HttpCalls.send;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Previews before approval (issue 18), end to end over HTTP with a real worker and FFmpeg: a video
 * created pending gets, from a worker, one small PNG frame per scene of its storyboard while it
 * waits for its reviewer; the job itself stays pending, unclaimed, with no result. A revision of
 * the storyboard gets a preview of its own.
 */
class VideoPreviewTest {

    @TempDir
    Path dir;

    @Test
    void aPendingVideoGetsAFramePerSceneBeforeAnyoneApprovesIt() throws Exception {
        Ffmpeg ffmpeg = Ffmpeg.locate(Map.of());
        try (Database db = TestPostgres.freshDatabase("video_preview", 20)) {
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
            HandlerRegistry registry = VideoHandlers.register(
                    HandlerRegistry.discover(),
                    new ArtifactStore(db.dataSource(), ArtifactStore.DEFAULT_MAX_BYTES),
                    ffmpeg,
                    dir.resolve("w"));
            Worker worker = new Worker(
                            WorkerConfig.defaults()
                                    .withName("preview")
                                    .withConcurrency(2)
                                    .withPolling(Duration.ofMillis(200), true),
                            db,
                            registry)
                    .start();
            try {
                Reply created = send(base, producer, "POST", "/api/v3/jobs", """
                        {"type": "video", "parameters": {"width": 640, "height": 360},
                         "storyboard": {"scenes": [
                           {"duration": 2, "background": "navy", "caption": "One"},
                           {"duration": 3, "background": "testsrc", "caption": "Two"}]}}""", null);
                assertThat(created.status()).as("%s", created.body()).isEqualTo(201);
                long id = created.body().path("job_id").asLong();

                JsonNode preview = awaitPreview(base, editor, id, 1);
                assertThat(preview.path("status").asText()).as("%s", preview).isEqualTo("done");
                JsonNode frames = preview.path("result").path("frames");
                assertThat(frames).hasSize(2);
                assertThat(preview.path("result").path("width").asInt()).isEqualTo(160);
                assertThat(preview.path("result").path("height").asInt()).isEqualTo(90);
                assertThat(frames.get(1).path("caption").asText()).isEqualTo("Two");
                Path png = dir.resolve("frame.png");
                download(base, editor, frames.get(0).path("url").asText(), png);
                byte[] head = java.util.Arrays.copyOf(Files.readAllBytes(png), 4);
                assertThat(head).containsExactly((byte) 0x89, (byte) 'P', (byte) 'N', (byte) 'G');
                assertThat(ffmpeg.probe(png).width()).isEqualTo(160);

                // A preview is not a run: the job is still pending, never claimed, with no result.
                JsonNode job = get(base, editor, "/api/v3/jobs/" + id);
                assertThat(job.path("status").asText()).isEqualTo("pending");
                assertThat(job.path("attempt").asInt()).isZero();
                assertThat(job.path("result").isNull()).isTrue();
                assertThat(job.path("started_at").isNull()).isTrue();

                // The submitter revises after a request for changes: revision 2 gets its own preview.
                assertThat(send(
                                        base,
                                        editor,
                                        "POST",
                                        "/api/v3/jobs/" + id + "/request-changes",
                                        "{\"comment\":\"add a closing scene\"}",
                                        null)
                                .status())
                        .isEqualTo(200);
                Reply revised = send(base, producer, "PUT", "/api/v3/jobs/" + id + "/storyboard", """
                        {"scenes": [
                           {"duration": 2, "background": "navy", "caption": "One"},
                           {"duration": 3, "background": "testsrc", "caption": "Two"},
                           {"duration": 1, "background": "#2e8b57", "caption": "Three"}]}""", "\"1\"");
                assertThat(revised.status()).as("%s", revised.body()).isEqualTo(200);
                JsonNode second = awaitPreview(base, editor, id, 2);
                assertThat(second.path("result").path("frames")).hasSize(3);
                assertThat(send(base, editor, "GET", "/api/v3/jobs/987654/preview", null, null)
                                .status())
                        .isEqualTo(404);
            } finally {
                worker.shutdown(Duration.ofSeconds(5));
                api.stop();
            }
        }
    }

    private static JsonNode awaitPreview(String base, String key, long id, int revision) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Reply r = null;
        while (System.nanoTime() < end) {
            r = send(base, key, "GET", "/api/v3/jobs/" + id + "/preview", null, null);
            if (r.status() == 200
                    && r.body().path("revision").asInt() == revision
                    && List.of("done", "failed")
                            .contains(r.body().path("status").asText())) {
                return r.body();
            }
            Thread.sleep(100);
        }
        fail("no preview of revision " + revision + " of job " + id + " in 60 s: " + (r == null ? null : r.body()));
        return null;
    }
}
