package dev.gaffer.video;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleConsumer;

/**
 * The FFmpeg programs from the operating system, driven as child processes. Rendering reports
 * progress from FFmpeg's own {@code -progress} output (the encoded time so far), not a timer.
 * An interrupted caller stops the child at once.
 */
public final class Ffmpeg {

    /** What ffprobe says about a file. */
    public record Probe(double durationSeconds, int width, int height, double frameRate, String codec) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String ffmpeg;
    private final String ffprobe;

    private Ffmpeg(String ffmpeg, String ffprobe) {
        this.ffmpeg = ffmpeg;
        this.ffprobe = ffprobe;
    }

    /**
     * Finds ffmpeg and ffprobe on the PATH (or at {@code GAFFER_FFMPEG} / {@code GAFFER_FFPROBE})
     * and checks that they run; the message says how to install them when they do not.
     */
    public static Ffmpeg locate(java.util.Map<String, String> env) {
        String ffmpeg = env.getOrDefault("GAFFER_FFMPEG", "ffmpeg");
        String ffprobe = env.getOrDefault("GAFFER_FFPROBE", "ffprobe");
        for (String program : List.of(ffmpeg, ffprobe)) {
            try {
                Process p = new ProcessBuilder(program, "-version")
                        .redirectErrorStream(true)
                        .start();
                p.getInputStream().readAllBytes();
                if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    throw new IllegalStateException(program + " -version failed");
                }
            } catch (IOException e) {
                throw new IllegalStateException(
                        "the video job type needs " + program
                                + " but it was not found; install FFmpeg (Debian/Ubuntu: apt-get install ffmpeg) or set GAFFER_FFMPEG/GAFFER_FFPROBE, or leave video out of GAFFER_JOB_TYPES");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while checking " + program);
            }
        }
        return new Ffmpeg(ffmpeg, ffprobe);
    }

    /**
     * Renders one scene to an H.264 MP4 at the given format. {@code progress} gets the share
     * encoded so far, from 0 to 1, as FFmpeg reports it.
     */
    public void renderScene(VideoSpec.Scene scene, int width, int height, int fps, Path out, DoubleConsumer progress)
            throws IOException, InterruptedException {
        Path captionFile = captionFile(scene, out);
        try {
            List<String> cmd = sceneSource(scene, width, height, fps, scene.duration(), captionFile);
            cmd.addAll(List.of(
                    "-c:v",
                    "libx264",
                    "-preset",
                    "veryfast",
                    "-pix_fmt",
                    "yuv420p",
                    "-r",
                    String.valueOf(fps),
                    "-movflags",
                    "+faststart",
                    "-progress",
                    "pipe:1",
                    "-nostats",
                    out.toString()));
            run(cmd, scene.duration(), progress);
        } finally {
            if (captionFile != null) {
                Files.deleteIfExists(captionFile);
            }
        }
    }

    /**
     * Renders the first frame of one scene, as the clip would show it, to a PNG of {@code width} x
     * {@code height}: a preview that costs a fraction of a second.
     */
    public void renderFrame(VideoSpec.Scene scene, int width, int height, Path out)
            throws IOException, InterruptedException {
        Path captionFile = captionFile(scene, out);
        try {
            List<String> cmd = sceneSource(scene, width, height, 1, 1.0, captionFile);
            cmd.addAll(List.of("-frames:v", "1", "-progress", "pipe:1", "-nostats", out.toString()));
            run(cmd, 0, f -> {});
        } finally {
            if (captionFile != null) {
                Files.deleteIfExists(captionFile);
            }
        }
    }

    /**
     * The caption in a file beside {@code out}, or null without one: the caption goes to FFmpeg
     * through a file with expansion off, with no quoting of user text into the filter graph, so
     * any characters are drawn as they are.
     */
    private static Path captionFile(VideoSpec.Scene scene, Path out) throws IOException {
        if (scene.caption().isBlank()) {
            return null;
        }
        Path file = Files.createTempFile(out.getParent(), "caption", ".txt");
        Files.writeString(file, scene.caption(), StandardCharsets.UTF_8);
        return file;
    }

    /** The command up to its output options: the scene's background for {@code seconds}, and its caption. */
    private List<String> sceneSource(
            VideoSpec.Scene scene, int width, int height, int fps, double seconds, Path captionFile) {
        String size = width + "x" + height;
        String duration = String.format(Locale.ROOT, "%.3f", seconds);
        String source = scene.background().equals(VideoSpec.Scene.TEST_PATTERN)
                ? "testsrc2=s=" + size + ":r=" + fps + ":d=" + duration
                : "color=c=" + scene.background().replace("#", "0x") + ":s=" + size + ":r=" + fps + ":d=" + duration;
        List<String> cmd =
                new ArrayList<>(List.of(ffmpeg, "-hide_banner", "-nostdin", "-y", "-f", "lavfi", "-i", source));
        if (captionFile != null) {
            cmd.addAll(List.of("-vf", caption(captionFile, height)));
        }
        return cmd;
    }

    /** The drawtext filter of a caption file: white on a dark box, centred near the bottom. */
    private static String caption(Path captionFile, int height) {
        int fontSize = Math.max(12, height / 14);
        return "drawtext=textfile=" + captionFile.toAbsolutePath() + ":expansion=none"
                + ":fontcolor=white:fontsize=" + fontSize + ":box=1:boxcolor=black@0.55:boxborderw=" + (fontSize / 3)
                + ":x=(w-text_w)/2:y=h-text_h-" + (height / 10);
    }

    /**
     * Renders one scene from an image or a clip that another renderer made (a prediction API's
     * output): fitted into the format (letterboxed), held or cut to the scene's duration, with the
     * scene's caption, encoded like {@link #renderScene} so that the clips concatenate.
     */
    public void renderFromMedia(
            Path media, boolean still, VideoSpec.Scene scene, int width, int height, int fps, Path out)
            throws IOException, InterruptedException {
        Path captionFile = captionFile(scene, out);
        try {
            String duration = String.format(Locale.ROOT, "%.3f", scene.duration());
            List<String> cmd = new ArrayList<>(List.of(ffmpeg, "-hide_banner", "-nostdin", "-y"));
            if (still) {
                cmd.addAll(List.of("-loop", "1", "-framerate", String.valueOf(fps)));
            }
            cmd.addAll(List.of("-i", media.toString()));
            String filter = "scale=" + width + ":" + height + ":force_original_aspect_ratio=decrease,pad=" + width + ":"
                    + height + ":(ow-iw)/2:(oh-ih)/2,setsar=1,fps=" + fps + ",tpad=stop_mode=clone:stop_duration="
                    + duration;
            if (captionFile != null) {
                filter += "," + caption(captionFile, height);
            }
            cmd.addAll(List.of(
                    "-vf",
                    filter,
                    "-t",
                    duration,
                    "-an",
                    "-c:v",
                    "libx264",
                    "-preset",
                    "veryfast",
                    "-pix_fmt",
                    "yuv420p",
                    "-r",
                    String.valueOf(fps),
                    "-movflags",
                    "+faststart",
                    "-progress",
                    "pipe:1",
                    "-nostats",
                    out.toString()));
            run(cmd, scene.duration(), f -> {});
        } finally {
            if (captionFile != null) {
                Files.deleteIfExists(captionFile);
            }
        }
    }

    /** Joins clips of one format into one MP4 without re-encoding. */
    public void concat(List<Path> clips, Path out, double totalSeconds, DoubleConsumer progress)
            throws IOException, InterruptedException {
        Path list = Files.createTempFile(out.getParent(), "clips", ".txt");
        try {
            StringBuilder sb = new StringBuilder();
            for (Path clip : clips) {
                sb.append("file '")
                        .append(clip.toAbsolutePath().toString().replace("'", "'\\''"))
                        .append("'\n");
            }
            Files.writeString(list, sb.toString(), StandardCharsets.UTF_8);
            run(
                    List.of(
                            ffmpeg,
                            "-hide_banner",
                            "-nostdin",
                            "-y",
                            "-f",
                            "concat",
                            "-safe",
                            "0",
                            "-i",
                            list.toString(),
                            "-c",
                            "copy",
                            "-movflags",
                            "+faststart",
                            "-progress",
                            "pipe:1",
                            "-nostats",
                            out.toString()),
                    totalSeconds,
                    progress);
        } finally {
            Files.deleteIfExists(list);
        }
    }

    public Probe probe(Path file) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(
                        ffprobe,
                        "-v",
                        "error",
                        "-select_streams",
                        "v:0",
                        "-show_entries",
                        "format=duration:stream=width,height,r_frame_rate,codec_name",
                        "-of",
                        "json",
                        file.toString())
                .redirectErrorStream(true)
                .start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("ffprobe failed on " + file.getFileName() + ": " + out.strip());
        }
        JsonNode n = JSON.readTree(out);
        JsonNode stream = n.path("streams").path(0);
        String[] rate = stream.path("r_frame_rate").asText("0/1").split("/");
        double fps = Double.parseDouble(rate[0]) / (rate.length > 1 ? Double.parseDouble(rate[1]) : 1);
        return new Probe(
                n.path("format").path("duration").asDouble(),
                stream.path("width").asInt(),
                stream.path("height").asInt(),
                fps,
                stream.path("codec_name").asText());
    }

    private static void run(List<String> cmd, double expectedSeconds, DoubleConsumer progress)
            throws IOException, InterruptedException {
        Path errors = Files.createTempFile("ffmpeg", ".log");
        Process p = new ProcessBuilder(cmd).redirectError(errors.toFile()).start();
        try (BufferedReader out =
                new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = out.readLine()) != null) {
                if (Thread.currentThread().isInterrupted()) {
                    throw new InterruptedException("cancelled while ffmpeg was running");
                }
                // -progress prints key=value blocks; out_time_us is the encoded time so far.
                if (line.startsWith("out_time_us=") && expectedSeconds > 0) {
                    try {
                        long us = Long.parseLong(
                                line.substring("out_time_us=".length()).strip());
                        progress.accept(Math.max(0, Math.min(1, us / (expectedSeconds * 1_000_000))));
                    } catch (NumberFormatException ignored) {
                        // "N/A" before the first frame
                    }
                } else if (line.equals("progress=end")) {
                    progress.accept(1.0);
                }
            }
            if (p.waitFor() != 0) {
                List<String> log = Files.readAllLines(errors);
                String tail = String.join("\n", log.subList(Math.max(0, log.size() - 8), log.size()));
                throw new IOException("ffmpeg exited with " + p.exitValue() + ": " + tail);
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
            Files.deleteIfExists(errors);
        }
    }
}
