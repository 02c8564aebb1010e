package dev.gaffer.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.sun.net.httpserver.HttpServer;
import dev.gaffer.api.ApiConfig;
import dev.gaffer.api.ApiServer;
import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.SubJob;
import dev.gaffer.testing.TestDatabase;
import dev.gaffer.worker.Outcome;
import dev.gaffer.worker.Worker;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** The REST client against a real API server over real HTTP, with an embedded worker running the jobs. */
class GafferClientTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("rest_client");

    static final ObjectMapper JSON = new ObjectMapper();
    static ApiServer api;
    static Worker worker;
    static String approveKey;
    static String readKey;
    static GafferClient gaffer;
    static final CountDownLatch releaseSlow = new CountDownLatch(1);
    static final AtomicInteger flakyRuns = new AtomicInteger();

    @TempDir
    Path dir;

    @BeforeAll
    static void start() {
        ApiKeyStore keys = new ApiKeyStore(db.dataSource());
        approveKey = keys.create("ops", ApiKeyRole.APPROVE).key();
        readKey = keys.create("viewer", ApiKeyRole.READ).key();
        api = new ApiServer(
                        db.database(),
                        new JobRequests(db.dataSource()),
                        new JobQueries(db.dataSource()),
                        keys,
                        ApiConfig.defaults().withJobTypes(java.util.Set.of("greet", "fanout", "slow", "flaky", "noop")))
                .start(0);
        ArtifactStore artifacts = new ArtifactStore(db.dataSource(), ArtifactStore.DEFAULT_MAX_BYTES);
        worker = Worker.builder(db.dataSource())
                .name("rest-client-test")
                .concurrency(8)
                .polling(Duration.ofMillis(200), true)
                .handler("greet", ctx -> {
                    ctx.progress(50, "greeting");
                    Path file = Files.writeString(
                            Files.createTempFile("greeting", ".txt"),
                            "hello " + ctx.parameters().path("name").asText());
                    artifacts.put(ctx.job().lease(), "greeting.txt", "text/plain", file);
                    return Outcome.complete(JsonNodeFactory.instance
                            .objectNode()
                            .put("greeted", ctx.parameters().path("name").asText()));
                })
                .handler(
                        "fanout",
                        ctx -> "merge".equals(ctx.stage())
                                ? Outcome.complete(JsonNodeFactory.instance
                                        .objectNode()
                                        .put("children", ctx.subJobs().size()))
                                : Outcome.waitFor(
                                        List.of(SubJob.of("noop", null), SubJob.of("noop", null)), "children", "merge"))
                .handler("noop", ctx -> Outcome.complete(null))
                .handler("slow", ctx -> {
                    releaseSlow.await(60, TimeUnit.SECONDS);
                    return Outcome.complete(null);
                })
                .handler(
                        "flaky",
                        ctx -> flakyRuns.incrementAndGet() == 1
                                ? Outcome.fail("the first run always breaks")
                                : Outcome.complete(null))
                .start();
        gaffer = client(approveKey);
    }

    @AfterAll
    static void stop() {
        releaseSlow.countDown();
        worker.close();
        api.stop();
    }

    static GafferClient client(String key) {
        return GafferClient.builder(URI.create("http://127.0.0.1:" + api.port()))
                .apiKey(key)
                .timeout(Duration.ofSeconds(20))
                .build();
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Test
    void createApproveAndWatchAJobToItsEndWithEveryEventInOrder() throws Exception {
        JobInfo created = gaffer.create(
                JobRequest.of("greet", json("{\"name\":\"ada\"}")).withStoryboard(json("{\"plan\":\"say hello\"}")));
        assertThat(created.status()).isEqualTo(JobStatus.PENDING);
        assertThat(created.storyboard().path("plan").asText()).isEqualTo("say hello");

        List<JobEventInfo> seen = new CopyOnWriteArrayList<>();
        var watching = gaffer.watch(created.jobId(), seen::add);
        assertThat(gaffer.approve(created.jobId())).isEqualTo(JobStatus.APPROVED);
        JobInfo done = watching.get(30, TimeUnit.SECONDS);

        assertThat(done.status()).isEqualTo(JobStatus.COMPLETED);
        assertThat(done.result().path("greeted").asText()).isEqualTo("ada");
        assertThat(done.approvedBy()).isEqualTo("ops");
        assertThat(seen).extracting(JobEventInfo::kind).containsSubsequence("created", "approved", "completed");
        assertThat(seen).extracting(JobEventInfo::id).isSorted().doesNotHaveDuplicates();
        assertThat(gaffer.events(created.jobId(), 0).events())
                .extracting(JobEventInfo::id)
                .containsExactlyElementsOf(seen.stream().map(JobEventInfo::id).toList());

        assertThat(gaffer.artifacts(created.jobId()))
                .extracting(ArtifactInfo::name)
                .containsExactly("greeting.txt");
        Path file = gaffer.download(created.jobId(), "greeting.txt", dir.resolve("g.txt"));
        assertThat(Files.readString(file)).isEqualTo("hello ada");
        // A finished job's watch completes at once.
        assertThat(gaffer.watch(created.jobId()).get(10, TimeUnit.SECONDS).status())
                .isEqualTo(JobStatus.COMPLETED);
    }

    @Test
    void listsWithFiltersAndCursorsSubJobsCancelAndRetry() throws Exception {
        List<Long> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            ids.add(gaffer.create(JobRequest.of("slow", null).withQueue("listing"))
                    .jobId());
        }
        List<Long> paged = new ArrayList<>();
        String cursor = null;
        do {
            JobPage page = gaffer.list(JobFilter.ALL.withQueue("listing").withStatus(JobStatus.PENDING), cursor, 2);
            assertThat(page.jobs()).hasSizeLessThanOrEqualTo(2);
            page.jobs().forEach(j -> paged.add(j.jobId()));
            cursor = page.nextCursor();
        } while (cursor != null);
        assertThat(paged).containsExactlyInAnyOrderElementsOf(ids).doesNotHaveDuplicates();

        JobInfo cancelled = gaffer.cancel(ids.getFirst());
        assertThat(cancelled.status()).isEqualTo(JobStatus.CANCELLED);
        assertThat(gaffer.retry(ids.getFirst()).status()).isEqualTo(JobStatus.APPROVED);
        ids.forEach(id -> gaffer.cancel(id));

        JobInfo parent = gaffer.create(JobRequest.of("fanout", null));
        gaffer.approve(parent.jobId());
        JobInfo merged = gaffer.watch(parent.jobId()).get(30, TimeUnit.SECONDS);
        assertThat(merged.result().path("children").asInt()).isEqualTo(2);
        assertThat(merged.subjobs().total()).isEqualTo(2);
        assertThat(gaffer.subJobs(parent.jobId()))
                .hasSize(2)
                .allSatisfy(c -> assertThat(c.parentId()).isEqualTo(parent.jobId()));

        JobInfo flaky = gaffer.create(JobRequest.of("flaky", null).withMaxAttempts(1));
        gaffer.approve(flaky.jobId());
        JobInfo failed = gaffer.watch(flaky.jobId()).get(30, TimeUnit.SECONDS);
        assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.lastError()).contains("always breaks");
        gaffer.retry(flaky.jobId());
        assertThat(gaffer.watch(flaky.jobId()).get(30, TimeUnit.SECONDS).status())
                .isEqualTo(JobStatus.COMPLETED);
    }

    @Test
    void anIdempotentCreateAnswersWithTheFirstJob() {
        JobRequest r = JobRequest.of("noop", json("{\"n\":1}")).withIdempotencyKey("rest-order-1");
        JobInfo first = gaffer.create(r);
        JobInfo again = gaffer.create(r);
        assertThat(again.jobId()).isEqualTo(first.jobId());
        assertThatThrownBy(() ->
                        gaffer.create(JobRequest.of("noop", json("{\"n\":2}")).withIdempotencyKey("rest-order-1")))
                .isInstanceOf(GafferException.Invalid.class)
                .satisfies(e -> assertThat(((GafferException) e).field()).isEqualTo("Idempotency-Key"));
    }

    @Test
    void refusalsBecomeTypedExceptions() {
        assertThatThrownBy(() -> gaffer.get(987_654_321))
                .isInstanceOf(GafferException.NotFound.class)
                .satisfies(e -> assertThat(((GafferException) e).status()).isEqualTo(404));
        assertThatThrownBy(() -> gaffer.create(JobRequest.of("unheard-of", null)))
                .isInstanceOf(GafferException.Invalid.class)
                .satisfies(e -> assertThat(((GafferException) e).field()).isEqualTo("type"))
                .hasMessageContaining("unknown job type");
        JobInfo job = gaffer.create(JobRequest.of("noop", null));
        gaffer.approve(job.jobId());
        assertThatThrownBy(() -> gaffer.approve(job.jobId()))
                .isInstanceOf(GafferException.Invalid.class)
                .hasMessageContaining("only a pending job can be approved");
        assertThatThrownBy(() -> client(readKey).approve(job.jobId()))
                .isInstanceOf(GafferException.Denied.class)
                .satisfies(e -> assertThat(((GafferException) e).status()).isEqualTo(403));
        assertThatThrownBy(() -> client("gfr_not-a-key").get(job.jobId()))
                .isInstanceOf(GafferException.Denied.class)
                .satisfies(e -> assertThat(((GafferException) e).status()).isEqualTo(401));
        assertThatThrownBy(() -> gaffer.create(JobRequest.of("noop", null).approvedBy("me")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Jobs.insert");
        assertThatThrownBy(() -> client(readKey).watch(987_654_321).get(10, TimeUnit.SECONDS))
                .hasCauseInstanceOf(GafferException.NotFound.class);
    }

    @Test
    void aRequestTheApiRefusesIsRefusedByJobRequestWithTheSameWords() throws Exception {
        var raw = java.net.http.HttpClient.newHttpClient()
                .send(
                        java.net.http.HttpRequest.newBuilder(
                                        URI.create("http://127.0.0.1:" + api.port() + "/api/v3/jobs"))
                                .header("Authorization", "Bearer " + approveKey)
                                .header("Content-Type", "application/json")
                                .POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                        "{\"type\":\"noop\",\"parameters\":{\"timeout_ms\":0}}"))
                                .build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
        assertThat(raw.statusCode()).isEqualTo(422);
        String apiDetail = JSON.readTree(raw.body()).path("detail").asText();
        assertThatThrownBy(() -> JobRequest.of("noop", json("{\"timeout_ms\":0}")))
                .isInstanceOf(dev.gaffer.job.InvalidJobException.class)
                .hasMessage(apiDetail);
    }

    @Test
    void aWatchResumesAcrossARestartOfTheApiWithoutMissingOrRepeatingAnEvent() throws Exception {
        JobInfo job = gaffer.create(JobRequest.of("noop", null));
        int port = api.port();
        List<JobEventInfo> seen = new CopyOnWriteArrayList<>();
        GafferClient fixed = GafferClient.builder(URI.create("http://127.0.0.1:" + port))
                .apiKey(approveKey)
                .build();
        var watching = fixed.watch(job.jobId(), seen::add);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (seen.isEmpty()) {
            assertThat(System.nanoTime()).as("first event").isLessThan(deadline);
            Thread.sleep(20);
        }
        ApiServer second = null;
        {
            api.stop();
            try {
                // While the API is away the job moves on; the watch must catch up from its last event.
                new JobRequests(db.dataSource()).approve(job.jobId(), "offline");
                Thread.sleep(500);
                second = new ApiServer(
                                db.database(),
                                new JobRequests(db.dataSource()),
                                new JobQueries(db.dataSource()),
                                new ApiKeyStore(db.dataSource()),
                                ApiConfig.defaults()
                                        .withJobTypes(java.util.Set.of("greet", "fanout", "slow", "flaky", "noop")))
                        .start(port);
                JobInfo done = watching.get(30, TimeUnit.SECONDS);
                assertThat(done.status()).isEqualTo(JobStatus.COMPLETED);
                assertThat(seen).extracting(JobEventInfo::kind).containsSubsequence("created", "approved", "completed");
                assertThat(new HashSet<>(seen.stream().map(JobEventInfo::id).toList()))
                        .hasSize(seen.size());
                assertThat(seen).extracting(JobEventInfo::id).isSorted();
            } finally {
                api = second != null ? second : api;
            }
        }
    }

    @Test
    void repeatableCallsAreRetriedOn503AndOthersAreNot() throws Exception {
        AtomicInteger gets = new AtomicInteger();
        AtomicInteger posts = new AtomicInteger();
        HttpServer flaky = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        flaky.createContext("/api/v3/jobs/5", x -> {
            boolean ok = gets.incrementAndGet() > 2;
            byte[] body = (ok
                            ? "{\"job_id\":5,\"type\":\"noop\",\"status\":\"pending\",\"progress_percentage\":0}"
                            : "{\"type\":\"about:blank\",\"title\":\"Service Unavailable\",\"status\":503,\"detail\":\"database down\"}")
                    .getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().add("Content-Type", ok ? "application/json" : "application/problem+json");
            x.sendResponseHeaders(ok ? 200 : 503, body.length);
            try (OutputStream out = x.getResponseBody()) {
                out.write(body);
            }
        });
        flaky.createContext("/api/v3/jobs/6/approve", x -> {
            posts.incrementAndGet();
            x.sendResponseHeaders(503, -1);
            x.close();
        });
        flaky.start();
        try {
            GafferClient c = GafferClient.builder(
                            URI.create("http://127.0.0.1:" + flaky.getAddress().getPort()))
                    .attempts(4)
                    .build();
            assertThat(c.get(5).status()).isEqualTo(JobStatus.PENDING);
            assertThat(gets).hasValue(3);
            assertThatThrownBy(() -> c.approve(6)).isInstanceOf(GafferException.Unavailable.class);
            assertThat(posts).as("approve is sent once").hasValue(1);
        } finally {
            flaky.stop(0);
        }
        GafferClient nowhere = GafferClient.builder(URI.create("http://127.0.0.1:1"))
                .attempts(2)
                .build();
        assertThatThrownBy(() -> nowhere.get(1))
                .isInstanceOf(GafferException.Unavailable.class)
                .hasMessageContaining("cannot reach the API")
                .hasMessageContaining("2 attempts");
    }
}
