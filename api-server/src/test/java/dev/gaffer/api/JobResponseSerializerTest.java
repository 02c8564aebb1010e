package dev.gaffer.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gaffer.api.Responses.JobPage;
import dev.gaffer.api.Responses.JobResponse;
import dev.gaffer.api.Responses.SubJobCounts;
import dev.gaffer.api.Responses.SubJobList;
import dev.gaffer.job.Json;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The hand-written JobResponse serializer writes the very bytes that Jackson's record serializer
 * writes. The reference writes every component of the record, so a field added to JobResponse but
 * not to the serializer fails here, whatever its value.
 */
class JobResponseSerializerTest {

    /** JsonSupport's settings, with Jackson's own serializer for JobResponse. */
    static final ObjectMapper REFERENCE = JsonSupport.configured().build();

    @Test
    void aJobWithEveryFieldSetIsWrittenAsTheRecordSerializerWritesIt() throws Exception {
        JobResponse full = new JobResponse(
                9_007_199_254_740_993L,
                "video",
                "processing",
                42,
                "render \"scene\" 2\n",
                tree(
                        "{\"prompt\":\"é 🐱 \\u0001 \\\"quoted\\\" </script>\",\"n\":-12,\"big\":123456789012345678901234567890,"
                                + "\"x\":1.5,\"tiny\":1.0E-7,\"e\":1e300,\"neg0\":-0.0,\"t\":true,\"f\":false,\"nil\":null,"
                                + "\"empty\":{},\"list\":[],\"nested\":[[1,[2,{\"a\":[null]}]],\"s\"]}"),
                tree("{\"scenes\":[{\"title\":\"opening\",\"duration\":4.25},{\"title\":\"end\",\"duration\":600}]}"),
                Instant.parse("2026-12-02T18:56:42.437010Z"),
                Instant.parse("2026-12-02T18:56:43Z"),
                7L,
                "render",
                -3,
                2,
                5,
                Instant.parse("2030-01-01T00:00:00.100Z"),
                "ops",
                "approver",
                Instant.parse("1970-01-01T00:00:00.000000001Z"),
                Instant.parse("2026-12-02T18:56:44.123456789Z"),
                Instant.parse("+12026-01-01T00:00:00Z"),
                "worker-1",
                Instant.parse("2026-12-02T18:56:45.5Z"),
                Instant.parse("2026-12-02T18:57:45.000100Z"),
                "boom: \t tab, \\ backslash, \u2028 separator",
                tree("[1,\"two\",{\"three\":3.0}]"),
                new SubJobCounts(10, 4, 6),
                3,
                new JobResponse.Review("scenes", 2, true, tree("{\"clips\":[\"/a.mp4\"],\"note\":\"é\"}")));
        assertSameBytes(full);
    }

    @Test
    void aJobWithEveryOptionalFieldNullIsWrittenAsTheRecordSerializerWritesIt() throws Exception {
        JobResponse sparse = new JobResponse(
                1,
                "noop",
                "pending",
                0,
                null,
                null,
                null,
                Instant.EPOCH,
                Instant.EPOCH,
                null,
                "default",
                0,
                0,
                3,
                Instant.EPOCH,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                1,
                null);
        assertSameBytes(sparse);
        // A job whose documents are JSON null (jsonb 'null'), not SQL NULL.
        assertSameBytes(new JobResponse(
                2,
                "noop",
                "completed",
                100,
                "",
                tree("null"),
                tree("{}"),
                Instant.EPOCH,
                Instant.EPOCH,
                null,
                "default",
                0,
                1,
                1,
                Instant.EPOCH,
                "",
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                "",
                tree("\"just a string\""),
                new SubJobCounts(0, 0, 0),
                1,
                new JobResponse.Review("plan", 1, false, null)));
    }

    @Test
    void pagesAndListsOfJobsAreWrittenTheSameToo() throws Exception {
        JobResponse a = new JobResponse(
                3,
                "noop",
                "pending",
                0,
                null,
                tree("{\"a\":1}"),
                null,
                Instant.EPOCH,
                Instant.EPOCH,
                null,
                "default",
                0,
                0,
                3,
                Instant.EPOCH,
                "me",
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                null,
                new SubJobCounts(1, 1, 0),
                2,
                new JobResponse.Review("plan", 2, true, null));
        assertSameBytes(new JobPage(List.of(a, a), "3"));
        assertSameBytes(new JobPage(List.of(), null));
        assertSameBytes(new SubJobList(1, List.of(a)));
    }

    /** As the API writes bodies: to bytes (the UTF-8 generator, which escapes surrogate pairs). */
    private static void assertSameBytes(Object body) throws Exception {
        assertThat(new String(JsonSupport.MAPPER.writeValueAsBytes(body), StandardCharsets.UTF_8))
                .isEqualTo(new String(REFERENCE.writeValueAsBytes(body), StandardCharsets.UTF_8));
    }

    private static JsonNode tree(String json) throws Exception {
        return Json.MAPPER.readTree(json);
    }
}
