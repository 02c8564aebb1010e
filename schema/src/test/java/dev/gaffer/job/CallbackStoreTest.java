package dev.gaffer.job;

import static dev.gaffer.job.JobFixtures.json;
import static dev.gaffer.job.JobFixtures.params;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.job.CallbackStore.Received;
import dev.gaffer.job.CallbackStore.Waited;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.testing.TestDatabase;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Waiting for external work without holding a worker (issue 19, V026): the lease holder asks for
 * a callback and waits with its lease and attempt given back; the service's call wakes the job,
 * once, for that attempt only, before the deadline; everything else changes nothing.
 */
class CallbackStoreTest {

    @RegisterExtension
    static final TestDatabase db = TestDatabase.perTest("callbacks");

    private static CallbackStore callbacks() {
        return new CallbackStore(db.dataSource());
    }

    private static Job job(long id) {
        return db.queries().find(id).orElseThrow();
    }

    private static Job running() {
        Job j = db.requests().create(NewJob.of("render", params("n", 1))).job();
        assertThat(db.requests().approve(j.id(), "rita")).isInstanceOf(Moved.class);
        return claim(j.id());
    }

    private static Job claim(long id) {
        List<Job> got = db.leases().claim("w/1", List.of("default"), 1, List.of());
        assertThat(got).singleElement().extracting(Job::id).isEqualTo(id);
        return got.getFirst();
    }

    /** Makes a waiting job's next look due now, as time passing would. */
    private static void due(long id) {
        db.fixtures().exec("UPDATE jobs SET run_at = now() - interval '1 second' WHERE id = " + id);
    }

    @Test
    void aCalledBackJobRunsAgainAtOnceWithWhatTheServiceSentOnceOnly() {
        Job j = running();
        UUID nonce = callbacks().issue(j.lease()).orElseThrow();
        assertThat(callbacks().issue(j.lease()))
                .as("the same wait, the same URL")
                .contains(nonce);

        assertThat(callbacks().await(j.lease(), Duration.ofMinutes(5), Duration.ofMinutes(1), "rendering"))
                .isEqualTo(Waited.WAITING);
        Job waiting = job(j.id());
        assertThat(waiting.status()).isEqualTo(JobStatus.APPROVED);
        assertThat(waiting.attempt()).as("the attempt given back").isZero();
        assertThat(waiting.lockedBy()).isNull();
        assertThat(waiting.currentStage()).isEqualTo("rendering");
        assertThat(waiting.runAt()).isAfter(Instant.now().plusSeconds(50));
        assertThat(db.leases().claim("w/2", List.of("default"), 1, List.of()))
                .as("not before its time")
                .isEmpty();

        assertThat(callbacks().receive(j.id(), nonce, json("{\"status\":\"succeeded\"}")))
                .isEqualTo(Received.ACCEPTED);
        assertThat(callbacks().receive(j.id(), nonce, json("{\"status\":\"again\"}")))
                .isEqualTo(Received.ALREADY_USED);
        assertThat(db.fixtures().eventKinds(j.id())).endsWith("awaiting_callback", "callback_received");

        Job resumed = claim(j.id());
        assertThat(resumed.attempt()).isEqualTo(1);
        assertThat(callbacks().received(resumed.lease()).orElseThrow().payload())
                .isEqualTo(json("{\"status\":\"succeeded\"}"));
        assertThat(callbacks().issue(resumed.lease()).orElseThrow())
                .as("called back: the next wait has a new URL")
                .isNotEqualTo(nonce);
    }

    @Test
    void aCallbackWhileTheHandlerStillRunsMakesTheWaitEndAtOnce() {
        Job j = running();
        UUID nonce = callbacks().issue(j.lease()).orElseThrow();
        assertThat(callbacks().receive(j.id(), nonce, json("{\"fast\":true}"))).isEqualTo(Received.ACCEPTED);
        assertThat(job(j.id()).status()).as("running: untouched").isEqualTo(JobStatus.PROCESSING);
        assertThat(callbacks().await(j.lease(), Duration.ofMinutes(5), Duration.ofMinutes(5), null))
                .isEqualTo(Waited.WAITING);
        Job resumed = claim(j.id());
        assertThat(callbacks()
                        .received(resumed.lease())
                        .orElseThrow()
                        .payload()
                        .path("fast")
                        .asBoolean())
                .isTrue();
    }

