package dev.gaffer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.job.Job;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.LeaseStore;
import dev.gaffer.job.NewJob;
import dev.gaffer.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Where the claim loop's claims start: after the last job it claimed in a queue, and from the head
 * of the queue again when a job may have become claimable ahead of that point. The loop is driven
 * with {@code runOnce()}; its runner only records the jobs, so every slot stays free.
 */
class ClaimLoopTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("claim_loop");

    @BeforeEach
    void emptyQueue() {
        db.fixtures().cancelUnfinished();
    }

    private final List<Job> started = new ArrayList<>();

    private ClaimLoop loop(int slots, Duration pollInterval) {
        return loop(slots, pollInterval, started::add);
    }

    private ClaimLoop loop(int slots, Duration pollInterval, java.util.function.Consumer<Job> runner) {
        return new ClaimLoop(
                "w/claim-loop",
                List.of("default"),
                db.leases(),
                new Capacity(slots, Map.of()),
                new Wakeup(),
                pollInterval,
                LeaseStore.DEFAULT_LEASE,
                List::of,
                () -> null,
                runner,
                new WorkerStats());
    }

    private List<Long> claimOnce(ClaimLoop loop) {
        int before = started.size();
        loop.runOnce();
        return started.subList(before, started.size()).stream().map(Job::id).toList();
    }

    @Test
    void resumesAfterItsLastClaimUntilAHintSaysAJobMayBeAhead() {
        List<Long> ids = db.fixtures().approvedBulk("noop", 8);
        ClaimLoop loop = loop(3, Duration.ofHours(1));
        assertThat(claimOnce(loop)).containsExactlyElementsOf(ids.subList(0, 3));
        assertThat(claimOnce(loop)).containsExactlyElementsOf(ids.subList(3, 6));

        // Ahead of where the claims stand, and nobody said so: not seen by a resumed claim.
        Job urgent = TestSupport.approve(db.requests(), NewJob.of("noop", null).withPriority(50));
        assertThat(claimOnce(loop)).containsExactlyElementsOf(ids.subList(6, 8));
        assertThat(db.queries().find(urgent.id()).orElseThrow().status()).isEqualTo(JobStatus.APPROVED);

        // That claim came back short, so the next one looks from the head.
        assertThat(claimOnce(loop)).containsExactly(urgent.id());
    }

    @Test
    void aJobThatCannotBeStartedIsGivenBackAtOnceAndTheRestOfTheBatchStarts() {
        List<Long> ids = db.fixtures().approvedBulk("noop", 4);
        long broken = ids.get(1);
        ClaimLoop loop = loop(4, Duration.ofHours(1), job -> {
            if (job.id() == broken) {
                throw new ArithmeticException("long overflow");
            }
            started.add(job);
        });
        loop.runOnce();
        assertThat(started).extracting(Job::id).containsExactly(ids.get(0), ids.get(2), ids.get(3));
        Job back = db.queries().find(broken).orElseThrow();
        assertThat(back.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(back.attempt()).as("the attempt is given back").isZero();
        assertThat(db.fixtures().eventKinds(broken)).containsExactly("released");
    }

    @Test
    void aHintMakesTheNextClaimStartAtTheHead() {
        List<Long> ids = db.fixtures().approvedBulk("noop", 9);
        ClaimLoop loop = loop(3, Duration.ofHours(1));
        assertThat(claimOnce(loop)).containsExactlyElementsOf(ids.subList(0, 3));

        Job urgent = TestSupport.approve(db.requests(), NewJob.of("noop", null).withPriority(50));
        loop.hint("other-queue");
        assertThat(claimOnce(loop)).containsExactlyElementsOf(ids.subList(3, 6));
        loop.hint("default");
        assertThat(claimOnce(loop)).containsExactly(urgent.id(), ids.get(6), ids.get(7));
    }

    @Test
    void theHeadIsReadAtLeastOncePerPollInterval() {
        List<Long> ids = db.fixtures().approvedBulk("noop", 9);
        // A poll interval shorter than any claim: every claim starts at the head.
        ClaimLoop loop = loop(3, Duration.ofNanos(1));
        assertThat(claimOnce(loop)).containsExactlyElementsOf(ids.subList(0, 3));
        Job urgent = TestSupport.approve(db.requests(), NewJob.of("noop", null).withPriority(50));
        assertThat(claimOnce(loop)).containsExactly(urgent.id(), ids.get(3), ids.get(4));
    }
}
