package dev.gaffer.video;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The real ffmpeg from the operating system (CI installs it). */
class FfmpegTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void rendersScenesWithProgressAndConcatenatesThemToTheSumOfTheirDurations() throws Exception {
        Ffmpeg ffmpeg = Ffmpeg.locate(Map.of());
        VideoSpec spec = VideoSpec.from(
                JSON.readTree("{\"width\":320,\"height\":180,\"fps\":25}"),
                JSON.readTree(
                        "{\"scenes\":[{\"duration\":1,\"background\":\"navy\",\"caption\":\"It's 100% \\\"quoted\\\": a:b\\\\c\"},"
                                + "{\"duration\":0.8,\"background\":\"testsrc\",\"caption\":\"\"}]}"));
        List<Path> clips = new ArrayList<>();
        List<Double> progress = new CopyOnWriteArrayList<>();
        for (int i = 0; i < spec.scenes().size(); i++) {
            Path clip = dir.resolve("scene-" + i + ".mp4");
            ffmpeg.renderScene(spec.scenes().get(i), spec.width(), spec.height(), spec.fps(), clip, progress::add);
            clips.add(clip);
            Ffmpeg.Probe probe = ffmpeg.probe(clip);
            assertThat(probe.width()).isEqualTo(320);
            assertThat(probe.height()).isEqualTo(180);
            assertThat(probe.durationSeconds()).isCloseTo(spec.scenes().get(i).duration(), within(1.0 / 25 + 0.001));
        }
        assertThat(progress).isNotEmpty().allSatisfy(p -> assertThat(p).isBetween(0.0, 1.0));
        assertThat(progress).contains(1.0);

        Path out = dir.resolve("video.mp4");
        ffmpeg.concat(clips, out, spec.totalSeconds(), p -> {});
        Ffmpeg.Probe probe = ffmpeg.probe(out);
        assertThat(probe.codec()).isEqualTo("h264");
        assertThat(probe.frameRate()).isEqualTo(25.0);
        assertThat(probe.durationSeconds()).isCloseTo(1.8, within(1.0 / 25 + 0.001));
        assertThat(Files.size(out)).isPositive();
    }

    @Test
    void badStoryboardsNameTheField() {
        assertThatThrownBy(() -> VideoSpec.from(JSON.readTree("{}"), JSON.readTree("{\"scenes\":[]}")))
                .hasMessageStartingWith("storyboard.scenes ");
        assertThatThrownBy(() -> VideoSpec.from(
                        JSON.readTree("{}"), JSON.readTree("{\"scenes\":[{\"duration\":1},{\"duration\":-2}]}")))
                .hasMessageStartingWith("storyboard.scenes[1].duration ");
        assertThatThrownBy(() -> VideoSpec.from(
                        JSON.readTree("{}"),
                        JSON.readTree("{\"scenes\":[{\"duration\":1,\"background\":\"red;rm -rf\"}]}")))
                .hasMessageStartingWith("storyboard.scenes[0].background ");
        assertThatThrownBy(() -> VideoSpec.from(
                        JSON.readTree("{\"width\":321}"), JSON.readTree("{\"scenes\":[{\"duration\":1}]}")))
                .hasMessageStartingWith("parameters.width ");
    }

    @Test
    void aMissingFfmpegIsReportedInPlainWords() {
        assertThatThrownBy(() -> Ffmpeg.locate(Map.of("GAFFER_FFMPEG", "/nonexistent/ffmpeg")))
                .hasMessageContaining("needs /nonexistent/ffmpeg but it was not found")
                .hasMessageContaining("apt-get install ffmpeg");
    }
}