    @Test
    void pollsKeepTheUrlAndTheDeadlineAndAWaitPastItExpires() throws Exception {
        Job j = running();
        UUID nonce = callbacks().issue(j.lease()).orElseThrow();
        assertThat(callbacks().await(j.lease(), Duration.ofMillis(600), Duration.ofMillis(100), null))
                .isEqualTo(Waited.WAITING);
        Thread.sleep(150);
        Job polled = claim(j.id());
        assertThat(callbacks().received(polled.lease())).isEmpty();
        assertThat(callbacks().issue(polled.lease())).contains(nonce);
        assertThat(callbacks().await(polled.lease(), Duration.ofMillis(600), Duration.ofMillis(100), null))
                .isEqualTo(Waited.WAITING);
        Thread.sleep(700);
        assertThat(callbacks().receive(j.id(), nonce, json("{}"))).isEqualTo(Received.EXPIRED);
        Job late = claim(j.id());
        assertThat(callbacks().await(late.lease(), Duration.ofMillis(600), Duration.ofMillis(100), null))
                .as("the deadline of the first wait holds")
                .isEqualTo(Waited.EXPIRED);
        assertThat(job(j.id()).status()).isEqualTo(JobStatus.PROCESSING);
    }

    @Test
    void aCallbackForAnEndedAttemptOrARetriedJobChangesNothing() {
        Job j = running();
        UUID first = callbacks().issue(j.lease()).orElseThrow();
        // The attempt fails and is retried by the system: a new attempt, a new wait.
        db.outcomes().fail(j.lease(), "boom", true, Duration.ZERO);
        Job second = claim(j.id());
        UUID next = callbacks().issue(second.lease()).orElseThrow();
        assertThat(next).isNotEqualTo(first);
        assertThat(callbacks().receive(j.id(), first, json("{}"))).isEqualTo(Received.GONE);

        // A person's retry ends the wait of the failed job.
        callbacks().await(second.lease(), Duration.ofMinutes(5), Duration.ofMinutes(5), null);
        db.requests().cancel(j.id(), "sam");
        assertThat(callbacks().receive(j.id(), next, json("{}"))).isEqualTo(Received.GONE);
        db.requests().retry(j.id(), "sam");
        assertThat(db.fixtures().count("SELECT count(*) FROM job_callbacks WHERE job_id = " + j.id()))
                .isZero();
        assertThat(callbacks().receive(j.id(), next, json("{}"))).isEqualTo(Received.GONE);
        assertThat(db.fixtures().eventKinds(j.id())).doesNotContain("callback_received");
    }

    @Test
    void anOldLeaseHolderCannotAskOrWait() {
        Job j = running();
        db.fixtures().ageHeartbeat(j.id(), 60);
        db.reclaims().reclaimExpired(10);
        assertThat(callbacks().issue(j.lease())).isEmpty();
        assertThat(callbacks().await(j.lease(), Duration.ofMinutes(1), Duration.ofMinutes(1), null))
                .isEqualTo(Waited.LEASE_LOST);
        assertThat(db.fixtures().count("SELECT count(*) FROM job_callbacks")).isZero();
    }

    @Test
    void tokensAreSignedAndAnyChangeToOneIsRefused() {
        CallbackTokens tokens = new CallbackTokens(db.dataSource());
        UUID nonce = UUID.randomUUID();
        String token = tokens.token(42, nonce);
        assertThat(tokens.verify(token)).contains(new CallbackTokens.Parsed(42, nonce));
        assertThat(tokens.verify(token.replaceFirst("^42\\.", "43."))).isEmpty();
        char last = token.charAt(token.length() - 1);
        assertThat(tokens.verify(token.substring(0, token.length() - 1) + (last == 'A' ? 'B' : 'A')))
                .isEmpty();
        assertThat(tokens.verify("42." + nonce.toString().replace("-", "") + "."))
                .isEmpty();
        assertThat(tokens.verify("nonsense")).isEmpty();
        assertThat(tokens.verify(null)).isEmpty();
    }
}
