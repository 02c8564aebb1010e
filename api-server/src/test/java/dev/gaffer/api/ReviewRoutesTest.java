package dev.gaffer.api;

import static dev.gaffer.api.TestApi.json;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.auth.ApiKeyRole;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The review routes over real HTTP (issue 18): reject, request changes, the storyboard with its
 * revision as ETag and If-Match, a job's decisions, the export of the audit trail and the list of
 * jobs awaiting review. Bad input gets a clear problem and changes nothing.
 */
class ReviewRoutesTest {

    static TestApi api;

    @BeforeAll
    static void start() {
        api = new TestApi("api_reviews");
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    private static HttpResponse<String> post(long id, String action, String body, String ifMatch) {
        HttpRequest.Builder b = api.request("/api/v3/jobs/" + id + "/" + action, ApiKeyRole.APPROVE)
                .header("Content-Type", "application/json")
                .POST(body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        return api.send(b.build());
    }

    private static HttpResponse<String> put(long id, ApiKeyRole as, String body, String ifMatch) {
        HttpRequest.Builder b = api.request("/api/v3/jobs/" + id + "/storyboard", as)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body));
        if (ifMatch != null) {
            b.header("If-Match", ifMatch);
        }
        return api.send(b.build());
    }

    private static String status(long id) {
        return json(api.get("/api/v3/jobs/" + id, ApiKeyRole.READ))
                .get("status")
                .asText();
    }

    private static JsonNode reviews(long id) {
        var r = api.get("/api/v3/jobs/" + id + "/reviews", ApiKeyRole.READ);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return json(r).get("reviews");
    }

    @Test
    void approveTakesAnOptionalCommentAndKeepsTheSeedAnswer() {
        long id = api.createJob("noop");
        var r = post(id, "approve", "{\"comment\":\"ship it\"}", "\"1\"");
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(r.body())
                .isEqualTo("{\"message\":\"Job approved successfully\",\"job_id\":" + id + ",\"status\":\"approved\"}");
        JsonNode decision = reviews(id).get(0);
        assertThat(decision.get("decision").asText()).isEqualTo("approved");
        assertThat(decision.get("reviewer").asText()).isEqualTo("approve-key");
        assertThat(decision.get("comment").asText()).isEqualTo("ship it");
        assertThat(decision.get("revision").asInt()).isEqualTo(1);
        assertThat(decision.get("requested_by").asText()).isEqualTo("submit-key");
    }

