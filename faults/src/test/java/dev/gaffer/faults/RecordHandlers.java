package dev.gaffer.faults;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.gaffer.db.DatabaseUrl;
import dev.gaffer.worker.JobContext;
import dev.gaffer.worker.JobHandler;
import dev.gaffer.worker.JobHandlerProvider;
import dev.gaffer.worker.Outcome;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * The suite's job type {@code record}, loaded by the worker processes from this module's test
 * classes (META-INF/services). Each execution first records (job, attempt, worker) in the
 * side-effect table {@code executions} on its own connection, committed at once, so the table
 * shows every time a handler really ran, whatever became of its outcome.
 *
 * <p>Parameters: {@code sleep_ms} (default 0); {@code uninterruptible} (sleep through interrupts,
 * as a handler stuck in native code would); {@code mode}: {@code complete} (default),
 * {@code throw} (a retryable exception), {@code hang} (sleep far past the job's timeout),
 * {@code halt} (Runtime.halt: the whole worker JVM dies at once), {@code gate} (the first run
 * stops at the gate {@code check} for a person's decision and an approval resumes it at stage
 * {@code checked}, where it completes), with {@code on_attempt} to do so only on that attempt.
 */
public final class RecordHandlers implements JobHandlerProvider {

    static final String TYPE = "record";

    @Override
    public Map<String, JobHandler> handlers() {
        return Map.of(TYPE, RecordHandlers::handle);
    }

    private static volatile HikariDataSource pool;

    private static HikariDataSource pool() {
        HikariDataSource p = pool;
        if (p == null) {
            synchronized (RecordHandlers.class) {
                if (pool == null) {
                    DatabaseUrl url = DatabaseUrl.parse("DATABASE_URL", System.getenv("DATABASE_URL"));
                    HikariConfig c = new HikariConfig();
                    c.setJdbcUrl(url.jdbcUrl());
                    c.setUsername(url.user());
                    c.setPassword(url.password());
                    c.setMaximumPoolSize(8);
                    c.setMinimumIdle(0);
                    c.setConnectionTimeout(3000);
                    c.setPoolName("faults-handler");
                    c.addDataSourceProperty("ApplicationName", "faults-handler");
                    c.addDataSourceProperty("socketTimeout", "10");
                    pool = new HikariDataSource(c);
                }
                p = pool;
            }
        }
        return p;
    }

    static Outcome handle(JobContext ctx) throws Exception {
        JsonNode params = ctx.parameters();
        String worker = ctx.job().lockedBy();
        long execution = record(ctx.jobId(), ctx.attempt(), worker);
        String mode = params.path("mode").asText("complete");
        int onAttempt = params.path("on_attempt").asInt(0);
        boolean faulty = onAttempt == 0 || onAttempt == ctx.attempt();
        if (mode.equals("gate") && !"checked".equals(ctx.stage())) {
            returned(execution);
            return Outcome.awaitReview(
                    "check",
                    "checked",
                    JsonNodeFactory.instance.objectNode().put("worker", worker).put("execution", execution));
        }
        if (faulty) {
            switch (mode) {
                case "throw" -> throw new IllegalStateException("record: thrown on attempt " + ctx.attempt());
                case "hang" -> Thread.sleep(3_600_000L);
                case "halt" -> Runtime.getRuntime().halt(3);
                default -> {}
            }
        }
        long sleepMs = params.path("sleep_ms").asLong(0);
        if (sleepMs > 0) {
            if (params.path("uninterruptible").asBoolean(false)) {
                long until = System.nanoTime() + sleepMs * 1_000_000L;
                while (System.nanoTime() < until) {
                    LockSupport.parkNanos(until - System.nanoTime());
                    Thread.interrupted(); // ignored on purpose
                }
            } else {
                Thread.sleep(sleepMs);
            }
        }
        returned(execution);
        return Outcome.complete(JsonNodeFactory.instance
                .objectNode()
                .put("worker", worker)
                .put("attempt", ctx.attempt())
                .put("execution", execution));
    }

    private static long record(long jobId, int attempt, String worker) throws Exception {
        SQLException last = null;
        for (int i = 0; i < 5; i++) {
            try (Connection c = pool().getConnection();
                    PreparedStatement ps = c.prepareStatement(
                            "INSERT INTO executions (job_id, attempt, worker_id) VALUES (?, ?, ?) RETURNING id")) {
                ps.setLong(1, jobId);
                ps.setInt(2, attempt);
                ps.setString(3, worker);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    return rs.getLong(1);
                }
            } catch (SQLException e) {
                last = e; // a terminated backend or a restarting server: try again briefly
                Thread.sleep(100L * (i + 1));
            }
        }
        throw new IllegalStateException("record: cannot write the execution of job " + jobId, last);
    }

    private static void returned(long execution) {
        // An interrupt meant for the handler (lease lost) must not cut this observation short.
        Thread.interrupted();
        try (Connection c = pool().getConnection();
                PreparedStatement ps =
                        c.prepareStatement("UPDATE executions SET returned_at = clock_timestamp() WHERE id = ?")) {
            ps.setLong(1, execution);
            ps.executeUpdate();
        } catch (SQLException e) {
            // Only an observation for the zombie scenario; the outcome does not depend on it.
        }
    }
}
