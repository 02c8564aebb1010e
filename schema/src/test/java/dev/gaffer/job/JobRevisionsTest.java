package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.json;
import static dev.gaffer.job.JobFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.artifact.ArtifactStore.Artifact;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.StaleRevision;
import dev.gaffer.job.Results.WrongState;
import dev.gaffer.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every version kept (issue 19, V024): a finished job edited to its next storyboard revision goes
 * back to review at its plan and runs again; the files it stores again become new revisions, the
 * old ones stay readable, and a job may keep only its newest few.
 */
class JobRevisionsTest {

    @RegisterExtension
    static final TestDatabase db = TestDatabase.perTest("job_revisions");

    @TempDir
    Path dir;

    private static Job job(long id) {
        return db.queries().find(id).orElseThrow();
    }

    private static Job created() {
        return db.requests()
                .create(new NewJob("video", null, 0, params("n", 1), json("{\"scenes\":[1]}"), 3, null, null, "sam"))
                .job();
    }

    private static Job claim(long id) {
        List<Job> got = db.leases().claim("w/1", List.of("default"), 1, List.of());
        assertThat(got).singleElement().extracting(Job::id).isEqualTo(id);
        return got.getFirst();
    }

    /** Approved by rita, claimed, and the file {@code bytes} stored as video.mp4. */
    private Job runAndStore(long id, String bytes, Integer keep) throws Exception {
        assertThat(db.requests().approve(id, "rita")).isInstanceOf(Moved.class);
        Job running = claim(id);
        Path file = Files.writeString(dir.resolve("v-" + bytes + ".bin"), bytes);
        assertThat(artifacts().put(running.lease(), "video.mp4", "video/mp4", file, keep))
                .isInstanceOf(ArtifactStore.Stored.class);
        return running;
    }

    private static ArtifactStore artifacts() {
        return new ArtifactStore(db.dataSource(), 1024 * 1024);
    }

