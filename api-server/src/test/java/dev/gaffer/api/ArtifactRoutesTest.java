package dev.gaffer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobFixtures;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactRoutesTest {

    static TestApi api;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        api = new TestApi("artifact_routes");
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    @Test
    void aJobsFileIsListedAndDownloadsByteForByte() throws Exception {
        JobFixtures fx = api.fixtures;
        Job job = fx.processing("video", "w/1");
        byte[] bytes = new byte[200_000];
        new Random(3).nextBytes(bytes);
        Path file = Files.write(dir.resolve("v.mp4"), bytes);
        new ArtifactStore(api.db.dataSource(), ArtifactStore.DEFAULT_MAX_BYTES)
                .put(job.lease(), "video.mp4", "video/mp4", file);
        String key = api.key(ApiKeyRole.READ);

        var list = api.get("/api/v3/jobs/" + job.id() + "/artifacts", ApiKeyRole.READ);
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(list.body())
                .contains("\"name\":\"video.mp4\"")
                .contains("\"size_bytes\":200000")
                .contains("\"download_url\":\"/api/v3/jobs/" + job.id() + "/artifacts/video.mp4\"");

        HttpResponse<byte[]> download = HttpClient.newHttpClient()
                .send(
                        HttpRequest.newBuilder(URI.create(api.url("/api/v3/jobs/" + job.id() + "/artifacts/video.mp4")))
                                .header("Authorization", "Bearer " + api.key(ApiKeyRole.READ))
                                .build(),
                        HttpResponse.BodyHandlers.ofByteArray());
        assertThat(download.statusCode()).isEqualTo(200);
        assertThat(download.headers().firstValue("content-type")).hasValue("video/mp4");
        assertThat(download.headers().firstValue("etag")).hasValue("\"" + ArtifactStore.sha256(file) + "\"");
        assertThat(download.body()).isEqualTo(bytes);
    }

    @Test
    void filesAreNeverTakenForPagesOfTheDashboardsOrigin() throws Exception {
        Job job = api.fixtures.processing("video", "w/1");
        ArtifactStore store = new ArtifactStore(api.db.dataSource(), ArtifactStore.DEFAULT_MAX_BYTES);
        store.put(job.lease(), "clip.mp4", "video/mp4", Files.write(dir.resolve("c.mp4"), new byte[] {1, 2, 3}));
        store.put(
                job.lease(),
                "page.html",
                "text/html",
                Files.writeString(dir.resolve("p.html"), "<script>alert(document.cookie)</script>"));
        store.put(job.lease(), "drawing.svg", "image/svg+xml", Files.writeString(dir.resolve("d.svg"), "<svg/>"));
        for (String name : new String[] {"clip.mp4", "page.html", "drawing.svg"}) {
            var r = api.get("/api/v3/jobs/" + job.id() + "/artifacts/" + name, ApiKeyRole.READ);
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.headers().firstValue("X-Content-Type-Options"))
                    .as(name)
                    .hasValue("nosniff");
            assertThat(r.headers().firstValue("Content-Security-Policy").orElseThrow())
                    .as(name)
                    .contains("default-src 'none'")
                    .contains("sandbox");
            assertThat(r.headers().firstValue("Content-Disposition").orElseThrow())
                    .as(name)
                    .startsWith(name.endsWith(".mp4") ? "inline" : "attachment");
        }
    }

    @Test
    void missingFilesAndJobsAre404AndAKeyIsNeeded() throws Exception {
        Job job = api.fixtures.pending("video");

        assertThat(api.get("/api/v3/jobs/" + job.id() + "/artifacts/video.mp4", ApiKeyRole.READ)
                        .statusCode())
                .isEqualTo(404);
        assertThat(api.get("/api/v3/jobs/99999999/artifacts", ApiKeyRole.READ).statusCode())
                .isEqualTo(404);
        assertThat(api.get("/api/v3/jobs/" + job.id() + "/artifacts", null).statusCode())
                .isEqualTo(401);
    }

    @Test
    void meTellsTheKeysNameAndRole() throws Exception {

        var me = api.get("/api/v3/me", ApiKeyRole.APPROVE);
        assertThat(me.statusCode()).isEqualTo(200);
        assertThat(me.body()).isEqualTo("{\"name\":\"approve-key\",\"role\":\"approve\"}");
        assertThat(api.get("/api/v3/me", null).statusCode()).isEqualTo(401);
    }
}
