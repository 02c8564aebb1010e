package dev.gaffer.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ApiConfigTest {

    @Test
    void defaultsWhenNothingIsSet() {
        ApiConfig c = ApiConfig.fromEnvironment(Map.of());
        assertThat(c.port()).isEqualTo(4000);
        assertThat(c.host()).isEqualTo("0.0.0.0");
        assertThat(c.auth()).isTrue();
        assertThat(c.dev()).isFalse();
        assertThat(c.maxBodyBytes()).isEqualTo(1024 * 1024);
        assertThat(c.jobTypes())
                .isEqualTo(Set.of("noop", "sleep", "video", "image_pairs", "scene", "scene_prediction"));
        assertThat(c.defaultMaxAttempts()).isEqualTo(3);
        assertThat(c.requireSafe()).isSameAs(c);
    }

    @Test
    void readsEveryVariable() {
        ApiConfig c = ApiConfig.fromEnvironment(Map.of(
                "GAFFER_API_PORT", "8080",
                "GAFFER_API_HOST", "10.0.0.5",
                "GAFFER_MAX_BODY_BYTES", "4096",
                "GAFFER_JOB_TYPES", "email, resize ,",
                "GAFFER_DEFAULT_MAX_ATTEMPTS", "7"));
        assertThat(c.port()).isEqualTo(8080);
        assertThat(c.host()).isEqualTo("10.0.0.5");
        assertThat(c.maxBodyBytes()).isEqualTo(4096);
        assertThat(c.jobTypes()).containsExactlyInAnyOrder("email", "resize");
        assertThat(c.defaultMaxAttempts()).isEqualTo(7);
    }

    @Test
    void badValuesNameTheirVariable() {
        assertThatThrownBy(() -> ApiConfig.fromEnvironment(Map.of("GAFFER_API_PORT", "http")))
                .hasMessageContaining("GAFFER_API_PORT");
        assertThatThrownBy(() -> ApiConfig.fromEnvironment(Map.of("GAFFER_API_PORT", "70000")))
                .hasMessageContaining("GAFFER_API_PORT");
        assertThatThrownBy(() -> ApiConfig.fromEnvironment(Map.of("GAFFER_AUTH", "maybe")))
                .hasMessageContaining("GAFFER_AUTH");
        assertThatThrownBy(() -> ApiConfig.fromEnvironment(Map.of("GAFFER_MAX_BODY_BYTES", "1")))
                .hasMessageContaining("GAFFER_MAX_BODY_BYTES");
        assertThatThrownBy(() -> ApiConfig.fromEnvironment(Map.of("GAFFER_JOB_TYPES", "Video")))
                .hasMessageContaining("GAFFER_JOB_TYPES");
        assertThatThrownBy(() -> ApiConfig.fromEnvironment(Map.of("GAFFER_DEFAULT_MAX_ATTEMPTS", "0")))
                .hasMessageContaining("GAFFER_DEFAULT_MAX_ATTEMPTS");
    }

    @Test
    void refusesToRunWithoutAuthUnlessDevOnLoopback() {
        assertThatThrownBy(() -> ApiConfig.fromEnvironment(Map.of("GAFFER_AUTH", "false"))
                        .requireSafe())
                .hasMessageContaining("GAFFER_AUTH=false")
                .hasMessageContaining("--dev");
        assertThatThrownBy(() -> ApiConfig.fromEnvironment(
                                Map.of("GAFFER_AUTH", "false", "GAFFER_DEV", "true", "GAFFER_API_HOST", "0.0.0.0"))
                        .requireSafe())
                .hasMessageContaining("loopback");
        ApiConfig dev = ApiConfig.fromEnvironment(Map.of("GAFFER_DEV", "true")).requireSafe();
        assertThat(dev.auth()).isFalse();
        assertThat(dev.host()).isEqualTo("127.0.0.1");
        assertThat(ApiConfig.fromEnvironment(Map.of("GAFFER_DEV", "true", "GAFFER_API_HOST", "::1"))
                        .requireSafe()
                        .auth())
                .isFalse();
        assertThat(ApiConfig.fromEnvironment(Map.of("GAFFER_DEV", "true", "GAFFER_AUTH", "true"))
                        .auth())
                .isTrue();
        assertThat(ApiConfig.isLoopback("localhost")).isTrue();
        assertThat(ApiConfig.isLoopback("127.0.0.2")).isTrue();
        assertThat(ApiConfig.isLoopback("example.com")).isFalse();
    }
}