    private static String read(long id, Integer revision) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(artifacts().copyTo(id, "video.mp4", revision, out)).isTrue();
        return out.toString();
    }

    @Test
    void aCompletedJobReopensAtItsPlanWithItsNextRevisionAndKeepsWhatItWas() throws Exception {
        Job j = created();
        Job running = runAndStore(j.id(), "first", null);
        db.outcomes().complete(running.lease(), json("{\"video\":1}"));

        Job reopened = ((Moved) db.requests().reopen(j.id(), "sam", json("{\"scenes\":[2]}"), 1)).job();
        assertThat(reopened.status()).isEqualTo(JobStatus.PENDING);
        assertThat(reopened.storyboardRevision()).isEqualTo(2);
        assertThat(reopened.reviewGate()).isEqualTo("plan");
        assertThat(reopened.approvedBy()).isNull();
        assertThat(reopened.result()).isNull();
        assertThat(reopened.attempt()).isZero();
        assertThat(reopened.progressPercentage()).isZero();
        assertThat(reopened.finishedAt()).isNull();
        // The replaced revision, how it ended and what it made.
        assertThat(db.fixtures()
                        .strings("SELECT concat_ws('|', revision, storyboard, ended_as, result, replaced_by)"
                                + " FROM job_storyboards WHERE job_id = " + j.id()))
                .containsExactly("1|{\"scenes\": [1]}|completed|{\"video\": 1}|sam");
        assertThat(db.fixtures().eventKinds(j.id())).endsWith("revised");

        // The new revision is reviewed and runs like any plan; its file is the next revision.
        Job again = runAndStore(j.id(), "second", null);
        assertThat(again.storyboardRevision()).isEqualTo(2);
        db.outcomes().complete(again.lease(), json("{\"video\":2}"));
        assertThat(artifacts().revisions(j.id(), "video.mp4"))
                .extracting(Artifact::revision, Artifact::storyboardRevision)
                .containsExactly(org.assertj.core.groups.Tuple.tuple(2, 2), org.assertj.core.groups.Tuple.tuple(1, 1));
        assertThat(artifacts().list(j.id()))
                .singleElement()
                .extracting(Artifact::revision)
                .isEqualTo(2);
        assertThat(read(j.id(), null)).isEqualTo("second");
        assertThat(read(j.id(), 1)).isEqualTo("first");
        assertThat(artifacts().copyTo(j.id(), "video.mp4", 3, new ByteArrayOutputStream()))
                .isFalse();
        assertThat(job(j.id()).status()).isEqualTo(JobStatus.COMPLETED);
    }

    @Test
    void withinOneRevisionAFileStoredAgainReplacesItsRevision() throws Exception {
        Job j = created();
        Job running = runAndStore(j.id(), "try1", null);
        Path file = Files.writeString(dir.resolve("again.bin"), "try2");
        var stored = (ArtifactStore.Stored) artifacts().put(running.lease(), "video.mp4", "video/mp4", file);
        assertThat(stored.artifact().revision()).isEqualTo(1);
        assertThat(artifacts().revisions(j.id(), "video.mp4")).hasSize(1);
        assertThat(read(j.id(), 1)).isEqualTo("try2");
    }

    @Test
    void aJobKeepsOnlyItsNewestRevisionsWhenItsHandlerSaysSo() throws Exception {
        Job j = created();
        Job r = runAndStore(j.id(), "one", 2);
        db.outcomes().complete(r.lease(), json("{}"));
        for (int rev = 1; rev <= 2; rev++) {
            db.requests().reopen(j.id(), "sam", json("{\"scenes\":[" + rev + "]}"), rev);
            r = runAndStore(j.id(), "v" + (rev + 1), 2);
            db.outcomes().complete(r.lease(), json("{}"));
        }
        assertThat(artifacts().revisions(j.id(), "video.mp4"))
                .extracting(Artifact::revision)
                .containsExactly(3, 2);
        assertThat(read(j.id(), 2)).isEqualTo("v2");
    }

    @Test
    void onlyAFinishedTopLevelJobAtTheNamedRevisionIsReopened() throws Exception {
        Job pending = created();
        assertThat(db.requests().reopen(pending.id(), "sam", json("{}"), 1))
                .isInstanceOfSatisfying(
                        WrongState.class, w -> assertThat(w.actual()).isEqualTo(JobStatus.PENDING));

        Job running = runAndStore(created().id(), "x", null);
        assertThat(db.requests().reopen(running.id(), "sam", json("{}"), 1))
                .isInstanceOfSatisfying(
                        WrongState.class, w -> assertThat(w.actual()).isEqualTo(JobStatus.PROCESSING));
        db.outcomes().complete(running.lease(), json("{}"));
        assertThat(db.requests().reopen(running.id(), "sam", json("{}"), 7))
                .isInstanceOfSatisfying(
                        StaleRevision.class, s -> assertThat(s.current()).isEqualTo(1));

        Job rejected = created();
        db.requests().reject(rejected.id(), "rita", "no", null);
        assertThat(db.requests().reopen(rejected.id(), "sam", json("{}"), 1)).isInstanceOf(WrongState.class);

        // Nothing changed: the completed job is still revision 1, with its result.
        Job after = job(running.id());
        assertThat(after.status()).isEqualTo(JobStatus.COMPLETED);
        assertThat(after.storyboardRevision()).isEqualTo(1);
        assertThat(db.fixtures().count("SELECT count(*) FROM job_storyboards")).isZero();
    }

    @Test
    void aFailedOrCancelledJobReopensToo() {
        Job cancelled = created();
        db.requests().cancel(cancelled.id(), "sam");
        Job reopened = ((Moved) db.requests().reopen(cancelled.id(), "sam", json("{\"scenes\":[3]}"), 1)).job();
        assertThat(reopened.status()).isEqualTo(JobStatus.PENDING);
        assertThat(db.fixtures().strings("SELECT ended_as::text FROM job_storyboards WHERE job_id = " + cancelled.id()))
                .containsExactly("cancelled");
    }
}
