package dev.gaffer.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.NewJob;
import dev.gaffer.testing.TestDatabase;
import dev.gaffer.worker.Outcome;
import dev.gaffer.worker.Worker;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Jobs created in the application's own transaction: with the application's rows or not at all,
 * visible, claimable and announced only at commit.
 */
class InsertInYourTransactionTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("client_insert");

    static final ObjectMapper JSON = new ObjectMapper();
    final Jobs jobs = new Jobs();

    @BeforeAll
    static void applicationTable() throws SQLException {
        try (Connection c = db.dataSource().getConnection();
                Statement st = c.createStatement()) {
            st.execute("CREATE TABLE orders (id bigint PRIMARY KEY, job_id bigint)");
        }
    }

    @BeforeEach
    void empty() throws SQLException {
        db.fixtures().cancelUnfinished();
        exec("DELETE FROM orders");
    }

    static JsonNode json(String text) {
        try {
            return JSON.readTree(text);
        } catch (Exception e) {
            throw new IllegalArgumentException(e);
        }
    }

    @Test
    void theJobCommitsWithTheApplicationsRowAndIsAnnouncedOnlyThen() throws Exception {
        try (Connection listener = db.database().dedicatedConnection("test-listen");
                Connection app = db.dataSource().getConnection()) {
            listen(listener);
            app.setAutoCommit(false);
            Jobs.Inserted job = jobs.insert(app, JobRequest.of("noop", json("{\"order\":41}")));
            try (Statement st = app.createStatement()) {
                st.execute("INSERT INTO orders VALUES (41, " + job.id() + ")");
            }
            assertThat(job.created()).isTrue();
            assertThat(job.status()).isEqualTo(JobStatus.PENDING);
            assertThat(countFromOutside("SELECT count(*) FROM jobs WHERE id = " + job.id()))
                    .as("invisible before the commit")
                    .isZero();
            assertThat(notifications(listener, 300))
                    .as("no hint before the commit")
                    .isEmpty();

            app.commit();

            assertThat(countFromOutside("SELECT count(*) FROM jobs WHERE id = " + job.id() + " AND status = 'pending'"))
                    .isEqualTo(1);
            assertThat(countFromOutside("SELECT count(*) FROM orders WHERE job_id = " + job.id()))
                    .isEqualTo(1);
            assertThat(db.fixtures().eventKinds(job.id())).containsExactly("created");
            assertThat(notifications(listener, 5000))
                    .containsExactly(
                            "gaffer_events {\"event\":\"created\",\"id\":" + job.id() + ",\"queue\":\"default\"}");
        }
    }

    @Test
    void aRollbackLeavesNoTraceNoRowNoEventNoHint() throws Exception {
        try (Connection listener = db.database().dedicatedConnection("test-listen");
                Connection app = db.dataSource().getConnection()) {
            listen(listener);
            long eventsBefore = countFromOutside("SELECT count(*) FROM job_history");
            app.setAutoCommit(false);
            Jobs.Inserted job = jobs.insert(app, JobRequest.of("noop", null).approvedBy("shop"));
            try (Statement st = app.createStatement()) {
                st.execute("INSERT INTO orders VALUES (42, " + job.id() + ")");
            }
            app.rollback();

            assertThat(countFromOutside("SELECT count(*) FROM jobs WHERE id = " + job.id()))
                    .isZero();
            assertThat(countFromOutside("SELECT count(*) FROM orders")).isZero();
            assertThat(countFromOutside("SELECT count(*) FROM job_history")).isEqualTo(eventsBefore);
            assertThat(notifications(listener, 500)).isEmpty();
        }
    }

    @Test
    void aJobApprovedAtCreationIsRunByAWorkerOnceTheTransactionCommits() throws Exception {
        ConcurrentLinkedQueue<Long> ran = new ConcurrentLinkedQueue<>();
        try (Worker worker = Worker.builder(db.dataSource())
                        .name("invoicer")
                        .handler("invoice", ctx -> {
                            ran.add(ctx.jobId());
                            return Outcome.complete(null);
                        })
                        .polling(Duration.ofSeconds(30), true)
                        .start();
                Connection app = db.dataSource().getConnection()) {
            app.setAutoCommit(false);
            Jobs.Inserted rolledBack =
                    jobs.insert(app, JobRequest.of("invoice", null).approvedBy("shop"));
            app.rollback();
            Jobs.Inserted committed =
                    jobs.insert(app, JobRequest.of("invoice", null).approvedBy("shop"));
            assertThat(committed.status()).isEqualTo(JobStatus.APPROVED);
            Thread.sleep(300);
            assertThat(ran).as("nothing runs before the commit").isEmpty();
            app.commit();

            // The poll interval is 30 s: a pickup within the deadline is the commit's NOTIFY.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
            while (db.queries().find(committed.id()).orElseThrow().status() != JobStatus.COMPLETED) {
                assertThat(System.nanoTime()).as("job completed").isLessThan(deadline);
                Thread.sleep(20);
            }
            assertThat(ran).containsExactly(committed.id());
            assertThat(db.queries().find(committed.id()).orElseThrow().approvedBy())
                    .isEqualTo("shop");
            assertThat(db.queries().find(rolledBack.id())).isEmpty();
        }
    }

    @Test
    void tenThousandJobsInOneCall() throws Exception {
        List<JobRequest> many = new ArrayList<>();
        for (int i = 0; i < 10_000; i++) {
            many.add(JobRequest.of("noop", json("{\"n\":" + i + "}")).withQueue("bulk"));
        }
        try (Connection app = db.dataSource().getConnection()) {
            app.setAutoCommit(false);
            for (int round = 0; round < 3; round++) {
                long t0 = System.nanoTime();
                jobs.insertAll(app, many.subList(0, 5000));
                long t1 = System.nanoTime();
                app.rollback();
                System.out.println("TIMING insertAll 5000: " + (t1 - t0) / 1_000_000 + " ms");
            }
            long t0 = System.nanoTime();
            List<Jobs.Inserted> inserted = jobs.insertAll(app, many);
            app.commit();
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.println("insertAll of 10000 jobs, committed: " + ms + " ms");
            assertThat(inserted).hasSize(10_000).allMatch(Jobs.Inserted::created);
            assertThat(new HashSet<>(inserted.stream().map(Jobs.Inserted::id).toList()))
                    .hasSize(10_000);
            // Answers in the requests' order: the n-th answer is the job with parameter n.
            assertThat(countFromOutside("SELECT count(*) FROM jobs WHERE queue = 'bulk' AND id = "
                            + inserted.get(7_777).id() + " AND parameters->>'n' = '7777'"))
                    .isEqualTo(1);
            assertThat(countFromOutside("SELECT count(*) FROM job_history e JOIN jobs j ON j.id = e.job_id"
                            + " WHERE j.queue = 'bulk'"))
                    .isEqualTo(10_000);
        }
    }

    @Test
    void aKnownIdempotencyKeyAnswersWithItsJobAndAnotherRequestUnderItIsRefused() throws Exception {
        try (Connection app = db.dataSource().getConnection()) {
            app.setAutoCommit(false);
            JobRequest order = JobRequest.of("noop", json("{\"order\":7}")).withIdempotencyKey("order-7");
            Jobs.Inserted first = jobs.insert(app, order);
            app.commit();
            Jobs.Inserted again = jobs.insert(app, order);
            app.commit();
            assertThat(again.id()).isEqualTo(first.id());
            assertThat(again.created()).isFalse();

            assertThatThrownBy(() -> jobs.insert(
                            app, JobRequest.of("noop", json("{\"order\":8}")).withIdempotencyKey("order-7")))
                    .isInstanceOf(IdempotencyConflictException.class)
                    .hasMessageContaining("order-7")
                    .hasMessageContaining(String.valueOf(first.id()));
            app.rollback();
        }
    }

    @Test
    void badRequestsAreRefusedBeforeAnySqlAndTheTransactionGoesOn() throws Exception {
        try (Connection app = db.dataSource().getConnection()) {
            app.setAutoCommit(false);
            try (Statement st = app.createStatement()) {
                st.execute("INSERT INTO orders VALUES (9, NULL)");
            }
            // sleep's own validator, found on the class path as the API finds it.
            assertThatThrownBy(() -> jobs.insert(app, JobRequest.of("sleep", json("{\"ms\":-5}"))))
                    .isInstanceOf(InvalidJobException.class)
                    .satisfies(
                            e -> assertThat(((InvalidJobException) e).field()).isEqualTo("parameters.ms"));
            assertThatThrownBy(() -> jobs.insertAll(
                            app,
                            List.of(
                                    JobRequest.of("noop", null).withIdempotencyKey("twice"),
                                    JobRequest.of("noop", null).withIdempotencyKey("twice"))))
                    .isInstanceOf(InvalidJobException.class)
                    .hasMessageContaining("'twice' is given to more than one job");
            assertThatThrownBy(() -> JobRequest.of("noop", null)
                            .withStoryboard(json("{\"plan\":1}"))
                            .approvedBy("shop"))
                    .isInstanceOf(InvalidJobException.class)
                    .hasMessageContaining("waits for a person to approve it");
            // The same refusal, word for word, as the API's for the same field.
            assertThatThrownBy(() -> JobRequest.of("noop", null).withPriority(101))
                    .hasMessage(catchMessage(() -> NewJob.of("noop", null).withPriority(101)));
            // Nothing failed in PostgreSQL: the transaction still commits the order.
            app.commit();
            assertThat(countFromOutside("SELECT count(*) FROM orders WHERE id = 9"))
                    .isEqualTo(1);
        }
    }

    @Test
    void aConnectionInAutocommitOrClosedIsRefusedSayingSo() throws Exception {
        Connection app = db.dataSource().getConnection();
        assertThatThrownBy(() -> jobs.insert(app, JobRequest.of("noop", null)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("autocommit")
                .hasMessageContaining("setAutoCommit(false)");
        app.close();
        assertThatThrownBy(() -> jobs.insert(app, JobRequest.of("noop", null)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessage("the connection is closed");
    }

    private static String catchMessage(Runnable r) {
        try {
            r.run();
            throw new AssertionError("expected a refusal");
        } catch (InvalidJobException e) {
            return e.getMessage();
        }
    }

    private static void listen(Connection listener) throws SQLException {
        try (Statement st = listener.createStatement()) {
            st.execute("LISTEN gaffer_jobs");
            st.execute("LISTEN gaffer_events");
        }
    }

    private static List<String> notifications(Connection listener, int waitMs) throws SQLException {
        List<String> got = new ArrayList<>();
        PGNotification[] ns = listener.unwrap(PGConnection.class).getNotifications(waitMs);
        if (ns != null) {
            for (PGNotification n : ns) {
                got.add(n.getName() + " " + n.getParameter());
            }
        }
        return got;
    }

    private static long countFromOutside(String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void exec(String sql) throws SQLException {
        try (Connection c = db.dataSource().getConnection();
                Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
