package dev.gaffer.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.db.Database;
import dev.gaffer.testing.TestPostgres;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Which job types `gaffer worker` runs, and its refusal to run the video pipeline without ffmpeg. */
class WorkerHandlersTest {

    static Database db;

    @BeforeAll
    static void open() {
        db = TestPostgres.freshDatabase("worker_handlers", 2);
    }

    @AfterAll
    static void close() {
        db.close();
    }

    @Test
    void byDefaultAWorkerRunsTheBuiltInsAndTheVideoPipeline() {
        assertThat(WorkerCommand.handlers(Map.of(), db).types())
                .contains("noop", "sleep", "video", "image_pairs", "scene");
    }

    @Test
    void jobTypesNarrowWhatItRuns() {
        assertThat(WorkerCommand.handlers(Map.of("GAFFER_JOB_TYPES", "sleep, noop"), db)
                        .types())
                .containsExactly("noop", "sleep");
    }

    @Test
    void anUnknownTypeIsRefusedNamingTheVariable() {
        assertThatThrownBy(() -> WorkerCommand.handlers(Map.of("GAFFER_JOB_TYPES", "noop,thumbnail"), db))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("GAFFER_JOB_TYPES names 'thumbnail'");
    }

    @Test
    void theVideoPipelineWithoutFfmpegStopsTheWorkerWithAPlainMessage() {
        assertThatThrownBy(() -> WorkerCommand.handlers(
                        Map.of("GAFFER_JOB_TYPES", "video,scene", "GAFFER_FFMPEG", "/nonexistent/ffmpeg"), db))
                .hasMessageContaining("the video job type needs /nonexistent/ffmpeg but it was not found")
                .hasMessageContaining("apt-get install ffmpeg");
        // Without the pipeline, ffmpeg is not needed at all.
        assertThat(WorkerCommand.handlers(
                                Map.of("GAFFER_JOB_TYPES", "noop", "GAFFER_FFMPEG", "/nonexistent/ffmpeg"), db)
                        .types())
                .containsExactly("noop");
    }
}
