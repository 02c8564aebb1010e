package dev.gaffer.worker;

import static dev.gaffer.worker.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.gaffer.db.DatabaseUrl;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.NewJob;
import dev.gaffer.job.Results;
import dev.gaffer.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * A worker embedded in an application, on the application's own pool: configured the way Spring
 * configures one (autocommit off), migrated by the builder, and left open when the worker closes.
 */
class EmbeddedWorkerTest {

    /** The application's pool, as an application would open it. */
    static HikariDataSource applicationPool(String database, int size) {
        DatabaseUrl url = TestPostgres.url(database);
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(url.jdbcUrl());
        c.setUsername(url.user());
        if (url.password() != null) {
            c.setPassword(url.password());
        }
        c.setMaximumPoolSize(size);
        c.setAutoCommit(false);
        c.setPoolName("application");
        return new HikariDataSource(c);
    }

    @Test
    void runsTheApplicationsHandlersOnItsPoolAndLeavesThePoolOpenAfterAGracefulClose() throws Exception {
        String name = TestPostgres.newEmptyDatabase("embedded");
        try (HikariDataSource pool = applicationPool(name, 12)) {
            AtomicInteger sent = new AtomicInteger();
            CountDownLatch slowStarted = new CountDownLatch(1);
            Worker worker = Worker.builder(pool)
                    .name("billing-app")
                    .handler("email", ctx -> {
                        sent.incrementAndGet();
                        return Outcome.complete(JsonNodeFactory.instance
                                .objectNode()
                                .put("to", ctx.parameters().path("to").asText()));
                    })
                    .handler("slow", ctx -> {
                        slowStarted.countDown();
                        Thread.sleep(300);
                        return Outcome.complete(null);
                    })
                    .concurrency(4)
                    .polling(Duration.ofMillis(200), true)
                    .shutdownGrace(Duration.ofSeconds(5))
                    .migrate()
                    .start();
            JobRequests requests = new JobRequests(pool);
            JobQueries queries = new JobQueries(pool);
            List<Job> emails = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                Job created = requests.create(NewJob.of(
                                "email", JsonNodeFactory.instance.objectNode().put("to", "user" + i + "@example.com")))
                        .job();
                emails.add(((Results.Moved) requests.approve(created.id(), "tester")).job());
            }
            for (Job e : emails) {
                await(
                        "email " + e.id(),
                        () -> queries.find(e.id()).orElseThrow().status() == JobStatus.COMPLETED);
            }
            assertThat(sent).hasValue(5);
            assertThat(queries.find(emails.get(2).id())
                            .orElseThrow()
                            .result()
                            .path("to")
                            .asText())
                    .isEqualTo("user2@example.com");
            assertThat(countWorkers(pool, "billing-app")).isEqualTo(1);

            // A job still running at close() gets the grace and completes.
            Job slow = requests.create(NewJob.of("slow", null)).job();
            requests.approve(slow.id(), "tester");
            assertThat(slowStarted.await(30, TimeUnit.SECONDS)).isTrue();
            worker.close();
            assertThat(queries.find(slow.id()).orElseThrow().status()).isEqualTo(JobStatus.COMPLETED);

            assertThat(pool.isClosed()).as("the application's pool").isFalse();
            assertThat(countWorkers(pool, "billing-app")).as("deregistered").isZero();
            assertThat(pool.getHikariPoolMXBean().getActiveConnections())
                    .as("every borrowed connection, the LISTEN one included, is back")
                    .isZero();
        }
    }

    @Test
    void refusesADatabaseWhoseSchemaIsBehindUnlessAskedToMigrate() {
        String name = TestPostgres.newEmptyDatabase("embedded_unmigrated");
        try (HikariDataSource pool = applicationPool(name, 4)) {
            WorkerBuilder builder = Worker.builder(pool).handler("email", ctx -> Outcome.complete(null));
            assertThatThrownBy(builder::build)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("migration(s) behind")
                    .hasMessageContaining("migrate()");
            assertThatThrownBy(() -> Worker.builder(pool).build())
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("at least one handler");
        }
    }

    @Test
    void migratesADatabaseThatAlreadyHoldsTheApplicationsOwnTables() throws Exception {
        String name = TestPostgres.newEmptyDatabase("embedded_app_tables");
        try (HikariDataSource pool = applicationPool(name, 6)) {
            try (Connection c = pool.getConnection();
                    Statement st = c.createStatement()) {
                st.execute("CREATE TABLE orders (id bigint PRIMARY KEY, customer text NOT NULL)");
                st.execute("INSERT INTO orders VALUES (1, 'ada')");
                c.commit();
            }
            try (Worker worker = Worker.builder(pool)
                    .handler("email", ctx -> Outcome.complete(null))
                    .migrate()
                    .start()) {
                assertThat(dev.gaffer.db.Database.borrowing(pool).pendingMigrations())
                        .isZero();
            }
            try (Connection c = pool.getConnection();
                    Statement st = c.createStatement();
                    ResultSet rs = st.executeQuery("SELECT customer FROM orders")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("ada");
                c.rollback();
            }
        }
    }

    private static long countWorkers(HikariDataSource pool, String name) throws Exception {
        try (Connection c = pool.getConnection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT count(*) FROM workers WHERE name = '" + name + "'")) {
            rs.next();
            long n = rs.getLong(1);
            c.rollback();
            return n;
        }
    }
}
