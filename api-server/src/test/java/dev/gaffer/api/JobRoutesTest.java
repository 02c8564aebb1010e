package dev.gaffer.api;

import static dev.gaffer.api.TestApi.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.SubJob;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class JobRoutesTest {

    static final Pattern ISO_UTC = Pattern.compile("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d(\\.\\d+)?Z");

    static TestApi api;

    @BeforeAll
    static void start() {
        api = new TestApi("api_jobs");
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    @Test
    void createReturns201WithLocationAndTheJob() {
        var r = api.post("/api/v3/jobs", ApiKeyRole.SUBMIT, """
                {"type":"video","parameters":{"width":320,"height":180},
                 "storyboard":{"scenes":[{"duration":2,"caption":"a cat"},{"duration":1,"background":"navy"}]},
                 "queue":"render","priority":5,"max_attempts":4,"run_at":"2030-01-01T00:00:00Z"}""");
        assertThat(r.statusCode()).isEqualTo(201);
        JsonNode job = json(r);
        long id = job.get("job_id").asLong();
        assertThat(r.headers().firstValue("Location")).hasValue("/api/v3/jobs/" + id);
        assertThat(r.headers().firstValue("Content-Type"))
                .hasValueSatisfying(v -> assertThat(v).startsWith("application/json"));
        assertThat(job.get("type").asText()).isEqualTo("video");
        assertThat(job.get("status").asText()).isEqualTo("pending");
        assertThat(job.get("queue").asText()).isEqualTo("render");
        assertThat(job.get("priority").asInt()).isEqualTo(5);
        assertThat(job.get("max_attempts").asInt()).isEqualTo(4);
        assertThat(job.get("run_at").asText()).isEqualTo("2030-01-01T00:00:00Z");
        assertThat(job.get("parameters").toString()).isEqualTo("{\"width\":320,\"height\":180}");
        // jsonb keeps the document, not its key order: compare as JSON values.
        assertThat(job.get("storyboard"))
                .isEqualTo(
                        TestApi.parse(
                                "{\"scenes\":[{\"duration\":2,\"caption\":\"a cat\"},{\"duration\":1,\"background\":\"navy\"}]}"));
        assertThat(job.get("created_by").asText()).isEqualTo("submit-key");
    }

    @Test
    void getReturnsTheSeedFieldsFirstWithUtcTimestamps() {
        long id = api.createJob("noop");
        var r = api.get("/api/v3/jobs/" + id, ApiKeyRole.READ);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode job = json(r);
        List<String> names = new ArrayList<>();
        job.fieldNames().forEachRemaining(names::add);
        assertThat(names.subList(0, 9))
                .containsExactly(
                        "job_id",
                        "type",
                        "status",
                        "progress_percentage",
                        "current_stage",
                        "parameters",
                        "storyboard",
                        "inserted_at",
                        "updated_at");
        assertThat(names)
                .contains(
                        "attempt",
                        "max_attempts",
                        "queue",
                        "priority",
                        "approved_by",
                        "approved_at",
                        "started_at",
                        "finished_at",
                        "last_error",
                        "result",
                        "parent_id",
                        "subjobs");
        assertThat(job.get("job_id").asLong()).isEqualTo(id);
        assertThat(job.get("progress_percentage").asInt()).isZero();
        assertThat(job.get("current_stage").isNull()).isTrue();
        assertThat(job.get("inserted_at").asText()).matches(ISO_UTC);
        assertThat(job.get("updated_at").asText()).matches(ISO_UTC);
        assertThat(job.get("subjobs").toString()).isEqualTo("{\"total\":0,\"open\":0,\"finished\":0}");
    }

    @Test
    void approveAnswersExactlyTheSeedResponseAndRecordsTheKeyName() {
        long id = api.createJob("video");
        var r = api.post("/api/v3/jobs/" + id + "/approve", ApiKeyRole.APPROVE, null);
        assertThat(r.statusCode()).isEqualTo(200);
        assertThat(r.body())
                .isEqualTo("{\"message\":\"Job approved successfully\",\"job_id\":" + id + ",\"status\":\"approved\"}");
        JsonNode job = json(api.get("/api/v3/jobs/" + id, ApiKeyRole.READ));
        assertThat(job.get("approved_by").asText()).isEqualTo("approve-key");
        assertThat(job.get("approved_at").asText()).matches(ISO_UTC);
    }

    @Test
    void approveOfAMissingJobIs404AndOfANonPendingJobIs422() {
        var missing = api.post("/api/v3/jobs/987654321/approve", ApiKeyRole.APPROVE, null);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json(missing).get("detail").asText()).isEqualTo("job 987654321 does not exist");

        long id = api.createJob("noop");
        assertThat(api.post("/api/v3/jobs/" + id + "/approve", ApiKeyRole.APPROVE, null)
                        .statusCode())
                .isEqualTo(200);
        var again = api.post("/api/v3/jobs/" + id + "/approve", ApiKeyRole.APPROVE, null);
        assertThat(again.statusCode()).isEqualTo(422);
        assertThat(again.headers().firstValue("Content-Type").orElseThrow()).startsWith("application/problem+json");
        assertThat(json(again).get("detail").asText()).contains("is approved").contains("pending");
    }

    @Test
    void twentyConcurrentApprovalsGiveExactlyOne200() throws Exception {
        long id = api.createJob("video");
        List<Integer> statuses = concurrently(
                20,
                () -> api.post("/api/v3/jobs/" + id + "/approve", ApiKeyRole.APPROVE, null)
                        .statusCode());
        assertThat(statuses.stream().filter(s -> s == 200)).hasSize(1);
        assertThat(statuses.stream().filter(s -> s == 422)).hasSize(19);
        assertThat(api.fixtures.eventKinds(id)).containsExactly("created", "approved");
    }

    @Test
    void twentyConcurrentCreatesWithOneIdempotencyKeyMakeOneJob() throws Exception {
        String body = "{\"type\":\"noop\",\"parameters\":{\"k\":\"same\"}}";
        List<HttpResponse<String>> responses = concurrently(
                20,
                () -> api.send(api.request("/api/v3/jobs", ApiKeyRole.SUBMIT)
                        .header("Content-Type", "application/json")
                        .header("Idempotency-Key", "order-42")
                        .POST(HttpRequest.BodyPublishers.ofString(body))
                        .build()));
        assertThat(responses.stream().filter(r -> r.statusCode() == 201)).hasSize(1);
        assertThat(responses.stream().filter(r -> r.statusCode() == 200)).hasSize(19);
        Set<Long> ids = new HashSet<>();
        responses.forEach(r -> ids.add(json(r).get("job_id").asLong()));
        assertThat(ids).hasSize(1);
        assertThat(api.fixtures.count("SELECT count(*) FROM jobs WHERE idempotency_key = 'order-42'"))
                .isEqualTo(1);

        var conflicting = api.send(api.request("/api/v3/jobs", ApiKeyRole.SUBMIT)
                .header("Content-Type", "application/json")
                .header("Idempotency-Key", "order-42")
                .POST(HttpRequest.BodyPublishers.ofString("{\"type\":\"noop\",\"parameters\":{\"k\":\"other\"}}"))
                .build());
        assertThat(conflicting.statusCode()).isEqualTo(422);
        assertThat(json(conflicting).get("field").asText()).isEqualTo("Idempotency-Key");
    }

    @Test
    void listFiltersAndPagesWithACursorUntilTheEnd() {
        Set<Long> created = new HashSet<>();
        for (int i = 0; i < 7; i++) {
            var r = api.post(
                    "/api/v3/jobs",
                    ApiKeyRole.SUBMIT,
                    "{\"type\":\"sleep\",\"queue\":\"pages\",\"parameters\":{\"ms\":1}}");
            created.add(json(r).get("job_id").asLong());
        }
        List<Long> seen = new ArrayList<>();
        String cursor = null;
        int pages = 0;
        do {
            var r = api.get(
                    "/api/v3/jobs?queue=pages&status=pending&type=sleep&limit=3"
                            + (cursor == null ? "" : "&cursor=" + cursor),
                    ApiKeyRole.READ);
            assertThat(r.statusCode()).isEqualTo(200);
            JsonNode page = json(r);
            page.get("jobs").forEach(j -> seen.add(j.get("job_id").asLong()));
            cursor = page.get("next_cursor").isNull()
                    ? null
                    : page.get("next_cursor").asText();
            pages++;
        } while (cursor != null && pages < 10);
        assertThat(pages).isEqualTo(3);
        assertThat(new HashSet<>(seen)).isEqualTo(created);
        assertThat(seen).isSortedAccordingTo((a, b) -> Long.compare(b, a));

        assertThat(json(api.get("/api/v3/jobs?queue=pages&status=completed", ApiKeyRole.READ))
                        .get("jobs"))
                .isEmpty();
        var badStatus = api.get("/api/v3/jobs?status=done", ApiKeyRole.READ);
        assertThat(badStatus.statusCode()).isEqualTo(422);
        assertThat(json(badStatus).get("field").asText()).isEqualTo("status");
        var bigLimit = api.get("/api/v3/jobs?limit=5000", ApiKeyRole.READ);
        assertThat(bigLimit.statusCode()).isEqualTo(422);
        assertThat(json(bigLimit).get("field").asText()).isEqualTo("limit");
        assertThat(api.get("/api/v3/jobs?cursor=abc", ApiKeyRole.READ).statusCode())
                .isEqualTo(400);
    }

    @Test
    void cancelThenRetryMoveTheJobAndRecordTheActor() {
        long id = api.createJob("noop");
        var cancelled = api.post("/api/v3/jobs/" + id + "/cancel", ApiKeyRole.APPROVE, null);
        assertThat(cancelled.statusCode()).isEqualTo(200);
        assertThat(json(cancelled).get("status").asText()).isEqualTo("cancelled");
        assertThat(json(cancelled).get("finished_at").asText()).matches(ISO_UTC);

        var cancelAgain = api.post("/api/v3/jobs/" + id + "/cancel", ApiKeyRole.APPROVE, null);
        assertThat(cancelAgain.statusCode()).isEqualTo(422);

        var retried = api.post("/api/v3/jobs/" + id + "/retry", ApiKeyRole.ADMIN, null);
        assertThat(retried.statusCode()).isEqualTo(200);
        assertThat(json(retried).get("status").asText()).isEqualTo("approved");
        assertThat(json(retried).get("approved_by").asText()).isEqualTo("admin-key");

        var retryAgain = api.post("/api/v3/jobs/" + id + "/retry", ApiKeyRole.APPROVE, null);
        assertThat(retryAgain.statusCode()).isEqualTo(422);
        assertThat(api.post("/api/v3/jobs/55555555/cancel", ApiKeyRole.APPROVE, null)
                        .statusCode())
                .isEqualTo(404);
        assertThat(api.post("/api/v3/jobs/55555555/retry", ApiKeyRole.APPROVE, null)
                        .statusCode())
                .isEqualTo(404);

        JsonNode events = json(api.get("/api/v3/jobs/" + id + "/events", ApiKeyRole.READ));
        List<String> kinds = new ArrayList<>();
        events.get("events").forEach(e -> kinds.add(e.get("kind").asText()));
        assertThat(kinds).containsExactly("created", "cancelled", "retried");
        assertThat(events.get("events").get(1).get("actor").asText()).isEqualTo("approve-key");
    }

    @Test
    void eventsPageWithSinceAndLimit() {
        long id = api.createJob("noop");
        api.post("/api/v3/jobs/" + id + "/approve", ApiKeyRole.APPROVE, null);
        api.post("/api/v3/jobs/" + id + "/cancel", ApiKeyRole.APPROVE, null);
        JsonNode first = json(api.get("/api/v3/jobs/" + id + "/events?limit=2", ApiKeyRole.READ));
        assertThat(first.get("events")).hasSize(2);
        long next = first.get("next_since").asLong();
        JsonNode rest = json(api.get("/api/v3/jobs/" + id + "/events?since=" + next, ApiKeyRole.READ));
        assertThat(rest.get("events")).hasSize(1);
        assertThat(rest.get("events").get(0).get("kind").asText()).isEqualTo("cancelled");
        assertThat(rest.get("events").get(0).get("id").asLong()).isGreaterThan(next);
        assertThat(api.get("/api/v3/jobs/77777777/events", ApiKeyRole.READ).statusCode())
                .isEqualTo(404);
    }

    @Test
    void subJobsListsTheChildrenOfAJobThatFannedOut() {
        Job parent = api.fixtures.processing("video", "w/1");
        api.outcomes.waitForSubJobs(
                parent.lease(),
                List.of(SubJob.of("scene", JobFixtures.params("i", 1)), SubJob.of("scene", JobFixtures.params("i", 2))),
                "rendering",
                "stitch");
        var r = api.get("/api/v3/jobs/" + parent.id() + "/subjobs", ApiKeyRole.READ);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode body = json(r);
        assertThat(body.get("subjobs")).hasSize(2);
        assertThat(body.get("subjobs").get(0).get("parent_id").asLong()).isEqualTo(parent.id());
        assertThat(body.get("subjobs").get(0).get("status").asText()).isEqualTo("approved");
        JsonNode p = json(api.get("/api/v3/jobs/" + parent.id(), ApiKeyRole.READ));
        assertThat(p.get("status").asText()).isEqualTo("waiting");
        assertThat(p.get("subjobs").get("total").asInt()).isEqualTo(2);
        assertThat(p.get("subjobs").get("open").asInt()).isEqualTo(2);
        var filtered = json(api.get("/api/v3/jobs?parent_id=" + parent.id(), ApiKeyRole.READ));
        assertThat(filtered.get("jobs")).hasSize(2);
        assertThat(api.get("/api/v3/jobs/88888888/subjobs", ApiKeyRole.READ).statusCode())
                .isEqualTo(404);
    }

    static <T> List<T> concurrently(int n, java.util.concurrent.Callable<T> call) throws Exception {
        CountDownLatch go = new CountDownLatch(1);
        try (ExecutorService pool = Executors.newFixedThreadPool(n)) {
            List<Future<T>> futures = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                futures.add(pool.submit(() -> {
                    go.await();
                    return call.call();
                }));
            }
            go.countDown();
            List<T> out = new ArrayList<>();
            for (Future<T> f : futures) {
                out.add(f.get());
            }
            return out;
        }
    }
}
