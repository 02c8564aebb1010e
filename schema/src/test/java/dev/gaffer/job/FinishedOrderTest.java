package dev.gaffer.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * What reads finished jobs in the order they finished (jobs_finished_event_idx, V011): the live
 * feed, whose completions come from the jobs rows; pruning, which walks from the oldest; the
 * throughput per minute, which walks from the newest. Each test has the database to itself: the
 * walks read every finished job.
 */
class FinishedOrderTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("finished_order");

    @Test
    void theFeedCarriesCompletionsFromTheJobsRowsInOrderWithTheOtherEvents() {
        db.fixtures().exec("TRUNCATE jobs, job_events CASCADE");
        long before = db.queries().lastEventId();
        Job a = db.fixtures().processing("noop", "w/1");
        Job b = db.fixtures().processing("noop", "w/1");
        db.outcomes().complete(a.lease(), null);
        db.outcomes().fail(b.lease(), "boom", false, Duration.ZERO);
        Job c = db.fixtures().processing("noop", "w/2");
        db.outcomes().complete(c.lease(), null);

        List<JobEvent> feed = db.queries().eventsAfter(before, 100);
        assertThat(feed.stream().map(e -> e.jobId() + " " + e.kind() + " " + e.workerId()))
                .containsExactly(
                        a.id() + " created null",
                        a.id() + " approved null",
                        b.id() + " created null",
                        b.id() + " approved null",
                        a.id() + " completed w/1",
                        b.id() + " failed w/1",
                        c.id() + " created null",
                        c.id() + " approved null",
                        c.id() + " completed w/2");
        assertThat(feed).isSortedAccordingTo((x, y) -> Long.compare(x.id(), y.id()));
        JobEvent completion = feed.get(4);
        Job done = db.queries().find(a.id()).orElseThrow();
        assertThat(completion.createdAt()).isEqualTo(done.finishedAt());
        assertThat(completion.attemptStartedAt()).isNotNull();
        assertThat(completion.progressPercentage()).isEqualTo(100);
        assertThat(db.queries().lastEventId()).isEqualTo(feed.getLast().id());
        assertThat(db.queries().eventsAfter(completion.id(), 1).getFirst().kind())
                .isEqualTo("failed");
        assertThat(db.fixtures().count("SELECT finished_event_id FROM jobs WHERE id = " + b.id()))
                .isEqualTo(feed.get(5).id());
    }

    @Test
    void pruningStepsOverFinishedSubJobsOfALiveParentAndStopsAtTheRetainedJobs() throws Exception {
        db.fixtures().exec("TRUNCATE jobs, job_events CASCADE");
        Job parent = db.fixtures().processing("video", "w/1");
        db.outcomes()
                .waitForSubJobs(
                        parent.lease(),
                        List.of(
                                SubJob.of("scene", null),
                                SubJob.of("scene", null),
                                SubJob.of("scene", null),
                                SubJob.of("scene", null),
                                SubJob.of("scene", null)),
                        "render",
                        "stitch");
        List<Job> scenes = db.leases().claim("w/1", List.of("default"), 5, List.of());
        assertThat(scenes).hasSize(5);
        for (Job scene : scenes.subList(0, 4)) {
            db.outcomes().complete(scene.lease(), null);
        }
        // Four finished sub-jobs come first in the finishing order; their parent still waits.
        List<Long> old = List.of(finished(), finished(), finished());
        Thread.sleep(400);
        long young = finished();

        Duration retention = Duration.ofMillis(200);
        assertThat(db.reclaims().pruneFinished(retention, 2)).isEqualTo(2);
        assertThat(db.reclaims().pruneFinished(retention, 2)).isEqualTo(1);
        assertThat(db.reclaims().pruneFinished(retention, 2)).isZero();

        for (long id : old) {
            assertThat(db.queries().find(id)).isEmpty();
        }
        assertThat(db.queries().find(young)).isPresent();
        assertThat(db.queries().find(parent.id())).isPresent();
        assertThat(db.queries().subJobs(parent.id())).hasSize(5);
        assertThat(db.fixtures().count("SELECT count(*) FROM job_history WHERE job_id = ANY ('" + arrayOf(old) + "')"))
                .isZero();
    }

    @Test
    void throughputCountsEachFinishedJobInItsMinute() {
        db.fixtures().exec("TRUNCATE jobs, job_events CASCADE");
        // Two that finished an hour ago (first, as they would have): outside a window of two
        // minutes, inside one of two hours.
        db.fixtures()
                .exec("UPDATE jobs SET finished_at = now() - interval '1 hour' WHERE id IN (" + finished() + ", "
                        + finished() + ")");
        for (int i = 0; i < 3; i++) {
            finished();
        }
        Job failing = db.fixtures().processing("noop", "w/1");
        db.outcomes().fail(failing.lease(), "boom", false, Duration.ZERO);
        db.requests().cancel(db.fixtures().pending("noop").id(), "ops");

        List<JobQueries.MinuteThroughput> lastTwo = db.queries().throughput(2);
        assertThat(lastTwo).hasSize(2);
        assertThat(lastTwo.stream()
                        .mapToLong(JobQueries.MinuteThroughput::completed)
                        .sum())
                .isEqualTo(3);
        assertThat(lastTwo.stream()
                        .mapToLong(JobQueries.MinuteThroughput::failed)
                        .sum())
                .isEqualTo(1);
        assertThat(lastTwo.stream()
                        .mapToLong(JobQueries.MinuteThroughput::cancelled)
                        .sum())
                .isEqualTo(1);
        List<JobQueries.MinuteThroughput> lastTwoHours = db.queries().throughput(120);
        assertThat(lastTwoHours.stream()
                        .mapToLong(JobQueries.MinuteThroughput::completed)
                        .sum())
                .isEqualTo(5);
    }

    /** A top-level job that ran and completed now; its id. */
    private static long finished() {
        Job job = db.fixtures().processing("noop", "w/9");
        db.outcomes().complete(job.lease(), null);
        return job.id();
    }

    private static String arrayOf(List<Long> ids) {
        return ids.toString().replace('[', '{').replace(']', '}');
    }
}
