package example.orders;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.gaffer.client.JobRequest;
import dev.gaffer.client.Jobs;
import dev.gaffer.db.DatabaseUrl;
import dev.gaffer.worker.JobContext;
import dev.gaffer.worker.Outcome;
import dev.gaffer.worker.Worker;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * A shop that places orders and confirms each by a job. The order row and its confirmation job
 * are written in one transaction: an order that is rolled back leaves no job behind, and a job is
 * never run for an order that does not exist.
 *
 * <p>Run it with {@code DATABASE_URL=postgres://user:pass@host/db java -jar target/orders-app.jar}.
 * It places two orders, rolls the first back and commits the second, lets its embedded worker run
 * what was committed, and checks that exactly the second order was confirmed (exit code 0) or says
 * what went wrong (exit code 1).
 */
public final class OrdersApp {

    static final String CONFIRM = "order-confirmation";

    private final DataSource pool;
    private final Jobs jobs = new Jobs();

    OrdersApp(DataSource pool) {
        this.pool = pool;
    }

    public static void main(String[] args) throws Exception {
        String url = System.getenv("DATABASE_URL");
        if (url == null || url.isBlank()) {
            System.err.println("orders-app: set DATABASE_URL (postgres://user:pass@host:5432/db)");
            System.exit(2);
        }
        try (HikariDataSource pool = pool(DatabaseUrl.parse("DATABASE_URL", url))) {
            OrdersApp app = new OrdersApp(pool);
            app.createTables();
            // The worker runs on the application's pool and applies Gaffer's migrations at start.
            try (Worker worker = Worker.builder(pool)
                    .name("orders-app")
                    .handler(CONFIRM, app::confirm)
                    .concurrency(4)
                    .polling(Duration.ofMillis(200), true)
                    .migrate()
                    .start()) {
                List<String> problems = app.demonstrate();
                if (!problems.isEmpty()) {
                    problems.forEach(p -> System.out.println("FAILED: " + p));
                    System.exit(1);
                }
                System.out.println("OK");
            }
        }
    }

    /** The application's pool, set up the way Spring Boot sets one up (autocommit off). */
    static HikariDataSource pool(DatabaseUrl url) {
        HikariConfig c = new HikariConfig();
        c.setJdbcUrl(url.jdbcUrl());
        c.setUsername(url.user());
        c.setPassword(url.password());
        c.setMaximumPoolSize(10); // the worker's concurrency + 3, plus what the app needs
        c.setAutoCommit(false);
        c.setPoolName("orders");
        return new HikariDataSource(c);
    }

    void createTables() throws SQLException {
        try (Connection c = pool.getConnection();
                Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS orders ("
                    + " id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                    + " customer text NOT NULL,"
                    + " total_cents bigint NOT NULL CHECK (total_cents > 0),"
                    + " confirmation_job bigint)");
            s.execute("CREATE TABLE IF NOT EXISTS confirmations ("
                    + " order_id bigint PRIMARY KEY REFERENCES orders (id),"
                    + " job_id bigint NOT NULL,"
                    + " sent_at timestamptz NOT NULL DEFAULT now())");
            c.commit();
        }
    }

    /**
     * Places an order and its confirmation job in one transaction. With {@code failAfterInsert}
     * the transaction fails after both inserts (payment declined, say) and is rolled back.
     */
    long placeOrder(String customer, long totalCents, boolean failAfterInsert) throws SQLException {
        try (Connection c = pool.getConnection()) {
            try {
                long orderId;
                try (PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO orders (customer, total_cents) VALUES (?, ?) RETURNING id")) {
                    ps.setString(1, customer);
                    ps.setLong(2, totalCents);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        orderId = rs.getLong(1);
                    }
                }
                long jobId = jobs.insert(
                                c,
                                JobRequest.of(
                                                CONFIRM,
                                                JsonNodeFactory.instance.objectNode().put("order_id", orderId))
                                        .withIdempotencyKey("order-" + orderId + "-confirmation")
                                        .approvedBy("orders-app"))
                        .id();
                try (PreparedStatement ps = c.prepareStatement("UPDATE orders SET confirmation_job = ? WHERE id = ?")) {
                    ps.setLong(1, jobId);
                    ps.setLong(2, orderId);
                    ps.executeUpdate();
                }
                if (failAfterInsert) {
                    throw new SQLException("payment declined for " + customer);
                }
                c.commit();
                return orderId;
            } catch (SQLException | RuntimeException e) {
                c.rollback();
                throw e;
            }
        }
    }

    /**
     * The job: "send" the confirmation. It may run twice (a worker that dies after sending but
     * before completing the job is reclaimed), so the write is idempotent on the order.
     */
    Outcome confirm(JobContext ctx) throws SQLException {
        long orderId = ctx.parameters().path("order_id").asLong();
        try (Connection c = pool.getConnection();
                PreparedStatement ps = c.prepareStatement(
                        "INSERT INTO confirmations (order_id, job_id) VALUES (?, ?)"
                                + " ON CONFLICT (order_id) DO NOTHING")) {
            ps.setLong(1, orderId);
            ps.setLong(2, ctx.jobId());
            ps.executeUpdate();
            c.commit();
        }
        return Outcome.complete(JsonNodeFactory.instance.objectNode().put("confirmed", orderId));
    }

    /** Rolls one order back, commits another, and returns what the worker did wrong (nothing). */
    List<String> demonstrate() throws Exception {
        try {
            placeOrder("ada", 1_200, true);
        } catch (SQLException e) {
            System.out.println("rolled back: " + e.getMessage());
        }
        long committed = placeOrder("grace", 3_400, false);
        System.out.println("committed: order " + committed);

        List<String> problems = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (confirmed().isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        // Give a job that should not exist time to run, if it did exist.
        Thread.sleep(1_000);
        List<Long> confirmed = confirmed();
        System.out.println("confirmed orders: " + confirmed);
        if (!confirmed.equals(List.of(committed))) {
            problems.add("expected exactly order " + committed + " confirmed, got " + confirmed);
        }
        try (Connection c = pool.getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT count(*) FILTER (WHERE j.status = 'completed'), count(*)"
                        + " FROM jobs j WHERE j.type = '" + CONFIRM + "'")) {
            rs.next();
            System.out.println("confirmation jobs: " + rs.getLong(2) + ", completed: " + rs.getLong(1));
            if (rs.getLong(2) != 1 || rs.getLong(1) != 1) {
                problems.add("expected one completed confirmation job, got " + rs.getLong(2) + " jobs, "
                        + rs.getLong(1) + " completed");
            }
            c.rollback();
        }
        return problems;
    }

    private List<Long> confirmed() throws SQLException {
        List<Long> ids = new ArrayList<>();
        try (Connection c = pool.getConnection();
                Statement s = c.createStatement();
                ResultSet rs = s.executeQuery("SELECT order_id FROM confirmations ORDER BY order_id")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
            c.rollback();
        }
        return ids;
    }
}
