package dev.gaffer.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

/** What a job's documents may hold: every refusal names the path of the value at fault. */
class JsonLimitsTest {

    static final ObjectMapper EXACT = new ObjectMapper().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    static JsonNode exact(String text) throws Exception {
        return EXACT.readTree(text);
    }

    @Test
    void nestingDeeperThanTheLimitIsRefusedAtTheFirstLevelTooDeep() throws Exception {
        String ok = "[".repeat(JsonLimits.MAX_DEPTH) + "]".repeat(JsonLimits.MAX_DEPTH);
        assertThat(JsonLimits.checked("storyboard", exact(ok))).isNotNull();
        String deep = "{\"a\":".repeat(JsonLimits.MAX_DEPTH) + "{}" + "}".repeat(JsonLimits.MAX_DEPTH);
        assertThatThrownBy(() -> JsonLimits.checked("parameters", exact(deep)))
                .isInstanceOf(InvalidJobException.class)
                .hasMessageContaining("deeper than 64 levels")
                .satisfies(e -> assertThat(((InvalidJobException) e).field())
                        .isEqualTo("parameters" + ".a".repeat(JsonLimits.MAX_DEPTH)));
    }

    @Test
    void textThatCannotBeStoredAsItIsIsRefused() throws Exception {
        assertThatThrownBy(() -> JsonLimits.checked("parameters", exact("{\"s\":[1,\"x\\u0000\"]}")))
                .hasMessageContaining("NUL")
                .satisfies(e -> assertThat(((InvalidJobException) e).field()).isEqualTo("parameters.s[1]"));
        assertThatThrownBy(() -> JsonLimits.checked("parameters", exact("{\"k\\u0000\":1}")))
                .hasMessageContaining("in a key");
        assertThatThrownBy(() -> JsonLimits.checked("parameters", exact("{\"s\":\"\\udc00x\"}")))
                .hasMessageContaining("unpaired UTF-16 surrogate (\\udc00)");
        assertThatThrownBy(() -> JsonLimits.checked("parameters", exact("{\"s\":\"x\\ud83c\"}")))
                .hasMessageContaining("surrogate");
        assertThat(JsonLimits.checked("parameters", exact("{\"s\":\"\\ud83c\\udfac\"}"))
                        .get("s")
                        .asText())
                .isEqualTo("🎬");
        String longKey = "k".repeat(JsonLimits.MAX_KEY_LENGTH + 1);
        assertThatThrownBy(() -> JsonLimits.checked("parameters", exact("{\"" + longKey + "\":1}")))
                .hasMessageContaining("at most " + JsonLimits.MAX_KEY_LENGTH);
    }

    @Test
    void numbersADoubleWouldChangeAreRefusedAndTheOthersBecomeDoubles() throws Exception {
        for (String n : new String[] {"1e400", "-1e400", "1e-400"}) {
            assertThatThrownBy(() -> JsonLimits.checked("parameters", exact("{\"x\":" + n + "}")))
                    .as(n)
                    .hasMessageContaining("64-bit floating-point")
                    .satisfies(
                            e -> assertThat(((InvalidJobException) e).field()).isEqualTo("parameters.x"));
        }
        JsonNode ok = JsonLimits.checked("parameters", exact("{\"a\":{\"x\":2.5},\"n\":[0.0, 7]}"));
        assertThat(ok.at("/a/x").isDouble()).isTrue();
        assertThat(ok.at("/a/x").doubleValue()).isEqualTo(2.5);
        assertThat(ok.at("/n/1").isInt()).isTrue();
        JsonNode plain = new ObjectMapper().readTree("{\"x\":1}");
        assertThat(JsonLimits.checked("parameters", plain)).isSameAs(plain);
    }

    @Test
    void aTimeoutOutsideItsRangeIsRefusedNamingTheField() {
        for (String t : new String[] {"0", "-1", "10000000000000", "\"soon\"", "1.5"}) {
            assertThatThrownBy(() -> NewJob.of("noop", json("{\"timeout_ms\":" + t + "}")))
                    .as(t)
                    .isInstanceOf(InvalidJobException.class)
                    .satisfies(
                            e -> assertThat(((InvalidJobException) e).field()).isEqualTo("parameters.timeout_ms"));
        }
        assertThat(JobControls.timeout(json("{\"timeout_ms\":250}"))).hasMillis(250);
        assertThat(JobControls.timeout(json("{}"))).isNull();
        assertThatThrownBy(() -> SubJob.of("noop", json("{\"timeout_ms\":0}"))).isInstanceOf(InvalidJobException.class);
    }

    private static JsonNode json(String text) {
        try {
            return new ObjectMapper().readTree(text);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException(e);
        }
    }
}