    @Test
    void rejectNeedsAReasonIsTerminalAndCannotBeRetried() {
        long id = api.createJob("noop");
        for (String bad : List.of("{}", "{\"reason\":\"  \"}", "{\"reason\":7}", "{\"reson\":\"typo\"}")) {
            var r = post(id, "reject", bad, null);
            assertThat(r.statusCode()).as(bad + " -> " + r.body()).isEqualTo(422);
            assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("application/problem+json");
        }
        assertThat(post(id, "reject", null, null).statusCode()).isEqualTo(400);
        assertThat(status(id)).isEqualTo("pending");
        assertThat(reviews(id)).isEmpty();

        var r = post(id, "reject", "{\"reason\":\"over budget\"}", null);
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        assertThat(json(r).get("status").asText()).isEqualTo("rejected");
        assertThat(json(r).get("finished_at").isNull()).isFalse();
        assertThat(reviews(id).get(0).get("comment").asText()).isEqualTo("over budget");
        assertThat(api.post("/api/v3/jobs/" + id + "/retry", ApiKeyRole.APPROVE, null)
                        .statusCode())
                .isEqualTo(422);
        assertThat(post(id, "approve", null, null).statusCode()).isEqualTo(422);
        assertThat(status(id)).isEqualTo("rejected");
        assertThat(api.get("/api/v3/jobs?status=rejected", ApiKeyRole.READ).body())
                .contains("\"job_id\":" + id);
        assertThat(post(987654321L, "reject", "{\"reason\":\"x\"}", null).statusCode())
                .isEqualTo(404);
        // A key that may only read or submit cannot decide.
        var asSubmitter = api.send(api.request("/api/v3/jobs/" + api.createJob("noop") + "/reject", ApiKeyRole.SUBMIT)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"reason\":\"mine\"}"))
                .build());
        assertThat(asSubmitter.statusCode()).isEqualTo(403);
    }

    @Test
    void requestChangesThenReviseWithIfMatchThenApproveTheNewRevision() {
        long id = api.createJob("noop");
        var sb = api.get("/api/v3/jobs/" + id + "/storyboard", ApiKeyRole.READ);
        assertThat(sb.statusCode()).isEqualTo(200);
        assertThat(sb.headers().firstValue("ETag")).contains("\"1\"");
        assertThat(awaitingIds()).contains(id);

        assertThat(post(id, "request-changes", "{\"comment\":\"add a title card\"}", "\"1\"")
                        .statusCode())
                .isEqualTo(200);
        assertThat(status(id)).isEqualTo("pending");
        assertThat(awaitingIds()).doesNotContain(id);

        // Revising needs If-Match (428), the current revision (412), the submitter (403), and valid JSON (400).
        assertThat(put(id, ApiKeyRole.SUBMIT, "{\"scenes\":[]}", null).statusCode())
                .isEqualTo(428);
        assertThat(put(id, ApiKeyRole.SUBMIT, "{\"scenes\":[]}", "\"7\"").statusCode())
                .isEqualTo(412);
        assertThat(put(id, ApiKeyRole.SUBMIT, "{\"scenes\":[]}", "seven").statusCode())
                .isEqualTo(400);
        assertThat(put(id, ApiKeyRole.APPROVE, "{\"scenes\":[]}", "\"1\"").statusCode())
                .isEqualTo(403);
        assertThat(put(id, ApiKeyRole.SUBMIT, "{\"scenes\":", "\"1\"").statusCode())
                .isEqualTo(400);
        assertThat(put(id, ApiKeyRole.SUBMIT, "null", "\"1\"").statusCode()).isEqualTo(400);
        assertThat(api.get("/api/v3/jobs/" + id + "/storyboard", ApiKeyRole.READ)
                        .headers()
                        .firstValue("ETag"))
                .contains("\"1\"");

        var revised = put(id, ApiKeyRole.SUBMIT, "{\"scenes\":[{\"title\":\"card\"}]}", "\"1\"");
        assertThat(revised.statusCode()).as(revised.body()).isEqualTo(200);
        assertThat(revised.headers().firstValue("ETag")).contains("\"2\"");
        assertThat(json(revised).get("storyboard_revision").asInt()).isEqualTo(2);
        assertThat(awaitingIds()).contains(id);
        // The revision it replaced stays readable, for the reviewer to see what changed.
        var first = api.get("/api/v3/jobs/" + id + "/storyboard?revision=1", ApiKeyRole.READ);
        assertThat(first.statusCode()).as(first.body()).isEqualTo(200);
        assertThat(first.headers().firstValue("ETag")).contains("\"1\"");
        assertThat(first.body()).isEqualTo("null");
        assertThat(api.get("/api/v3/jobs/" + id + "/storyboard?revision=2", ApiKeyRole.READ)
                        .body())
                .contains("card");
        var missing = api.get("/api/v3/jobs/" + id + "/storyboard?revision=7", ApiKeyRole.READ);
        assertThat(missing.statusCode()).isEqualTo(404);
        assertThat(json(missing).get("detail").asText()).contains("current one is 2");
        assertThat(api.get("/api/v3/jobs/" + id + "/storyboard?revision=one", ApiKeyRole.READ)
                        .statusCode())
                .isEqualTo(400);
        assertThat(api.get("/api/v3/jobs/" + id + "/storyboard", ApiKeyRole.READ)
                        .body())
                .isEqualTo("{\"scenes\":[{\"title\":\"card\"}]}");

        // An approval of the revision before is refused; of the current one, it goes through.
        var stale = post(id, "approve", null, "\"1\"");
        assertThat(stale.statusCode()).isEqualTo(412);
        assertThat(json(stale).get("field").asText()).isEqualTo("If-Match");
        assertThat(status(id)).isEqualTo("pending");
        assertThat(post(id, "approve", "{\"comment\":\"good\"}", "W/\"2\"").statusCode())
                .isEqualTo(200);
        assertThat(reviews(id))
                .extracting(n ->
                        n.get("decision").asText() + "@" + n.get("revision").asInt())
                .containsExactly("changes_requested@1", "approved@2");
        var events =
                json(api.get("/api/v3/jobs/" + id + "/events", ApiKeyRole.READ)).get("events");
        List<String> kinds = new ArrayList<>();
        events.forEach(e -> kinds.add(e.get("kind").asText()));
        assertThat(kinds).containsSubsequence("created", "changes_requested", "revised", "approved");
        assertThat(put(id, ApiKeyRole.SUBMIT, "{}", "\"2\"").statusCode()).isEqualTo(422);
    }

    @Test
    void theAuditTrailExportsAsJsonPagesJsonLinesAndCsv() {
        long a = api.createJob("noop");
        long b = api.createJob("noop");
        post(a, "request-changes", "{\"comment\":\"=HYPERLINK(\\\"x\\\"), \\\"quoted\\\"\\nnext line\"}", null);
        post(b, "reject", "{\"reason\":\"no\"}", null);

        var page = api.get("/api/v3/reviews?job_id=" + a, ApiKeyRole.READ);
        assertThat(page.statusCode()).isEqualTo(200);
        assertThat(json(page).get("reviews")).hasSize(1);
        long next = json(page).get("next_since").asLong();
        assertThat(page.headers().firstValue("Gaffer-Next-Since")).contains(Long.toString(next));
        assertThat(json(api.get("/api/v3/reviews?job_id=" + a + "&since=" + next, ApiKeyRole.READ))
                        .get("reviews"))
                .isEmpty();

        var lines = api.get("/api/v3/reviews?format=jsonl&job_id=" + a, ApiKeyRole.READ);
        assertThat(lines.headers().firstValue("Content-Type").orElse("")).startsWith("application/jsonl");
        assertThat(lines.body().split("\n")).hasSize(1);
        assertThat(TestApi.parse(lines.body().strip()).get("comment").asText())
                .isEqualTo("=HYPERLINK(\"x\"), \"quoted\"\nnext line");

        var csv = api.get("/api/v3/reviews?format=csv&job_id=" + b, ApiKeyRole.READ);
        assertThat(csv.headers().firstValue("Content-Type").orElse("")).startsWith("text/csv");
        String[] rows = csv.body().split("\r\n");
        assertThat(rows[0])
                .isEqualTo("id,job_id,job_type,gate,revision,decision,reviewer,requested_by,comment,decided_at");
        assertThat(rows[1]).contains("," + b + ",noop,plan,1,rejected,approve-key,submit-key,no,");
        String risky = api.get("/api/v3/reviews?format=csv&job_id=" + a, ApiKeyRole.READ)
                .body();
        assertThat(risky).contains("\"'=HYPERLINK(\"\"x\"\"), \"\"quoted\"\"\nnext line\"");

        assertThat(api.get("/api/v3/reviews?format=xml", ApiKeyRole.READ).statusCode())
                .isEqualTo(422);
        assertThat(api.get("/api/v3/reviews?limit=0", ApiKeyRole.READ).statusCode())
                .isEqualTo(422);
        assertThat(api.get("/api/v3/reviews", null).statusCode()).isEqualTo(401);
    }

    @Test
    void onlyKeysThatMayDecideSeeWhatAwaitsReview() {
        assertThat(api.get("/api/v3/reviews/awaiting", ApiKeyRole.READ).statusCode())
                .isEqualTo(403);
        assertThat(api.get("/api/v3/reviews/awaiting", ApiKeyRole.SUBMIT).statusCode())
                .isEqualTo(403);
        long id = api.createJob("noop");
        assertThat(awaitingIds()).contains(id);
        post(id, "approve", null, null);
        assertThat(awaitingIds()).doesNotContain(id);
    }

    @Test
    void adminsSetReviewPoliciesAndFourEyesIsEnforced() {
        HttpResponse<String> asApprover = putPolicy("noop", ApiKeyRole.APPROVE, "{\"four_eyes\":true}");
        assertThat(asApprover.statusCode()).isEqualTo(403);
        for (String bad : List.of(
                "{\"four_eyes\":\"yes\"}",
                "{\"required_role\":\"read\"}",
                "{\"expires_after\":\"7 days\"}",
                "{\"expires_after\":\"0m\"}",
                "{\"expire_after\":\"7d\"}",
                "{\"quorum\":0}",
                "{\"quorum\":1.5}")) {
            var r = putPolicy("noop", ApiKeyRole.ADMIN, bad);
            assertThat(r.statusCode()).as(bad + " -> " + r.body()).isEqualTo(422);
        }
        assertThat(putPolicy("Bad!", ApiKeyRole.ADMIN, "{}").statusCode()).isEqualTo(422);
        assertThat(json(api.get("/api/v3/review-policies", ApiKeyRole.READ)).get("policies"))
                .isEmpty();

        var set = putPolicy("noop", ApiKeyRole.ADMIN, "{\"four_eyes\":true,\"expires_after\":\"7d\"}");
        assertThat(set.statusCode()).as(set.body()).isEqualTo(200);
        assertThat(json(set).get("expires_after").asText()).isEqualTo("7d");
        assertThat(json(set).get("updated_by").asText()).isEqualTo("admin-key");
        try {
            // A key with the approve role may also submit: its own job it may not approve.
            var created = api.post("/api/v3/jobs", ApiKeyRole.APPROVE, "{\"type\":\"noop\"}");
            long id = json(created).get("job_id").asLong();
            var own = post(id, "approve", null, null);
            assertThat(own.statusCode()).as(own.body()).isEqualTo(403);
            assertThat(json(own).get("detail").asText()).contains("four eyes");
            assertThat(status(id)).isEqualTo("pending");
            var other = api.send(api.request("/api/v3/jobs/" + id + "/approve", ApiKeyRole.ADMIN)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build());
            assertThat(other.statusCode()).as(other.body()).isEqualTo(200);
        } finally {
            var deleted = api.send(api.request("/api/v3/review-policies/noop", ApiKeyRole.ADMIN)
                    .DELETE()
                    .build());
            assertThat(deleted.statusCode()).isEqualTo(204);
        }
        assertThat(api.send(api.request("/api/v3/review-policies/noop", ApiKeyRole.ADMIN)
                                .DELETE()
                                .build())
                        .statusCode())
                .isEqualTo(404);
    }

    @Test
    void aPolicyIsSetPerGateThatTheJobTypeDeclares() {
        var scenes = putPolicy("video/scenes", ApiKeyRole.ADMIN, "{\"quorum\":2,\"required_role\":\"admin\"}");
        assertThat(scenes.statusCode()).as(scenes.body()).isEqualTo(200);
        assertThat(json(scenes).get("gate").asText()).isEqualTo("scenes");
        try {
            // The plan's policy is another row: still the defaults.
            assertThat(json(api.get("/api/v3/review-policies", ApiKeyRole.READ)).get("policies"))
                    .singleElement()
                    .satisfies(p -> assertThat(p.get("gate").asText()).isEqualTo("scenes"));
            var noExpiry = putPolicy("video/scenes", ApiKeyRole.ADMIN, "{\"on_expiry\":\"escalate\"}");
            assertThat(noExpiry.statusCode()).isEqualTo(422);
            assertThat(json(noExpiry).get("detail").asText()).contains("needs expires_after");
            assertThat(putPolicy("video/scenes", ApiKeyRole.ADMIN, "{\"on_expiry\":\"shrug\",\"expires_after\":\"1h\"}")
                            .statusCode())
                    .isEqualTo(422);
            var escalating = putPolicy(
                    "video/scenes", ApiKeyRole.ADMIN, "{\"on_expiry\":\"escalate\",\"expires_after\":\"2h\"}");
            assertThat(escalating.statusCode()).as(escalating.body()).isEqualTo(200);
            assertThat(json(escalating).get("on_expiry").asText()).isEqualTo("escalate");
            var undeclared = putPolicy("video/stitch", ApiKeyRole.ADMIN, "{}");
            assertThat(undeclared.statusCode()).isEqualTo(422);
            assertThat(json(undeclared).get("detail").asText()).contains("plan, scenes");
            assertThat(putPolicy("noop/scenes", ApiKeyRole.ADMIN, "{}").statusCode())
                    .isEqualTo(422);
            assertThat(putPolicy("video/Bad!", ApiKeyRole.ADMIN, "{}").statusCode())
                    .isEqualTo(422);
            assertThat(putPolicy("video/scenes", ApiKeyRole.APPROVE, "{}").statusCode())
                    .isEqualTo(403);
        } finally {
            assertThat(api.send(api.request("/api/v3/review-policies/video/scenes", ApiKeyRole.ADMIN)
                                    .DELETE()
                                    .build())
                            .statusCode())
                    .isEqualTo(204);
        }
        assertThat(api.send(api.request("/api/v3/review-policies/video/scenes", ApiKeyRole.ADMIN)
                                .DELETE()
                                .build())
                        .statusCode())
                .isEqualTo(404);
    }

    @Test
    void underAQuorumTheFirstApprovalIsRecordedAndTheJobWaitsForTheNext() {
        assertThat(putPolicy("noop", ApiKeyRole.ADMIN, "{\"quorum\":2}").statusCode())
                .isEqualTo(200);
        try {
            long id = api.createJob("noop");
            var first = post(id, "approve", null, null);
            assertThat(first.statusCode()).isEqualTo(200);
            assertThat(json(first).get("status").asText()).isEqualTo("pending");
            assertThat(json(first).get("message").asText()).contains("needs more approvals");
            assertThat(post(id, "approve", null, null).statusCode()).isEqualTo(403);
            var second = api.send(api.request("/api/v3/jobs/" + id + "/approve", ApiKeyRole.ADMIN)
                    .header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.noBody())
                    .build());
            assertThat(second.body())
                    .isEqualTo("{\"message\":\"Job approved successfully\",\"job_id\":" + id
                            + ",\"status\":\"approved\"}");
        } finally {
            api.send(api.request("/api/v3/review-policies/noop", ApiKeyRole.ADMIN)
                    .DELETE()
                    .build());
        }
    }

    private static HttpResponse<String> putPolicy(String type, ApiKeyRole as, String body) {
        return api.send(api.request("/api/v3/review-policies/" + type, as)
                .header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(body))
                .build());
    }

    private static List<Long> awaitingIds() {
        List<Long> ids = new ArrayList<>();
        String cursor = null;
        do {
            var r = api.get(
                    "/api/v3/reviews/awaiting?limit=2" + (cursor == null ? "" : "&cursor=" + cursor),
                    ApiKeyRole.APPROVE);
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            json(r).get("jobs").forEach(j -> ids.add(j.get("job_id").asLong()));
            JsonNode next = json(r).get("next_cursor");
            cursor = next == null || next.isNull() ? null : next.asText();
        } while (cursor != null);
        return ids;
    }
}
