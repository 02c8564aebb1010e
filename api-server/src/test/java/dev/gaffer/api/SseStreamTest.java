package dev.gaffer.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobEvent;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.Lease;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SseStreamTest {

    static TestApi api;

    @BeforeAll
    static void start() {
        api = new TestApi("api_sse");
    }

    @AfterAll
    static void stop() {
        api.close();
    }

    record Sse(long id, JsonNode data) {
        String kind() {
            return data.get("kind").asText();
        }
    }

    /** An open SSE connection whose events a background thread collects. */
    static final class Stream implements AutoCloseable {
        final BlockingQueue<Sse> events = new LinkedBlockingQueue<>();
        final HttpResponse<InputStream> response;
        final Thread reader;

        Stream(String path, String lastEventId) throws Exception {
            var b = api.request(path, ApiKeyRole.READ).header("Accept", "text/event-stream");
            if (lastEventId != null) {
                b.header("Last-Event-ID", lastEventId);
            }
            response = api.http.send(b.GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            reader = Thread.ofVirtual().start(this::read);
        }

        private void read() {
            try (var in = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                long id = -1;
                String line;
                while ((line = in.readLine()) != null) {
                    if (line.startsWith("id: ")) {
                        id = Long.parseLong(line.substring(4));
                    } else if (line.startsWith("data: ")) {
                        events.add(new Sse(id, JsonSupport.MAPPER.readTree(line.substring(6))));
                    }
                }
            } catch (IOException e) {
                // closed by the test
            }
        }

        List<Sse> take(int n) throws InterruptedException {
            return take(n, 10_000);
        }

        List<Sse> take(int n, long waitMillis) throws InterruptedException {
            List<Sse> got = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(waitMillis);
            while (got.size() < n && System.nanoTime() < deadline) {
                Sse e = events.poll(100, TimeUnit.MILLISECONDS);
                if (e != null) {
                    got.add(e);
                }
            }
            return got;
        }

        @Override
        public void close() throws IOException {
            response.body().close();
        }
    }

    @Test
    void aJobStreamEndsAfterTheEventThatFinishedTheJob() throws Exception {
        api.fixtures.cancelUnfinished();
        long id = api.createJob("noop");
        api.post("/api/v3/jobs/" + id + "/approve", ApiKeyRole.APPROVE, null);
        try (Stream s = new Stream("/api/v3/jobs/" + id + "/stream", null)) {
            assertThat(s.take(2)).extracting(Sse::kind).containsExactly("created", "approved");
            Job claimed =
                    api.leases.claim("w/sse", List.of("default"), 1, List.of()).getFirst();
            api.outcomes.complete(claimed.lease(), null);
            // The claim writes no event; the completion (not announced by NOTIFY) comes with the hub's timer.
            List<Sse> done = s.take(1);
            assertThat(done).extracting(Sse::kind).containsExactly("completed");
            assertThat(done.getFirst().data().get("worker_id").asText()).isEqualTo("w/sse");
            assertThat(done.getFirst().data().get("attempt_started_at").asText())
                    .isNotBlank();
            s.reader.join(10_000);
            assertThat(s.reader.isAlive()).as("the stream ended").isFalse();
        }
        // A new stream of the finished job: its history, then the end.
        try (Stream s = new Stream("/api/v3/jobs/" + id + "/stream", null)) {
            s.reader.join(10_000);
            assertThat(s.reader.isAlive()).isFalse();
            assertThat(s.take(3, 1_000)).extracting(Sse::kind).containsExactly("created", "approved", "completed");
        }
        // Coming back for more once it has everything: 204, which stops an EventSource.
        long last = api.queries.events(id, 0, 100).getLast().id();
        try (Stream s = new Stream("/api/v3/jobs/" + id + "/stream", Long.toString(last))) {
            assertThat(s.response.statusCode()).isEqualTo(204);
        }
    }

    @Test
    void aRetriedJobsStreamGoesOnPastItsFailure() throws Exception {
        long id = api.createJob("noop");
        api.post("/api/v3/jobs/" + id + "/cancel", ApiKeyRole.APPROVE, null);
        long cancelledAt = api.queries.events(id, 0, 100).getLast().id();
        api.post("/api/v3/jobs/" + id + "/retry", ApiKeyRole.APPROVE, null);
        // From the cancellation on: the retry follows, and the stream stays open for what comes next.
        try (Stream s = new Stream("/api/v3/jobs/" + id + "/stream", Long.toString(cancelledAt - 1))) {
            assertThat(s.take(2)).extracting(Sse::kind).containsExactly("cancelled", "retried");
            Thread.sleep(300);
            assertThat(s.reader.isAlive()).isTrue();
        }
    }

    @Test
    void jobStreamDeliversHistoryThenLiveProgressInOrderAndResumesAfterReconnect() throws Exception {
        long id = api.createJob("video");
        api.post("/api/v3/jobs/" + id + "/approve", ApiKeyRole.APPROVE, null);
        List<Sse> firstSession = new ArrayList<>();
        Lease lease;
        try (Stream s = new Stream("/api/v3/jobs/" + id + "/stream", null)) {
            assertThat(s.response.statusCode()).isEqualTo(200);
            assertThat(s.response.headers().firstValue("Content-Type").orElseThrow())
                    .startsWith("text/event-stream");
            firstSession.addAll(s.take(2));
            Job claimed =
                    api.leases.claim("w/sse", List.of("default"), 1, List.of()).getFirst();
            assertThat(claimed.id()).isEqualTo(id);
            lease = claimed.lease();
            api.leases.progress(lease, 10, "storyboard");
            api.leases.progress(lease, 50, "render");
            firstSession.addAll(s.take(2));
        }
        assertThat(firstSession).extracting(Sse::kind).containsExactly("created", "approved", "progress", "progress");
        assertThat(firstSession.get(3).data().get("progress_percentage").asInt())
                .isEqualTo(50);
        assertThat(firstSession.get(3).data().get("stage").asText()).isEqualTo("render");

        // Changes while the client is away.
        api.leases.progress(lease, 80, "stitch");
        api.outcomes.complete(lease, JobFixtures.json("{\"url\":\"s3://out.mp4\"}"));

        long lastSeen = firstSession.getLast().id();
        List<Sse> secondSession;
        try (Stream s = new Stream("/api/v3/jobs/" + id + "/stream", Long.toString(lastSeen))) {
            secondSession = s.take(2);
            // Longer than the hub's fallback tick, so a stray live duplicate would have arrived.
            assertThat(s.take(1, 1_500)).as("nothing repeated or extra").isEmpty();
        }
        assertThat(secondSession).extracting(Sse::kind).containsExactly("progress", "completed");

        List<Sse> all = new ArrayList<>(firstSession);
        all.addAll(secondSession);
        assertThat(all).extracting(Sse::id).isSorted().doesNotHaveDuplicates();
        assertThat(all)
                .extracting(Sse::id)
                .containsExactlyElementsOf(api.queries.events(id, 0, 100).stream()
                        .map(JobEvent::id)
                        .toList());
        assertThat(all.getLast().data().get("status").asText()).isEqualTo("completed");
    }

    @Test
    void allEventsStreamStartsAtNowAndResumesWithSince() throws Exception {
        long before = api.queries.lastEventId();
        try (Stream s = new Stream("/api/v3/events", null)) {
            long a = api.createJob("noop");
            long b = api.createJob("noop");
            List<Sse> got = s.take(2);
            assertThat(got).extracting(e -> e.data().get("job_id").asLong()).containsExactly(a, b);
            assertThat(got).extracting(Sse::kind).containsExactly("created", "created");
        }
        try (Stream s = new Stream("/api/v3/events?since=" + before, null)) {
            List<Sse> got = s.take(2);
            assertThat(got).extracting(Sse::kind).containsExactly("created", "created");
            assertThat(got.getFirst().id()).isGreaterThan(before);
        }
    }

    @Test
    void reviewDecisionsAreLiveEventsAndNotifyHints() throws Exception {
        try (java.sql.Connection listen = api.db.connection();
                java.sql.Statement st = listen.createStatement();
                Stream s = new Stream("/api/v3/events", null)) {
            st.execute("LISTEN " + dev.gaffer.job.JobHistory.EVENTS_CHANNEL);
            long id = api.createJob("noop");
            assertThat(s.take(1)).extracting(Sse::kind).containsExactly("created");
            var asked = api.post(
                    "/api/v3/jobs/" + id + "/request-changes", ApiKeyRole.APPROVE, "{\"comment\":\"shorter\"}");
            assertThat(asked.statusCode()).isEqualTo(200);
            List<Sse> changes = s.take(1);
            assertThat(changes).extracting(Sse::kind).containsExactly("changes_requested");
            assertThat(changes.getFirst().data().get("message").asText()).isEqualTo("shorter");
            assertThat(changes.getFirst().data().get("actor").asText()).isEqualTo("approve-key");
            var rejected = api.post("/api/v3/jobs/" + id + "/reject", ApiKeyRole.APPROVE, "{\"reason\":\"no budget\"}");
            assertThat(rejected.statusCode()).isEqualTo(200);
            assertThat(s.take(1)).extracting(Sse::kind).containsExactly("rejected");

            List<String> hints = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            var pg = listen.unwrap(org.postgresql.PGConnection.class);
            while (hints.stream().noneMatch(h -> h.contains("\"rejected\"")) && System.nanoTime() < deadline) {
                var got = pg.getNotifications(200);
                if (got != null) {
                    for (var n : got) {
                        hints.add(n.getParameter());
                    }
                }
            }
            assertThat(hints)
                    .anyMatch(h -> h.contains("\"changes_requested\"") && h.contains("\"id\":" + id))
                    .anyMatch(h -> h.contains("\"rejected\"") && h.contains("\"id\":" + id));
        }
    }

    @Test
    void aJobThatStopsAtAGateIsALiveEventAndANotifyHint() throws Exception {
        try (java.sql.Connection listen = api.db.connection();
                java.sql.Statement st = listen.createStatement();
                Stream s = new Stream("/api/v3/events", null)) {
            st.execute("LISTEN " + dev.gaffer.job.JobHistory.EVENTS_CHANNEL);
            long id = api.createJob("noop");
            assertThat(api.post("/api/v3/jobs/" + id + "/approve", ApiKeyRole.APPROVE, null)
                            .statusCode())
                    .isEqualTo(200);
            assertThat(s.take(2)).extracting(Sse::kind).containsExactly("created", "approved");
            var claimed = api.leases.claim("w/sse", List.of("default"), 10, List.of()).stream()
                    .filter(j -> j.id() == id)
                    .findFirst()
                    .orElseThrow();
            api.outcomes.awaitReview(claimed.lease(), false, "check", "checked", null, null);
            List<Sse> gate = s.take(1);
            assertThat(gate).extracting(Sse::kind).containsExactly("awaiting_review");
            assertThat(gate.getFirst().data().get("status").asText()).isEqualTo("pending");
            assertThat(gate.getFirst().data().get("message").asText()).contains("gate check");

            List<String> hints = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            var pg = listen.unwrap(org.postgresql.PGConnection.class);
            while (hints.stream().noneMatch(h -> h.contains("\"awaiting_review\"")) && System.nanoTime() < deadline) {
                var got = pg.getNotifications(200);
                if (got != null) {
                    for (var n : got) {
                        hints.add(n.getParameter());
                    }
                }
            }
            assertThat(hints).anyMatch(h -> h.contains("\"awaiting_review\"") && h.contains("\"id\":" + id));
            api.fixtures.cancelUnfinished();
        }
    }

    @Test
    void streamOfAMissingJobIs404AndNeedsAKey() {
        assertThat(api.get("/api/v3/jobs/31337/stream", ApiKeyRole.READ).statusCode())
                .isEqualTo(404);
        assertThat(api.get("/api/v3/events", null).statusCode()).isEqualTo(401);
    }

    @Test
    void hubStepsOverAHoleOnlyAfterItHasWaited() {
        // A rolled-back insert leaves a permanent hole in job_events ids.
        long id = api.createJob("noop");
        api.fixtures.exec("""
                DO $$ BEGIN
                  INSERT INTO job_events (job_id, kind, status, attempt) VALUES (%d, 'progress', 'pending', 0);
                  RAISE EXCEPTION 'roll back';
                EXCEPTION WHEN raise_exception THEN NULL; END $$""".formatted(id));
        SseHub hub = new SseHub(api.queries);
        var sub = hub.subscribe(null, null);
        api.post("/api/v3/jobs/" + id + "/cancel", ApiKeyRole.APPROVE, null);
        SseHub.Tick first = hub.runOnce();
        assertThat(first.waitingAtGap()).isTrue();
        assertThat(first.delivered()).isZero();
        long deadline = System.nanoTime() + SseHub.GAP_WAIT.toNanos() * 3;
        SseHub.Tick t = first;
        while (t.delivered() == 0 && System.nanoTime() < deadline) {
            t = hub.runOnce();
        }
        assertThat(t.delivered()).isEqualTo(1);
        assertThat(sub.client().buffer.poll().kind()).isEqualTo("cancelled");
        hub.close();
    }
}
