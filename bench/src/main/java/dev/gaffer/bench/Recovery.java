package dev.gaffer.bench;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Recovery: two real worker processes run {@code jobs} sleep jobs; once {@code killAt} of them
 * completed, one process is SIGKILLed. Measured from the database: how long after the kill the
 * jobs it held were claimed again (its leases expire after the heartbeat timeout, the reclaimer
 * runs every reclaim interval), and, once everything finished, jobs lost and duplicate
 * completions (completions per job in job_history; since V011 a completion is kept in its job's
 * row, so the schema itself allows one per job, and a second completion of a job would have to
 * get past the fence of the first: this figure can no longer be other than 0).
 */
final class Recovery implements Scenario {

    record Config(
            int jobs,
            int sleepMs,
            int concurrency,
            Duration heartbeatInterval,
            Duration heartbeatTimeout,
            Duration reclaimInterval,
            double killAt,
            Duration deadline) {
        static Config of(boolean quick) {
            return new Config(
                    quick ? 600 : 2000,
                    200,
                    16,
                    Duration.ofSeconds(1),
                    Duration.ofSeconds(5),
                    Duration.ofSeconds(1),
                    0.3,
                    Duration.ofMinutes(4));
        }
    }

    private final Config config;

    Recovery(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "recovery";
    }

    @Override
    public Duration deadline() {
        return config.deadline();
    }

    @Override
    public void runOnce(Context ctx, Measurements out) throws Exception {
        String dbName = ctx.database("recovery");
        ctx.db().create(dbName);
        List<Process> workers = new ArrayList<>();
        try (Connection c = ctx.db().connect(dbName)) {
            for (String name : List.of("rec-victim", "rec-survivor")) {
                Map<String, String> env = Jobs.workerEnv(ctx.db().url(dbName), name, config.concurrency());
                env.put("GAFFER_HEARTBEAT_INTERVAL", config.heartbeatInterval().toMillis() + "ms");
                env.put("GAFFER_HEARTBEAT_TIMEOUT", config.heartbeatTimeout().toMillis() + "ms");
                env.put("GAFFER_RECLAIM_INTERVAL", config.reclaimInterval().toMillis() + "ms");
                workers.add(ctx.children().worker("recovery-" + name + "-run" + ctx.run(), env));
            }
            Jobs.awaitWorkers(c, List.of("rec-victim", "rec-survivor"), Duration.ofSeconds(60));
            String victimId;
            try (PreparedStatement ps = c.prepareStatement("SELECT id FROM workers WHERE name = 'rec-victim'");
                    ResultSet rs = ps.executeQuery()) {
                rs.next();
                victimId = rs.getString(1);
            }
            Jobs.insertApproved(c, config.jobs(), "sleep", "{\"ms\": " + config.sleepMs() + "}");
            Jobs.hint(c);
            long end = System.nanoTime() + Duration.ofMinutes(2).toNanos();
            while (Jobs.count(c, "SELECT count(*) FROM jobs WHERE status = 'completed'")
                    < config.jobs() * config.killAt()) {
                if (System.nanoTime() > end) {
                    throw new IllegalStateException("the jobs did not get going");
                }
                Thread.sleep(50);
            }
            Children.kill(workers.getFirst());
            double killedAt = Jobs.clock(c);
            List<Long> held = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT id FROM jobs WHERE locked_by = ? AND status = 'processing' ORDER BY id")) {
                ps.setString(1, victimId);
                try (ResultSet rs = ps.executeQuery()) {
                    while (rs.next()) {
                        held.add(rs.getLong(1));
                    }
                }
            }
            while (Jobs.count(c, "SELECT count(*) FROM jobs WHERE status = 'completed'") < config.jobs()
                    && System.nanoTime() < end) {
                Thread.sleep(100);
            }
            long completed = Jobs.count(c, "SELECT count(*) FROM jobs WHERE status = 'completed'");
            long duplicates = Jobs.count(
                    c,
                    "SELECT count(*) FROM (SELECT job_id FROM job_history WHERE kind = 'completed'"
                            + " GROUP BY job_id HAVING count(*) > 1) d");
            long completions = Jobs.count(c, "SELECT count(*) FROM job_history WHERE kind = 'completed'");
            double firstRerun = Double.NaN;
            double lastRerun = Double.NaN;
            long rerun = 0;
            if (!held.isEmpty()) {
                try (PreparedStatement ps = c.prepareStatement("""
                        SELECT count(t), min(t), max(t) FROM (
                            SELECT extract(epoch FROM (SELECT min(e.attempt_started_at) FROM job_history e
                                                        WHERE e.job_id = h.id
                                                          AND e.attempt_started_at > to_timestamp(?))) - ? AS t
                              FROM unnest(?::bigint[]) AS h(id)) x
                        """)) {
                    Array ids = c.createArrayOf("bigint", held.toArray());
                    ps.setDouble(1, killedAt);
                    ps.setDouble(2, killedAt);
                    ps.setArray(3, ids);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        rerun = rs.getLong(1);
                        firstRerun = rs.getDouble(2);
                        lastRerun = rs.getDouble(3);
                    }
                }
            }
            double limit = config.heartbeatTimeout().toMillis() / 1000.0 + 2;
            out.note("heartbeat interval " + config.heartbeatInterval().toMillis() + " ms, timeout "
                    + config.heartbeatTimeout().toMillis() + " ms, reclaim every "
                    + config.reclaimInterval().toMillis() + " ms; " + config.jobs() + " jobs of "
                    + config.sleepMs() + " ms on 2 workers × " + config.concurrency());
            out.put("jobs held by the killed worker", held.size(), "jobs");
            out.put("held jobs claimed again", rerun, "jobs");
            out.put("kill → first held job running again", firstRerun, "s");
            out.put(
                    "kill → last held job running again",
                    lastRerun,
                    "s",
                    Measurements.Target.atMost(limit, "≤ timeout + 2 s = " + Bench.fmt(limit) + " s"));
            out.put("jobs lost", config.jobs() - completed, "jobs", Measurements.Target.atMost(0, "0"));
            out.put("duplicate completions", duplicates, "", Measurements.Target.atMost(0, "0"));
            out.note("completed events: " + completions + " for " + completed + " completed jobs");
        } finally {
            workers.forEach(p -> Children.stop(p, Duration.ofSeconds(20)));
            ctx.db().drop(dbName);
        }
    }
}
