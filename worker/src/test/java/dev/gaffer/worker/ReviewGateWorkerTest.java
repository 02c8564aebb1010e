package dev.gaffer.worker;

import static dev.gaffer.worker.TestSupport.approve;
import static dev.gaffer.worker.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.NewJob;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.SubJob;
import dev.gaffer.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A handler that stops at a gate (Outcome.AwaitReview) on real workers: the job leaves its
 * worker, outlives it without being reclaimed, and a reviewer's decision sends it to whichever
 * worker is there, at the stage the decision names.
 */
class ReviewGateWorkerTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("review_gate_worker");

    /** Runs "make" (the first stage, and the redo stage), stops at gate "look", then "finish". */
    private static HandlerRegistry handlers(String worker, Map<String, AtomicInteger> runs) {
        return new HandlerRegistry()
                .register("gated", ctx -> {
                    String stage = ctx.stage() == null ? "make" : ctx.stage();
                    runs.computeIfAbsent(stage, s -> new AtomicInteger()).incrementAndGet();
                    if (stage.equals("make")) {
                        ObjectNode summary = JsonNodeFactory.instance.objectNode();
                        summary.put("made_by", worker);
                        return Outcome.awaitReview("look", "finish", "make", summary);
                    }
                    ObjectNode result = JsonNodeFactory.instance.objectNode();
                    result.put("finished_by", worker);
                    return Outcome.complete(result);
                })
                .register(
                        "parent",
                        ctx -> ctx.stage() == null
                                ? ctx.spawnAndWait(List.of(SubJob.of("gated-child", null)), "children", "done")
                                : Outcome.complete(null))
                .register("gated-child", ctx -> Outcome.awaitReview("look", "finish", null));
    }

    private static Job job(long id) {
        return db.queries().find(id).orElseThrow();
    }

    @Test
    void aGatedJobOutlivesItsWorkerAndResumesOnAnotherAfterTheDecision() {
        Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
        Job gated;
        try (Worker first = new Worker(
                        TestSupport.config("gate-first").withMaintenance(true, Duration.ofMillis(300)),
                        db.database(),
                        handlers("first", runs))
                .start()) {
            gated = approve(db.requests(), NewJob.of("gated", null));
            await("the job stops at its gate", () -> job(gated.id()).status() == JobStatus.PENDING);
            Job waiting = job(gated.id());
            assertThat(waiting.reviewGate()).isEqualTo("look");
            assertThat(waiting.reviewSummary().path("made_by").asText()).isEqualTo("first");
            assertThat(waiting.lockedBy()).isNull();
            assertThat(first.stats().awaitingReview()).isEqualTo(1);
        }
        // The worker is gone; the job has no lease, so a maintenance pass on another worker finds
        // nothing to reclaim, and nobody runs it until a person decides.
        try (Worker second = new Worker(
                        TestSupport.config("gate-second").withMaintenance(true, Duration.ofMillis(300)),
                        db.database(),
                        handlers("second", runs))
                .start()) {
            sleep(Duration.ofSeconds(1));
            assertThat(job(gated.id()).status()).isEqualTo(JobStatus.PENDING);
            assertThat(runs.get("make")).hasValue(1);

            // Changes requested: the job makes it again (the redo stage) and stops again.
            assertThat(db.requests().requestChanges(gated.id(), "rita", "once more", null, "look"))
                    .isInstanceOf(Moved.class);
            await(
                    "made again and back at the gate",
                    () -> runs.get("make").get() == 2 && job(gated.id()).status() == JobStatus.PENDING);
            assertThat(job(gated.id()).reviewSummary().path("made_by").asText()).isEqualTo("second");

            assertThat(db.requests().approve(gated.id(), "rita", "good", 2, "look"))
                    .isInstanceOf(Moved.class);
            await("completed", () -> job(gated.id()).status() == JobStatus.COMPLETED);
            Job done = job(gated.id());
            assertThat(done.result().path("finished_by").asText()).isEqualTo("second");
            assertThat(runs.get("finish")).hasValue(1);
            assertThat(db.fixtures().eventKinds(gated.id()))
                    .containsSubsequence(
                            "approved",
                            "awaiting_review",
                            "changes_requested",
                            "awaiting_review",
                            "approved",
                            "completed");
        }
    }

    @Test
    void aSubJobThatAsksForAReviewFailsSayingWhy() {
        Map<String, AtomicInteger> runs = new ConcurrentHashMap<>();
        try (Worker w = new Worker(TestSupport.config("gate-child"), db.database(), handlers("w", runs)).start()) {
            Job parent = approve(db.requests(), NewJob.of("parent", null));
            await("the parent resumes and completes", () -> job(parent.id()).status() == JobStatus.COMPLETED);
            Job child = db.queries().subJobs(parent.id()).getFirst();
            assertThat(child.status()).isEqualTo(JobStatus.FAILED);
            assertThat(child.lastError()).contains("only a top-level job stops at a gate");
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }
}
