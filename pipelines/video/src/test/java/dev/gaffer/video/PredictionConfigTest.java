package dev.gaffer.video;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The prediction renderer's settings: absent unless asked for, and every bad value named. */
class PredictionConfigTest {

    private static Map<String, String> env(String... pairs) {
        Map<String, String> env = new HashMap<>(Map.of(
                "GAFFER_PREDICTION_URL", "https://api.example.com/",
                "GAFFER_PREDICTION_TOKEN", "t",
                "GAFFER_PREDICTION_MODEL", "owner/model:abc"));
        for (int i = 0; i < pairs.length; i += 2) {
            env.put(pairs[i], pairs[i + 1]);
        }
        return env;
    }

    @Test
    void noUrlNoRendererAndTheDefaultsOtherwise() {
        assertThat(PredictionConfig.fromEnvironment(Map.of())).isEmpty();
        PredictionConfig c = PredictionConfig.fromEnvironment(env()).orElseThrow();
        assertThat(c.baseUrl()).hasToString("https://api.example.com");
        assertThat(c.requestsPerSecond()).isEqualTo(10.0);
        assertThat(c.publicUrl()).isNull();
        assertThat(c.pollEvery()).as("no webhook: poll often").isEqualTo(Duration.ofSeconds(5));
        assertThat(c.rendererId()).isEqualTo("prediction/owner/model:abc");
        PredictionConfig hooked = PredictionConfig.fromEnvironment(
                        env("GAFFER_PUBLIC_URL", "https://gaffer.example.com", "GAFFER_PREDICTION_RATE", "600/m"))
                .orElseThrow();
        assertThat(hooked.pollEvery()).isEqualTo(Duration.ofSeconds(30));
        assertThat(hooked.requestsPerSecond()).isEqualTo(10.0);
    }

    @Test
    void badValuesAreRefusedNamingTheVariable() {
        assertThatThrownBy(() -> PredictionConfig.fromEnvironment(env("GAFFER_PREDICTION_TOKEN", " ")))
                .hasMessageContaining("GAFFER_PREDICTION_TOKEN");
        assertThatThrownBy(() -> PredictionConfig.fromEnvironment(env("GAFFER_PREDICTION_RATE", "0/s")))
                .hasMessageContaining("GAFFER_PREDICTION_RATE");
        assertThatThrownBy(() -> PredictionConfig.fromEnvironment(env("GAFFER_PREDICTION_RATE", "fast")))
                .hasMessageContaining("GAFFER_PREDICTION_RATE");
        assertThatThrownBy(() -> PredictionConfig.fromEnvironment(env("GAFFER_PREDICTION_URL", "ftp://x")))
                .hasMessageContaining("GAFFER_PREDICTION_URL");
        assertThatThrownBy(() -> PredictionConfig.fromEnvironment(env("GAFFER_PREDICTION_TIMEOUT", "0s")))
                .hasMessageContaining("GAFFER_PREDICTION_TIMEOUT");
        assertThatThrownBy(() -> PredictionConfig.fromEnvironment(env("GAFFER_PUBLIC_URL", "not a url")))
                .hasMessageContaining("GAFFER_PUBLIC_URL");
    }

    @Test
    void aVideoNamesOnlyAKnownRenderer() {
        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        assertThat(VideoSpec.renderer(json.createObjectNode())).isEqualTo("ffmpeg");
        assertThat(VideoSpec.renderer(json.createObjectNode().put("renderer", "prediction")))
                .isEqualTo("prediction");
        assertThatThrownBy(() -> VideoSpec.renderer(json.createObjectNode().put("renderer", "gpu")))
                .isInstanceOf(VideoSpec.InvalidSpecException.class)
                .hasMessageContaining("parameters.renderer");
    }
}
