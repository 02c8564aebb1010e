package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.json;
import static dev.gaffer.job.JobFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.job.PreviewStore.Claimed;
import dev.gaffer.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Previews of pending jobs (job_previews, V021): asked for once per revision, claimed by one
 * worker under a lease of their own, written back fenced, queued again when their worker stops
 * answering, never a change of the job.
 */
class PreviewStoreTest {

    @RegisterExtension
    static final TestDatabase db = TestDatabase.perTest("previews");

    @TempDir
    Path dir;

    private static PreviewStore previews() {
        return new PreviewStore(db.dataSource());
    }

    private static Job pending(String type) {
        return db.requests()
                .create(new NewJob(type, null, 0, params("n", 1), json("{\"scenes\":[1]}"), 3, null, null, "sam"))
                .job();
    }

    private static Claimed claim(String worker) {
        return previews()
                .claim(worker, List.of("video"), Duration.ofSeconds(30))
                .orElseThrow();
    }

    @Test
    void aPreviewIsAskedForOncePerRevisionAndOnlyOfAPendingPlan() {
        Job j = pending("video");
        assertThat(previews().request(j.id())).isTrue();
        assertThat(previews().request(j.id())).as("the same revision again").isFalse();
        assertThat(previews().latest(j.id())).get().satisfies(p -> {
            assertThat(p.revision()).isEqualTo(1);
            assertThat(p.status()).isEqualTo("queued");
        });
        db.requests().requestChanges(j.id(), "rita", "more", 1);
        db.requests().revise(j.id(), "sam", json("{\"scenes\":[1,2]}"), 1);
        assertThat(previews().request(j.id())).isTrue();
        assertThat(previews().latest(j.id()).orElseThrow().revision()).isEqualTo(2);

        Job approved = db.fixtures().approved("video");
        assertThat(previews().request(approved.id())).isFalse();
        assertThat(previews().request(987654)).isFalse();
    }

