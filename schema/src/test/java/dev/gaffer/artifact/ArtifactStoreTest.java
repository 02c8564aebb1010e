package dev.gaffer.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.db.Database;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.ReclaimStore;
import dev.gaffer.testing.TestPostgres;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArtifactStoreTest {

    static Database db;
    static JobFixtures fx;
    static ArtifactStore artifacts;

    @TempDir
    Path dir;

    @BeforeAll
    static void open() {
        db = TestPostgres.freshDatabase("artifacts");
        fx = new JobFixtures(db);
        artifacts = new ArtifactStore(db.dataSource(), 1024 * 1024);
    }

    @AfterAll
    static void close() {
        db.close();
    }

    @BeforeEach
    void emptyQueue() {
        // A job reclaimed by one test must not be claimed by the next test's fixture.
        fx.cancelUnfinished();
    }

    @Test
    void theLeaseHolderStoresAFileThatReadsBackByteForByte() throws Exception {
        Job job = fx.processing("video", "w/1");
        byte[] bytes = new byte[300_000];
        new Random(7).nextBytes(bytes);
        Path file = Files.write(dir.resolve("in.bin"), bytes);
        var stored = (ArtifactStore.Stored) artifacts.put(job.lease(), "video.mp4", "video/mp4", file);
        assertThat(stored.artifact().sizeBytes()).isEqualTo(300_000);
        assertThat(stored.artifact().sha256())
                .isEqualTo(ArtifactStore.sha256(file))
                .hasSize(64);

        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(artifacts.copyTo(job.id(), "video.mp4", out)).isTrue();
        assertThat(out.toByteArray()).isEqualTo(bytes);
        assertThat(artifacts.list(job.id()))
                .extracting(ArtifactStore.Artifact::name)
                .containsExactly("video.mp4");
        assertThat(artifacts.copyTo(job.id(), "other.mp4", new ByteArrayOutputStream()))
                .isFalse();
    }

    @Test
    void anOldLeaseHolderCannotWrite() throws Exception {
        Job job = fx.processing("video", "w/old");
        fx.ageHeartbeat(job.id(), 60);
        new ReclaimStore(db.dataSource()).reclaimExpired(10);
        Path file = Files.writeString(dir.resolve("zombie.txt"), "zombie");
        assertThat(artifacts.put(job.lease(), "video.mp4", "video/mp4", file))
                .isInstanceOf(ArtifactStore.LeaseLost.class);
        assertThat(artifacts.list(job.id())).isEmpty();
    }

    @Test
    void filesOverTheCapAndBadNamesAreRefused() throws Exception {
        Job job = fx.processing("video", "w/1");
        Path big = Files.write(dir.resolve("big.bin"), new byte[1024 * 1024 + 1]);
        assertThatThrownBy(() -> artifacts.put(job.lease(), "big.bin", "application/octet-stream", big))
                .hasMessageContaining("over the limit of 1048576");
        Path small = Files.writeString(dir.resolve("s.txt"), "x");
        assertThatThrownBy(() -> artifacts.put(job.lease(), "../etc/passwd", "text/plain", small))
                .hasMessageContaining("artifact name");
        assertThat(artifacts.list(job.id())).isEmpty();
    }
}
