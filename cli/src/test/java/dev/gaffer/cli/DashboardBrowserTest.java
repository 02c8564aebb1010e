package dev.gaffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gaffer.api.ApiConfig;
import dev.gaffer.api.ApiServer;
import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.cli.HttpCalls.Reply;
import dev.gaffer.db.Database;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.testing.TestPostgres;
import dev.gaffer.video.Ffmpeg;
import dev.gaffer.video.VideoHandlers;
import dev.gaffer.worker.HandlerRegistry;
import dev.gaffer.worker.Worker;
import dev.gaffer.worker.WorkerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The dashboard in a real browser: Debian's headless Chromium, driven through its chromedriver
 * (nothing is downloaded), against the API on a random port with auth on, a real PostgreSQL and a
 * real worker. Screenshots go to target/screenshots/.
 */
class DashboardBrowserTest {

    static final String CHROMIUM = "/usr/bin/chromium";
    static final String CHROMEDRIVER = "/usr/bin/chromedriver";
    static final Duration WAIT = Duration.ofSeconds(30);
    static final Path SCREENSHOTS = Path.of("target", "screenshots");
    static final ObjectMapper JSON = new ObjectMapper();

    static Database db;
    static ApiServer server;
    static Worker worker;
    static ChromeDriver driver;
    static Path profile;
    static Path videoWork;
    static String approveKey;
    static String readKey;
    static String submitKey;
    static final HttpClient http = HttpClient.newBuilder()
            .connectTimeout(Duration.ofSeconds(5))
            .version(HttpClient.Version.HTTP_1_1)
            .build();