    @Test
    void oneWorkerClaimsItFinishesItFencedAndTheJobIsUntouched() throws Exception {
        Job j = pending("video");
        previews().request(j.id());
        assertThat(previews().claim("w/0", List.of("noop"), Duration.ofSeconds(30)))
                .as("another type")
                .isEmpty();
        Claimed c = claim("w/1");
        assertThat(c.lease()).isEqualTo(new PreviewLease(j.id(), 1, 1, "w/1"));
        assertThat(c.job().storyboard()).isEqualTo(json("{\"scenes\":[1]}"));
        assertThat(previews().claim("w/2", List.of("video"), Duration.ofSeconds(30)))
                .as("leased")
                .isEmpty();

        ArtifactStore artifacts = new ArtifactStore(db.dataSource(), ArtifactStore.DEFAULT_MAX_BYTES);
        Path png = Files.write(dir.resolve("f.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G'});
        assertThat(artifacts.putPreview(c.lease(), "preview-r1-scene-0.png", "image/png", png))
                .isPresent();
        assertThatThrownBy(() -> artifacts.putPreview(c.lease(), "video.mp4", "video/mp4", png))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("preview-r1-");
        PreviewLease stale = new PreviewLease(j.id(), 1, 1, "w/other");
        assertThat(artifacts.putPreview(stale, "preview-r1-x.png", "image/png", png))
                .isEmpty();
        assertThat(previews().finish(stale, json("{\"forged\":true}"))).isFalse();

        assertThat(previews().finish(c.lease(), json("{\"frames\":[\"/a.png\"]}")))
                .isTrue();
        assertThat(previews().finish(c.lease(), json("{}"))).as("once").isFalse();
        var p = previews().latest(j.id()).orElseThrow();
        assertThat(p.status()).isEqualTo("done");
        assertThat(p.result()).isEqualTo(json("{\"frames\":[\"/a.png\"]}"));
        assertThat(p.finishedAt()).isNotNull();

        Job after = db.queries().find(j.id()).orElseThrow();
        assertThat(after.status()).isEqualTo(JobStatus.PENDING);
        assertThat(after.attempt()).isZero();
        assertThat(after.result()).isNull();
        assertThat(after.lockedBy()).isNull();
        assertThat(db.fixtures().eventKinds(j.id())).containsExactly("created");
    }

    @Test
    void aPreviewWhoseWorkerStopsAnsweringIsQueuedAgainAndFailsAfterThreeAttempts() {
        Job j = pending("video");
        previews().request(j.id());
        for (int attempt = 1; attempt <= PreviewStore.MAX_ATTEMPTS; attempt++) {
            Claimed c = claim("w/" + attempt);
            assertThat(c.lease().attempt()).isEqualTo(attempt);
            db.fixtures().exec("UPDATE job_previews SET lease_expires_at = now() - interval '1 second'");
        }
        // The claim that finds the third lease expired fails the preview for good.
        assertThat(previews().claim("w/4", List.of("video"), Duration.ofSeconds(30)))
                .isEmpty();
        var p = previews().latest(j.id()).orElseThrow();
        assertThat(p.status()).isEqualTo("failed");
        assertThat(p.error()).contains("stopped answering");
        assertThat(db.queries().find(j.id()).orElseThrow().status()).isEqualTo(JobStatus.PENDING);
    }

    @Test
    void aHandlersFailureRetriesThenFailsAndAPreviewTheJobNoLongerNeedsIsDropped() {
        Job j = pending("video");
        previews().request(j.id());
        Claimed first = claim("w/1");
        assertThat(previews().fail(first.lease(), "ffmpeg exited with 1", true)).isTrue();
        assertThat(previews().latest(j.id()).orElseThrow().status()).isEqualTo("queued");
        Claimed second = claim("w/1");
        assertThat(previews().fail(second.lease(), "no such scene", false)).isTrue();
        assertThat(previews().latest(j.id()).orElseThrow()).satisfies(p -> {
            assertThat(p.status()).isEqualTo("failed");
            assertThat(p.error()).isEqualTo("no such scene");
        });

        // Decided before any worker got to it: the preview is not made.
        Job decided = pending("video");
        previews().request(decided.id());
        db.requests().approve(decided.id(), "rita");
        assertThat(previews().claim("w/1", List.of("video"), Duration.ofSeconds(30)))
                .isEmpty();
        assertThat(previews().latest(decided.id()).orElseThrow()).satisfies(p -> {
            assertThat(p.status()).isEqualTo("failed");
            assertThat(p.error()).contains("not needed");
        });
    }

    @Test
    void aJobsPreviewsAndKeptStoryboardsAreDeletedWithIt() {
        Job j = pending("video");
        previews().request(j.id());
        db.requests().requestChanges(j.id(), "rita", "more", 1);
        db.requests().revise(j.id(), "sam", json("{\"scenes\":[1,2]}"), 1);
        previews().request(j.id());
        Job other = pending("video");
        previews().request(other.id());
        assertThat(db.fixtures().count("SELECT count(*) FROM job_previews WHERE job_id = " + j.id()))
                .isEqualTo(2);
        db.fixtures().exec("DELETE FROM jobs WHERE id = " + j.id());
        assertThat(db.fixtures().count("SELECT count(*) FROM job_previews WHERE job_id = " + j.id()))
                .isZero();
        assertThat(db.fixtures().count("SELECT count(*) FROM job_storyboards WHERE job_id = " + j.id()))
                .isZero();
        assertThat(previews().latest(other.id())).isPresent();
    }

    @Test
    void theDatabaseKeepsAPreviewsStatesConsistent() {
        Job j = pending("video");
        previews().request(j.id());
        assertThatThrownBy(
                        () -> db.fixtures().exec("UPDATE job_previews SET status = 'running' WHERE job_id = " + j.id()))
                .hasMessageContaining("job_previews_leased_iff_running");
        assertThatThrownBy(() -> db.fixtures()
                        .exec("UPDATE job_previews SET status = 'done', finished_at = now() WHERE job_id = " + j.id()))
                .hasMessageContaining("job_previews_result_when_done");
        assertThatThrownBy(() -> db.fixtures().exec("UPDATE job_previews SET attempt = 4 WHERE job_id = " + j.id()))
                .hasMessageContaining("job_previews_attempts");
    }
}
