package dev.gaffer.worker;

import static dev.gaffer.worker.TestSupport.approve;
import static dev.gaffer.worker.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.job.Job;
import dev.gaffer.job.JobEvent;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.NewJob;
import dev.gaffer.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RetryTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("retry");

    static Worker worker;
    static final AtomicInteger flakyCalls = new AtomicInteger();

    @BeforeAll
    static void setUp() {
        HandlerRegistry registry = new HandlerRegistry()
                .register("broken", ctx -> {
                    throw new IllegalStateException("disk full on attempt " + ctx.attempt());
                })
                .register("invalid", ctx -> Outcome.fail("storyboard has no scenes"))
                .register("flaky", ctx -> {
                    flakyCalls.incrementAndGet();
                    return ctx.attempt() < 2
                            ? Outcome.retryLater(Duration.ofMillis(10), "upstream busy")
                            : Outcome.complete(null);
                });
        worker = new Worker(TestSupport.config("retry"), db.database(), registry).start();
    }

    @AfterAll
    static void tearDown() {
        worker.close();
    }

    @Test
    void aThrowingHandlerIsRetriedWithBackoffUntilMaxAttemptsThenFailsWithItsErrorsRecorded() {
        Job job = approve(db.requests(), NewJob.of("broken", null).withMaxAttempts(3));
        await("failed", () -> status(job) == JobStatus.FAILED);

        Job failed = db.queries().find(job.id()).orElseThrow();
        assertThat(failed.attempt()).isEqualTo(3);
        assertThat(failed.lastError())
                .startsWith("java.lang.IllegalStateException: disk full on attempt 3")
                .contains("\tat dev.gaffer.worker.");
        assertThat(failed.lastError().length()).isLessThanOrEqualTo(ErrorSummary.MAX_CHARS);

        List<JobEvent> events = db.queries().events(job.id(), 0, 100);
        List<JobEvent> failures = events.stream()
                .filter(e -> e.kind().equals("retried") || e.kind().equals("failed"))
                .toList();
        assertThat(failures).extracting(JobEvent::kind).containsExactly("retried", "retried", "failed");
        assertThat(failures)
                .extracting(JobEvent::message)
                .allSatisfy(m -> assertThat(m).contains("IllegalStateException: disk full"));
        // The retries waited for their backoff: each next attempt started (its row's
        // attempt_started_at) no earlier than the base delay / 2 after the failure before it.
        List<String> gaps = db.fixtures().strings("""
                        SELECT (extract(epoch FROM attempt_started_at - lag(created_at) OVER (ORDER BY id)) * 1000)::bigint
                          FROM job_history WHERE job_id = %d AND kind IN ('retried', 'failed') ORDER BY id""".formatted(job.id()));
        assertThat(gaps).hasSize(3);
        assertThat(gaps.subList(1, 3))
                .allSatisfy(ms -> assertThat(Long.parseLong(ms)).isGreaterThanOrEqualTo(25));
    }

    @Test
    void aNonRetryableFailureFailsAtOnce() {
        Job job = approve(db.requests(), NewJob.of("invalid", null).withMaxAttempts(5));
        await("failed", () -> status(job) == JobStatus.FAILED);
        Job failed = db.queries().find(job.id()).orElseThrow();
        assertThat(failed.attempt()).isEqualTo(1);
        assertThat(failed.lastError()).isEqualTo("storyboard has no scenes");
        assertThat(db.queries().events(job.id(), 0, 100))
                .extracting(JobEvent::kind)
                .doesNotContain("retried")
                .endsWith("failed");
    }

    @Test
    void aHandlerCanAskToBeRetriedLater() {
        Job job = approve(db.requests(), NewJob.of("flaky", null));
        await("completed", () -> status(job) == JobStatus.COMPLETED);
        assertThat(db.queries().find(job.id()).orElseThrow().attempt()).isEqualTo(2);
        assertThat(db.queries().events(job.id(), 0, 100))
                .filteredOn(e -> e.kind().equals("retried"))
                .singleElement()
                .satisfies(e -> assertThat(e.message()).isEqualTo("upstream busy"));
    }

    @Test
    void backoffGrowsExponentiallyWithJitterUpToTheCap() {
        Backoff b = new Backoff(Duration.ofSeconds(1), Duration.ofMinutes(10));
        assertThat(b.ceiling(1)).isEqualTo(Duration.ofSeconds(1));
        assertThat(b.ceiling(2)).isEqualTo(Duration.ofSeconds(2));
        assertThat(b.ceiling(5)).isEqualTo(Duration.ofSeconds(16));
        assertThat(b.ceiling(30)).isEqualTo(Duration.ofMinutes(10));
        assertThat(b.ceiling(1000)).isEqualTo(Duration.ofMinutes(10));
        for (int i = 0; i < 1000; i++) {
            Duration d = b.delay(4);
            assertThat(d).isBetween(Duration.ofSeconds(4), Duration.ofSeconds(8));
        }
    }

    static JobStatus status(Job job) {
        return db.queries().find(job.id()).orElseThrow().status();
    }
}