    @BeforeAll
    static void start() throws IOException {
        db = TestPostgres.freshDatabase("dashboard");
        ApiKeyStore keys = new ApiKeyStore(db.dataSource());
        approveKey = keys.create("operator", ApiKeyRole.APPROVE).key();
        readKey = keys.create("viewer", ApiKeyRole.READ).key();
        submitKey = keys.create("submitter", ApiKeyRole.SUBMIT).key();
        server = new ApiServer(
                        db,
                        new JobRequests(db.dataSource()),
                        new JobQueries(db.dataSource()),
                        keys,
                        ApiConfig.defaults().withAuth(true))
                .start(0);
        videoWork = Files.createTempDirectory("gaffer-dashboard-video-");
        HandlerRegistry handlers = VideoHandlers.register(
                HandlerRegistry.discover(),
                new ArtifactStore(db.dataSource(), ArtifactStore.DEFAULT_MAX_BYTES),
                Ffmpeg.locate(Map.of()),
                videoWork);
        worker = new Worker(WorkerConfig.defaults().withName("dashboard-worker").withConcurrency(4), db, handlers)
                .start();

        // Selenium Manager stays idle: the driver and the browser are the OS's.
        System.setProperty(ChromeDriverService.CHROME_DRIVER_EXE_PROPERTY, CHROMEDRIVER);
        profile = Files.createTempDirectory("gaffer-chromium-");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM);
        options.addArguments(
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--user-data-dir=" + profile,
                "--window-size=1280,900");
        driver = new ChromeDriver(options);
        Files.createDirectories(SCREENSHOTS);
    }

    @AfterAll
    static void stop() throws IOException {
        if (driver != null) {
            driver.quit();
        }
        if (worker != null) {
            worker.shutdown(Duration.ofSeconds(5));
        }
        if (server != null) {
            server.stop();
        }
        if (db != null) {
            db.close();
        }
        for (Path dir : new Path[] {profile, videoWork}) {
            if (dir != null) {
                try (var files = Files.walk(dir)) {
                    files.sorted(Comparator.reverseOrder())
                            .forEach(p -> p.toFile().delete());
                }
            }
        }
    }

    @Test
    void theOperatorApprovesAPendingJobAndWatchsItsProgressArriveBySse() throws Exception {
        // A fresh browser has no key: the page asks for one, and keeps it.
        driver.get(base() + "/");
        js("localStorage.clear()");
        driver.navigate().refresh();
        WebElement keyInput = visible(By.id("key-input"));
        assertThat(driver.findElement(By.id("key-view")).isDisplayed()).isTrue();
        keyInput.sendKeys(approveKey);
        driver.findElement(By.id("key-submit")).click();
        waitFor(d -> d.findElement(By.id("who")).getText().contains("operator (approve)"));
        assertThat((String) js("return localStorage.getItem('gaffer.apiKey')")).isEqualTo(approveKey);
        waitFor(d -> "true".equals(d.findElement(By.id("live")).getAttribute("data-live")));

        driver.get(base() + "/#/jobs");
        waitFor(d -> d.findElement(By.id("jobs-view")).isDisplayed());
        waitFor(d -> "true".equals(d.findElement(By.id("live")).getAttribute("data-live")));

        long id = createJob("sleep", "{\"ms\": 3000}");
        String row = "#jobs-body tr[data-job-id='" + id + "']";
        WebElement pendingRow = visible(By.cssSelector(row));
        assertThat(pendingRow.getAttribute("data-status")).isEqualTo("pending");
        assertThat(pendingRow.getAttribute("class")).contains("job-pending");
        assertThat(pendingRow.findElement(By.cssSelector(".status")).getText()).isEqualTo("pending");

        pendingRow.findElement(By.cssSelector("button[data-action='approve']")).click();

        // Sample the bar while the worker sleeps: values the page took from SSE events.
        Set<Integer> seen = new TreeSet<>();
        boolean[] shot = {false};
        new WebDriverWait(driver, WAIT, Duration.ofMillis(40))
                .ignoring(StaleElementReferenceException.class)
                .until(d -> {
                    @SuppressWarnings("unchecked")
                    List<String> s = (List<String>) js(
                            "const r = document.querySelector(arguments[0]);"
                                    + " if (!r) return null; const b = r.querySelector('.progress');"
                                    + " return [r.dataset.status, b.dataset.progress, b.dataset.source || ''];",
                            row);
                    if (s == null) {
                        return false;
                    }
                    int p = Integer.parseInt(s.get(1));
                    if ("sse".equals(s.get(2))) {
                        seen.add(p);
                    }
                    if (p > 0 && p < 100 && !shot[0]) {
                        shot[0] = true;
                        screenshot("jobs-running-desktop");
                    }
                    return "completed".equals(s.get(0)) && p == 100;
                });
        assertThat(seen)
                .as("progress values delivered by SSE")
                .anySatisfy(p -> assertThat(p).isStrictlyBetween(0, 100))
                .contains(100);
        WebElement doneRow = driver.findElement(By.cssSelector(row));
        assertThat(doneRow.getAttribute("class")).doesNotContain("job-pending");
        assertThat(doneRow.findElements(By.cssSelector("button[data-action='approve']")))
                .isEmpty();
        screenshot("jobs-desktop");

        // The detail: the history as a timeline, the result, no buttons left to press but none
        // for a finished job.
        doneRow.findElement(By.cssSelector("a.job-link")).click();
        waitFor(d -> d.findElement(By.id("job-view")).isDisplayed());
        waitFor(d -> d.findElements(By.cssSelector("#job-timeline li[data-kind='completed']"))
                        .size()
                == 1);
        List<String> kinds = driver.findElements(By.cssSelector("#job-timeline li")).stream()
                .map(e -> e.getAttribute("data-kind"))
                .toList();
        assertThat(kinds).contains("created", "approved", "progress", "completed");
        assertThat(kinds.indexOf("created")).isLessThan(kinds.indexOf("approved"));
        assertThat(kinds.indexOf("approved")).isLessThan(kinds.indexOf("progress"));
        assertThat(kinds.getLast()).isEqualTo("completed");
        assertThat(driver.findElement(By.id("job-status")).getText()).isEqualTo("completed");
        assertThat(driver.findElement(By.id("job-result")).getText()).contains("\"slept_ms\": 3000");
        assertThat(driver.findElement(By.id("job-parameters")).getText()).contains("ms", "3000");
        assertThat(driver.findElement(By.id("action-approve")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("action-cancel")).isDisplayed()).isFalse();
        screenshot("job-detail-desktop");

        driver.get(base() + "/#/");
        waitFor(d -> d.findElements(By.cssSelector("#workers-table tr[data-worker-id]"))
                        .size()
                == 1);
        waitFor(d -> d.findElements(By.cssSelector("#throughput-chart rect.completed"))
                        .size()
                >= 1);
        // The other tests share the database: the page must agree with the API, whatever ran first.
        long completed = apiGet("/api/v3/stats").at("/by_status/completed").asLong();
        assertThat(completed).isPositive();
        assertThat(driver.findElement(By.cssSelector("#status-counts li[data-status='completed'] .n"))
                        .getText())
                .isEqualTo(String.valueOf(completed));
        assertThat(driver.findElement(By.cssSelector("#workers-table tbody")).getText())
                .contains("dashboard-worker");
        screenshot("overview-desktop");

        // Narrow: the same pages at a phone's width.
        driver.manage().window().setSize(new Dimension(400, 900));
        try {
            createJob("sleep", "{\"ms\": 1}");
            driver.get(base() + "/#/jobs");
            waitFor(d ->
                    !d.findElements(By.cssSelector("#jobs-body tr.job-pending")).isEmpty());
            assertNoHorizontalOverflowOfThePage();
            screenshot("jobs-narrow");
            driver.get(base() + "/#/jobs/" + id);
            waitFor(d -> d.findElements(By.cssSelector("#job-timeline li[data-kind='completed']"))
                            .size()
                    == 1);
            assertNoHorizontalOverflowOfThePage();
            screenshot("job-detail-narrow");
        } finally {
            driver.manage().window().setSize(new Dimension(1280, 900));
        }
    }

    @Test
    void withAuthOffThePageAsksForNoKey() {
        ApiServer dev = new ApiServer(
                        db,
                        new JobRequests(db.dataSource()),
                        new JobQueries(db.dataSource()),
                        new ApiKeyStore(db.dataSource()),
                        ApiConfig.defaults().withAuth(false))
                .start(0);
        try {
            // Another port is another origin: this browser has no key stored for it.
            driver.get("http://127.0.0.1:" + dev.port() + "/#/jobs");
            waitFor(d -> d.findElement(By.id("who")).getText().equals("dev (admin)"));
            waitFor(d -> d.findElement(By.id("jobs-view")).isDisplayed());
            assertThat(driver.findElement(By.id("key-view")).isDisplayed()).isFalse();
            assertThat((Object) js("return localStorage.getItem('gaffer.apiKey')"))
                    .isNull();
        } finally {
            dev.stop();
        }
    }

    @Test
    void aKeyWithRoleReadSeesNoApproveButton() throws Exception {
        useKey(readKey, "viewer (read)");
        long id = createJob("sleep", "{\"ms\": 1}");
        driver.get(base() + "/#/jobs?status=pending");
        String row = "#jobs-body tr[data-job-id='" + id + "']";
        WebElement pendingRow = visible(By.cssSelector(row));
        assertThat(pendingRow.getAttribute("class")).contains("job-pending");
        assertThat(pendingRow.findElements(By.cssSelector("button"))).isEmpty();

        driver.get(base() + "/#/jobs/" + id);
        waitFor(d -> "pending".equals(d.findElement(By.id("job-status")).getText()));
        assertThat(driver.findElement(By.id("job-pending-note")).isDisplayed()).isTrue();
        assertThat(driver.findElement(By.id("job-actions")).isDisplayed()).isFalse();
    }

    @Test
    void aRefusedActionShowsTheServersDetail() throws Exception {
        useKey(approveKey, "operator (approve)");
        js("location.hash = '#/jobs'");
        long id = createJob("sleep", "{\"ms\": 1}");
        // The row appears once the stream has brought the job's created event: nothing more
        // will come for it, so the detail below stays as it is first drawn.
        visible(By.cssSelector("#jobs-body tr[data-job-id='" + id + "'] a.job-link"))
                .click();
        waitFor(d -> d.findElement(By.id("action-approve")).isDisplayed());
        // Someone else settles the job behind the page's back, without an event the page could
        // see: the page still offers Approve, and the server refuses it.
        try (var c = db.dataSource().getConnection();
                var st = c.prepareStatement("UPDATE jobs SET status = 'cancelled', finished_at = now(),"
                        + " finished_event_id = nextval('job_events_id_seq') WHERE id = ?")) {
            st.setLong(1, id);
            assertThat(st.executeUpdate()).isEqualTo(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        driver.findElement(By.id("action-approve")).click();
        waitFor(d -> !d.findElement(By.id("action-error")).getText().isEmpty());
        assertThat(driver.findElement(By.id("action-error")).getText())
                .contains("job " + id + " is cancelled")
                .contains("only a pending job can be approved");
        screenshot("refused-action-desktop");
    }

    @Test
    void aReviewerAsksForChangesThenRejectsWithAReasonAndSeesTheDecisions() throws Exception {
        useKey(approveKey, "operator (approve)");
        long id = createJob("sleep", "{\"ms\": 1}");
        driver.get(base() + "/#/jobs/" + id);
        waitFor(d -> d.findElement(By.id("action-reject")).isDisplayed());
        assertThat(driver.findElement(By.id("job-review")).isDisplayed()).isTrue();

        // Without a comment the page says why it sends nothing, and the job stays pending.
        driver.findElement(By.id("action-reject")).click();
        waitFor(d -> !d.findElement(By.id("action-error")).getText().isEmpty());
        assertThat(driver.findElement(By.id("action-error")).getText()).contains("Say why");

        driver.findElement(By.id("review-comment")).sendKeys("Shorter, please <b>now</b>");
        driver.findElement(By.id("action-request-changes")).click();
        waitFor(d -> d.findElements(By.cssSelector("#job-reviews li[data-decision='changes_requested']"))
                        .size()
                == 1);
        assertThat(driver.findElement(By.id("job-status")).getText()).isEqualTo("pending");
        assertThat(driver.findElement(By.cssSelector("#job-reviews li[data-decision='changes_requested']"))
                        .getText())
                .contains("by operator")
                .contains("revision 1")
                .contains("Shorter, please <b>now</b>");

        // The submitter revises; the reviewer sees what the revision changed.
        HttpResponse<String> revised = http.send(
                HttpRequest.newBuilder(URI.create(base() + "/api/v3/jobs/" + id + "/storyboard"))
                        .timeout(Duration.ofSeconds(10))
                        .header("Authorization", "Bearer " + submitKey)
                        .header("Content-Type", "application/json")
                        .header("If-Match", "\"1\"")
                        .PUT(HttpRequest.BodyPublishers.ofString("{\"scenes\":[{\"caption\":\"<i>Card</i>\"}]}"))
                        .build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(revised.statusCode()).as(revised.body()).isEqualTo(200);
        driver.navigate().refresh();
        waitFor(d -> d.findElement(By.id("job-storyboard-diff")).isDisplayed());
        assertThat(driver.findElement(By.id("job-storyboard-diff")).getText())
                .contains("Changes from revision 1 to 2")
                .contains("scenes[0].caption")
                .contains("<i>Card</i>");
        assertThat(driver.findElements(By.cssSelector("#job-storyboard-diff i")))
                .isEmpty();

        driver.findElement(By.id("review-comment")).sendKeys("Not this quarter");
        driver.findElement(By.id("action-reject")).click();
        waitFor(d -> "rejected".equals(d.findElement(By.id("job-status")).getText()));
        waitFor(d -> d.findElements(By.cssSelector("#job-reviews li")).size() == 2);
        assertThat(driver.findElement(By.cssSelector("#job-reviews li[data-decision='rejected']"))
                        .getText())
                .contains("Not this quarter");
        assertThat(driver.findElement(By.id("action-reject")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("action-retry")).isDisplayed()).isFalse();
        assertThat(driver.findElement(By.id("job-review")).isDisplayed()).isFalse();
        screenshot("rejected-job-desktop");
    }

    @Test
    void aVideoJobShowsItsScenesAndSubJobsThenPlaysItsVideo() throws Exception {
        useKey(approveKey, "operator (approve)");
        // A caption with markup in it: the page must show it as text, not as HTML.
        long id = createJob("video", """
                {"width": 320, "height": 180, "fps": 25},
                 "storyboard": {"scenes": [
                   {"duration": 1, "background": "navy", "caption": "Opening"},
                   {"duration": 1, "background": "#2e8b57", "caption": "<b>bold</b> & <img src=x>"}]}""");
        driver.get(base() + "/#/jobs/" + id);
        waitFor(d -> d.findElements(By.cssSelector("#scenes-table tbody tr")).size() == 2);
        List<WebElement> scenes = driver.findElements(By.cssSelector("#scenes-table tbody tr"));
        assertThat(scenes.get(0).getText()).contains("1 s", "navy", "Opening");
        assertThat(scenes.get(1).getText()).contains("#2e8b57", "<b>bold</b> & <img src=x>");
        assertThat(driver.findElements(By.cssSelector("#scenes-table b, #scenes-table img")))
                .isEmpty();
        assertThat(driver.findElement(By.id("job-parameters")).getText()).contains("width", "320", "fps", "25");
        // Before anyone decides, a worker makes the preview: a frame per scene, shown as images.
        new WebDriverWait(driver, Duration.ofSeconds(60))
                .ignoring(StaleElementReferenceException.class)
                .until(d -> d.findElements(By.cssSelector("#job-preview img")).size() == 2);
        waitFor(d -> d.findElements(By.cssSelector("#job-preview img")).stream()
                .allMatch(img -> ((Number) js("return arguments[0].naturalWidth;", img)).intValue() == 160));
        assertThat(driver.findElement(By.id("job-preview")).getText()).contains("Opening", "<b>bold</b> & <img src=x>");
        assertThat(driver.findElement(By.id("job-preview-status")).getText()).contains("Revision 1");

        driver.findElement(By.id("action-approve")).click();
        new WebDriverWait(driver, Duration.ofSeconds(90))
                .ignoring(StaleElementReferenceException.class)
                .until(d ->
                        "completed".equals(d.findElement(By.id("job-status")).getText()));
        // The scene sub-jobs, each finished at 100%.
        waitFor(d -> d.findElements(By.cssSelector("#subjobs-body tr")).size() == 2);
        waitFor(d -> d.findElements(By.cssSelector("#subjobs-body tr")).stream()
                .allMatch(r -> "completed".equals(r.getAttribute("data-status"))
                        && "100"
                                .equals(r.findElement(By.cssSelector(".progress"))
                                        .getAttribute("data-progress"))));
        // The video, fetched with the key into a blob: a player and a download link.
        WebElement video = visible(By.cssSelector("#job-video video"));
        assertThat(video.getAttribute("src")).startsWith("blob:");
        WebElement download = driver.findElement(By.cssSelector("#job-video a.download"));
        assertThat(download.getAttribute("href")).isEqualTo(video.getAttribute("src"));
        assertThat(download.getAttribute("download")).endsWith(".mp4");
        // Chromium reads the file's metadata: it is a real video, not an error page.
        waitFor(d -> ((Number) js("return arguments[0].readyState;", video)).intValue() >= 1);
        assertThat(((Number) js("return arguments[0].duration;", video)).doubleValue())
                .isBetween(1.5, 2.5);
        List<String> kinds = driver.findElements(By.cssSelector("#job-timeline li")).stream()
                .map(e -> e.getAttribute("data-kind"))
                .toList();
        assertThat(kinds).containsSubsequence("created", "approved", "waiting", "resumed", "completed");
        screenshot("video-detail-desktop");
    }

    @Test
    void aReviewerPlaysTheClipsAtTheScenesGateAsksForChangesThenApproves() throws Exception {
        useKey(approveKey, "operator (approve)");
        long id = createJob("video", """
                {"width": 160, "height": 90, "fps": 25, "review": ["scenes"]},
                 "storyboard": {"scenes": [
                   {"duration": 0.6, "background": "navy", "caption": "Opening"},
                   {"duration": 0.6, "background": "testsrc", "caption": "<i>Second</i>"}]}""");
        driver.get(base() + "/#/jobs/" + id);
        waitFor(d -> d.findElement(By.id("action-approve")).isDisplayed());
        driver.findElement(By.id("action-approve")).click();

        // Rendered, the job stops at its gate: the page says so and lists the clips to look at.
        new WebDriverWait(driver, Duration.ofSeconds(90))
                .ignoring(StaleElementReferenceException.class)
                .until(d -> d.findElements(By.cssSelector("#job-gate li[data-scene]"))
                                .size()
                        == 2);
        assertThat(driver.findElement(By.id("job-pending-note")).getText()).contains("gate “scenes”");
        assertThat(driver.findElement(By.id("job-gate")).getText()).contains("revision 1", "Opening", "<i>Second</i>");
        assertThat(driver.findElements(By.cssSelector("#job-gate i"))).isEmpty();
        driver.findElement(By.cssSelector("#job-gate li[data-scene='0'] button"))
                .click();
        WebElement clip = visible(By.cssSelector("#job-gate li[data-scene='0'] video"));
        assertThat(clip.getAttribute("src")).startsWith("blob:");
        waitFor(d -> ((Number) js("return arguments[0].readyState;", clip)).intValue() >= 1);
        assertThat(((Number) js("return arguments[0].duration;", clip)).doubleValue())
                .isBetween(0.4, 0.8);
        screenshot("scenes-gate-desktop");

        driver.findElement(By.id("review-comment")).sendKeys("Opening is too dark");
        driver.findElement(By.id("action-request-changes")).click();
        // Rendered again, it stops again, at revision 2.
        new WebDriverWait(driver, Duration.ofSeconds(90))
                .ignoring(StaleElementReferenceException.class)
                .until(d -> d.findElement(By.id("job-gate-section")).isDisplayed()
                        && d.findElement(By.id("job-gate")).getText().contains("revision 2"));
        driver.findElement(By.id("action-approve")).click();
        new WebDriverWait(driver, Duration.ofSeconds(90))
                .ignoring(StaleElementReferenceException.class)
                .until(d ->
                        "completed".equals(d.findElement(By.id("job-status")).getText()));
        assertThat(driver.findElement(By.id("job-gate-section")).isDisplayed()).isFalse();
        waitFor(d -> d.findElements(By.cssSelector("#job-reviews li")).size() == 3);
        List<String> decisions = driver.findElements(By.cssSelector("#job-reviews li")).stream()
                .map(WebElement::getText)
                .toList();
        assertThat(decisions.get(1)).contains("gate scenes", "revision 1", "Opening is too dark");
        assertThat(decisions.get(2)).contains("gate scenes", "revision 2");
        assertNoHorizontalOverflowOfThePage();
    }

    @Test
    void anEditedVideoJobListsItsRevisionsAndPlaysTheFirstOnesVideo() throws Exception {
        useKey(approveKey, "operator (approve)");
        long id = createJob("video", """
                {"width": 160, "height": 90, "fps": 25},
                 "storyboard": {"scenes": [
                   {"duration": 0.4, "background": "navy", "caption": "Opening"},
                   {"duration": 0.4, "background": "#2e8b57", "caption": "Closing"}]}""");
        String job = "/api/v3/jobs/" + id;
        // Revision 1 runs; then its second scene is edited, which reopens the job at revision 2,
        // approved and run again: two videos, each kept.
        Reply first = HttpCalls.send(base(), approveKey, "POST", job + "/approve", "{}", "\"1\"");
        assertThat(first.status()).as("%s", first.body()).isEqualTo(200);
        HttpCalls.awaitJob(
                base(), readKey, id, j -> "completed".equals(j.path("status").asText()));
        Reply edited = HttpCalls.send(
                base(), submitKey, "PATCH", job + "/scenes/1", "{\"caption\": \"<i>Changed</i>\"}", "\"1\"");
        assertThat(edited.status()).as("%s", edited.body()).isEqualTo(200);
        assertThat(edited.body().at("/job/storyboard_revision").asInt()).isEqualTo(2);
        Reply second = HttpCalls.send(base(), approveKey, "POST", job + "/approve", "{}", "\"2\"");
        assertThat(second.status()).as("%s", second.body()).isEqualTo(200);
        HttpCalls.awaitJob(
                base(), readKey, id, j -> "completed".equals(j.path("status").asText()));
        JsonNode history = apiGet(job + "/revisions").path("revisions");
        String sha1 = history.get(1).at("/artifacts/0/sha256").asText();
        String sha2 = history.get(0).at("/artifacts/0/sha256").asText();
        assertThat(sha1).hasSize(64).isNotEqualTo(sha2);

        driver.get(base() + "/#/jobs/" + id);
        waitFor(d -> d.findElements(By.cssSelector("#job-revisions > li")).size() == 2);
        assertThat(driver.findElement(By.id("job-revisions-section")).isDisplayed())
                .isTrue();
        List<WebElement> rows = driver.findElements(By.cssSelector("#job-revisions > li"));
        // Newest first: revision 2, current; revision 1, completed and replaced by the submitter.
        WebElement r2 = rows.get(0);
        WebElement r1 = rows.get(1);
        assertThat(r2.getAttribute("data-revision")).isEqualTo("2");
        assertThat(r2.getAttribute("data-current")).isEqualTo("true");
        assertThat(r2.findElement(By.cssSelector(".revision-head")).getText())
                .contains("Revision 2", "current", "completed");
        assertThat(r1.getAttribute("data-revision")).isEqualTo("1");
        assertThat(r1.getAttribute("data-current")).isEqualTo("false");
        assertThat(r1.findElement(By.cssSelector(".status")).getText()).isEqualTo("completed");
        assertThat(r1.findElement(By.cssSelector(".revision-head")).getText())
                .contains("Revision 1", "replaced by submitter")
                .doesNotContain("current");
        // Each revision's own video.mp4: its revision number, size and the start of its checksum.
        WebElement file2 = r2.findElement(By.cssSelector("li.revision-file[data-artifact='video.mp4']"));
        WebElement file1 = r1.findElement(By.cssSelector("li.revision-file[data-artifact='video.mp4']"));
        assertThat(file2.getAttribute("data-artifact-revision")).isEqualTo("2");
        assertThat(file1.getAttribute("data-artifact-revision")).isEqualTo("1");
        assertThat(file2.getText())
                .contains("revision 2", sha2.substring(0, 12))
                .doesNotContain(sha2);
        assertThat(file1.getText())
                .contains("revision 1", sha1.substring(0, 12))
                .doesNotContain(sha1);

        // Each revision's storyboard, shown as text on demand.
        r1.findElement(By.cssSelector(".revision-head button[aria-expanded]")).click();
        waitFor(d -> !r1.findElements(By.cssSelector(".revision-storyboard tbody tr"))
                .isEmpty());
        assertThat(r1.findElement(By.cssSelector(".revision-storyboard")).getText())
                .contains("Opening", "Closing")
                .doesNotContain("Changed");
        r2.findElement(By.cssSelector(".revision-head button[aria-expanded]")).click();
        waitFor(d -> !r2.findElements(By.cssSelector(".revision-storyboard tbody tr"))
                .isEmpty());
        assertThat(r2.findElement(By.cssSelector(".revision-storyboard")).getText())
                .contains("Opening", "<i>Changed</i>")
                .doesNotContain("Closing");
        assertThat(driver.findElements(By.cssSelector("#job-revisions i"))).isEmpty();

        // Play revision 1: the first video, fetched with the key from ?revision=1 into a blob.
        assertThat(file1.findElements(By.tagName("video"))).isEmpty();
        file1.findElement(By.cssSelector("button[data-action='play']")).click();
        WebElement video = visible(By.cssSelector("#job-revisions li[data-revision='1'] video"));
        assertThat(video.getAttribute("src")).startsWith("blob:");
        assertThat(video.getAttribute("data-artifact-revision")).isEqualTo("1");
        assertThat(video.getAttribute("data-src-path")).isEqualTo(job + "/artifacts/video.mp4?revision=1");
        assertThat(driver.findElements(By.cssSelector("#job-revisions li[data-revision='2'] video")))
                .isEmpty();
        waitFor(d -> ((Number) js("return arguments[0].readyState;", video)).intValue() >= 1);
        assertThat(((Number) js("return arguments[0].duration;", video)).doubleValue())
                .isBetween(0.6, 1.0);
        // The bytes played are revision 1's, not the newest.
        String played = (String) driver.executeAsyncScript(
                "const done = arguments[arguments.length - 1];"
                        + " fetch(arguments[0].src).then((r) => r.arrayBuffer())"
                        + ".then((b) => crypto.subtle.digest('SHA-256', b))"
                        + ".then((h) => done(Array.from(new Uint8Array(h), (x) => x.toString(16).padStart(2, '0'))"
                        + ".join('')))"
                        + ".catch((e) => done('failed: ' + e));",
                video);
        assertThat(played).isEqualTo(sha1);
        WebElement download = driver.findElement(By.cssSelector("#job-revisions li[data-revision='1'] a.download"));
        assertThat(download.getAttribute("href")).isEqualTo(video.getAttribute("src"));
        assertThat(download.getAttribute("download")).endsWith("r1-video.mp4");
        js("arguments[0].scrollIntoView({block: 'center'});", video);
        screenshot("video-revisions-desktop");

        driver.manage().window().setSize(new Dimension(400, 900));
        try {
            assertNoHorizontalOverflowOfThePage();
            js("arguments[0].scrollIntoView({block: 'center'});", video);
            screenshot("video-revisions-narrow");
        } finally {
            driver.manage().window().setSize(new Dimension(1280, 900));
        }
    }

    // -----------------------------------------------------------------------------------------

    /** Enters a key through the page's own form, as a person would. */
    static void useKey(String key, String whoText) {
        driver.get(base() + "/#/");
        WebElement change = visible(By.id("change-key"));
        if (!driver.findElement(By.id("key-view")).isDisplayed()) {
            change.click();
        }
        WebElement input = visible(By.id("key-input"));
        input.clear();
        input.sendKeys(key);
        driver.findElement(By.id("key-submit")).click();
        waitFor(d -> d.findElement(By.id("who")).getText().contains(whoText));
        waitFor(d -> "true".equals(d.findElement(By.id("live")).getAttribute("data-live")));
    }

    /** Creates a job through the API; {@code parameters} may be followed by more members (storyboard). */
    static long createJob(String type, String parameters) throws IOException, InterruptedException {
        var request = HttpRequest.newBuilder(URI.create(base() + "/api/v3/jobs"))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + submitKey)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(
                        "{\"type\":\"" + type + "\",\"parameters\":" + parameters + "}"))
                .build();
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(201);
        JsonNode job = JSON.readTree(r.body());
        assertThat(job.get("status").asText()).isEqualTo("pending");
        return job.get("job_id").asLong();
    }

    static JsonNode apiGet(String path) throws IOException, InterruptedException {
        var request = HttpRequest.newBuilder(URI.create(base() + path))
                .timeout(Duration.ofSeconds(10))
                .header("Authorization", "Bearer " + readKey)
                .build();
        HttpResponse<String> r = http.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        return JSON.readTree(r.body());
    }

    static void assertNoHorizontalOverflowOfThePage() {
        Number overflow =
                (Number) js("return document.documentElement.scrollWidth - document.documentElement.clientWidth;");
        assertThat(overflow.intValue()).as("page wider than the window").isLessThanOrEqualTo(0);
    }

    static String base() {
        return "http://127.0.0.1:" + server.port();
    }

    static Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    static WebElement visible(By by) {
        return new WebDriverWait(driver, WAIT)
                .ignoring(StaleElementReferenceException.class)
                .until(d -> {
                    var found = d.findElements(by);
                    return !found.isEmpty() && found.getFirst().isDisplayed() ? found.getFirst() : null;
                });
    }

    static void waitFor(java.util.function.Function<org.openqa.selenium.WebDriver, Boolean> condition) {
        new WebDriverWait(driver, WAIT)
                .ignoring(StaleElementReferenceException.class)
                .until(condition);
    }

    static void screenshot(String name) {
        Path png = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE).toPath();
        try {
            Files.copy(png, SCREENSHOTS.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
