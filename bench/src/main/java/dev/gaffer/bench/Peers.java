package dev.gaffer.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The external peers of the burn-down (graphile-worker, pg-boss, JobRunr and the raw-SQL limit),
 * run by the peers harness ({@code ../shared/peers/run}, see its README.md) once per bench run,
 * after Gaffer's and db-scheduler's variants of that run, against the same PostgreSQL server. The
 * harness writes one JSON line per variant; each becomes rows of the burn-down result, named
 * {@code <peer> <variant> …} like {@code gaffer 1×16 …}, so the table takes their median, min and
 * max over the runs like any other row. A harness that fails, or a variant that times out, is
 * recorded with {@link Measurements#fail} and the bench carries on.
 */
final class Peers {

    /** The peers' display names, in the order of the harness. */
    static final List<String> NAMES = List.of("graphile-worker", "pg-boss", "JobRunr", "raw SQL");

    /** The harness's variants per --only name (for the bound on its run time). */
    private static final Map<String, Integer> VARIANTS = Map.of("graphile", 4, "pgboss", 3, "jobrunr", 2, "rawsql", 4);

    private static final Pattern RESULTS = Pattern.compile("^results: (\\S+\\.jsonl)", Pattern.MULTILINE);

    /**
     * Where the harness is and what it runs: {@code --jobs}, {@code --warmup}, {@code --timeout}
     * (per drain), {@code --only}, and {@code --wait-quiet} (NaN: none).
     */
    record Config(Path run, Path work, int jobs, int warmUp, int timeoutSeconds, String only, double quietLoad) {

        /**
         * The harness: PEERS_RUN, else {@code ../shared/peers/run} next to the repository (the
         * bench runs in its root); its working copy: PEERS_WORK, else /work/peers if writable, else
         * $TMPDIR/gaffer-peers. The jobs are set with {@link #withJobs}: as many as the burn-down's.
         */
        static Config defaults(boolean quick) {
            String run = System.getenv("PEERS_RUN");
            Path runPath = run != null && !run.isBlank() ? Path.of(run) : Path.of("..", "shared", "peers", "run");
            String work = System.getenv("PEERS_WORK");
            Path workPath;
            if (work != null && !work.isBlank()) {
                workPath = Path.of(work);
            } else if (Files.isDirectory(Path.of("/work/peers")) && Files.isWritable(Path.of("/work/peers"))) {
                workPath = Path.of("/work/peers");
            } else {
                workPath = Path.of(System.getProperty("java.io.tmpdir"), "gaffer-peers");
            }
            return new Config(
                    runPath.toAbsolutePath().normalize(),
                    workPath.toAbsolutePath().normalize(),
                    0,
                    quick ? 2_000 : 5_000,
                    quick ? 120 : 300,
                    "graphile,pgboss,jobrunr,rawsql",
                    Double.NaN);
        }

        /** The display names of the peers --only selects, in the order of {@link #NAMES}. */
        List<String> names() {
            List<String> selected = new ArrayList<>();
            for (String o : only.split(",")) {
                selected.add(name(o.strip()));
            }
            return NAMES.stream().filter(selected::contains).toList();
        }

        Config withJobs(int n) {
            return new Config(run, work, n, warmUp, timeoutSeconds, only, quietLoad);
        }

        Config withWarmUp(int n) {
            return new Config(run, work, jobs, n, timeoutSeconds, only, quietLoad);
        }

        Config withTimeout(int seconds) {
            return new Config(run, work, jobs, warmUp, seconds, only, quietLoad);
        }

        Config withOnly(String list) {
            return new Config(run, work, jobs, warmUp, timeoutSeconds, list, quietLoad);
        }

        Config withQuietLoad(double load) {
            return new Config(run, work, jobs, warmUp, timeoutSeconds, only, load);
        }

        /**
         * How long one harness run may take before the bench kills it: what the harness allows
         * itself per variant (drain timeout + 240 s for the insert, + 10 s grace), plus 15 min for
         * installing (npm ci, the JobRunr build) and, with --wait-quiet, 10 min per variant.
         */
        Duration bound() {
            int variants = 0;
            for (String o : only.split(",")) {
                variants += VARIANTS.getOrDefault(o.strip(), 1);
            }
            long perVariant = timeoutSeconds + 250L + (Double.isNaN(quietLoad) ? 0 : 600);
            return Duration.ofSeconds(variants * perVariant + 900);
        }
    }

    private Peers() {}

    /** Runs the harness once (--runs 1) and turns its lines into rows of {@code out}. Never throws. */
    static void run(Context ctx, Config config, Measurements out) {
        try {
            runHarness(ctx, config, out);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            out.fail("peers: interrupted");
        } catch (Exception e) {
            e.printStackTrace();
            out.fail("peers: " + e);
        }
    }

    private static void runHarness(Context ctx, Config config, Measurements out) throws Exception {
        if (!Files.isExecutable(config.run())) {
            out.fail("peers: no harness at " + config.run() + " (set PEERS_RUN)");
            return;
        }
        // The same server, login and password as Gaffer's; the harness makes its peers_* databases there.
        String url = ctx.db().url("postgres");
        List<String> cmd = new ArrayList<>(List.of(
                config.run().toString(),
                "--jobs",
                Integer.toString(config.jobs()),
                "--runs",
                "1",
                "--warmup",
                Integer.toString(config.warmUp()),
                "--timeout",
                Integer.toString(config.timeoutSeconds()),
                "--only",
                config.only()));
        if (!Double.isNaN(config.quietLoad())) {
            cmd.add("--wait-quiet");
            cmd.add(Double.toString(config.quietLoad()));
        }
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PEERS_WORK", config.work().toString());
        env.put("PEERS_DATABASE_URL", url);
        String logName = "burndown-peers-run" + ctx.run();
        Path log = ctx.children().log(logName);
        Duration bound = config.bound();
        Context.log(
                "peers: %s (PEERS_WORK=%s, server %s:%d, log %s, bound %d s)",
                String.join(" ", cmd), config.work(), ctx.db().host(), ctx.db().port(), log, bound.toSeconds());
        out.note("peers: " + String.join(" ", cmd) + " with PEERS_WORK=" + config.work() + "; its output: " + log);
        long t0 = System.nanoTime();
        Process p = ctx.children().command(logName, cmd, env);
        boolean ended;
        try {
            ended = p.waitFor(bound.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Children.killTree(p);
            throw e;
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (!ended) {
            Children.killTree(p);
            out.fail(String.format(
                    "peers: the harness was killed after %.0f s (bound %d s); the later variants did not run",
                    seconds, bound.toSeconds()));
        } else if (p.exitValue() != 0) {
            out.fail("peers: the harness exited with " + p.exitValue() + " after " + Math.round(seconds) + " s; see "
                    + log);
        }
        String text = Files.readString(log);
        Matcher m = RESULTS.matcher(text);
        if (!m.find()) {
            out.fail("peers: the harness named no results file; see " + log);
            return;
        }
        Path jsonl = config.work().resolve(m.group(1));
        out.note("peers: results of the harness in " + jsonl);
        List<String> lines = Files.exists(jsonl) ? Files.readAllLines(jsonl) : List.of();
        int parsed = 0;
        ObjectMapper json = new ObjectMapper();
        for (String line : lines) {
            if (line.isBlank()) {
                continue;
            }
            try {
                record(json.readTree(line), out);
                parsed++;
            } catch (IOException | RuntimeException e) {
                String why = String.valueOf(e.getMessage()).lines().findFirst().orElse("");
                out.fail("peers: unreadable result line " + line + ": " + why);
            }
        }
        if (parsed == 0) {
            out.fail("peers: no result in " + jsonl);
        }
        Context.log("peers: %d result(s) in %.0f s", parsed, seconds);
    }

    /** One line of the harness: rows for an ok run, a failure otherwise. */
    static void record(JsonNode r, Measurements out) {
        String label =
                name(r.path("peer").asText("?")) + " " + r.path("variant").asText("?");
        String status = r.path("status").asText("?");
        if (r.has("version") || r.has("settings")) {
            String settings = r.path("settings").asText("");
            out.note(label + ": " + r.path("version").asText("?") + (settings.isEmpty() ? "" : ", " + settings)
                    + (r.has("load1") ? ", load1 before " + r.path("load1").asText() : ""));
        }
        if (!"ok".equals(status)) {
            String why = "timeout".equals(status)
                    ? "executed " + r.path("executed").asText("?") + " of "
                            + r.path("jobs").asText("?") + " within "
                            + r.path("seconds").asText("?") + " s"
                    : r.path("error").asText("").lines().findFirst().orElse("");
            String phase = r.has("phase") ? " (" + r.path("phase").asText() + ")" : "";
            out.fail(label + ": " + status + phase + ": " + why);
            return;
        }
        double jobs = r.path("jobs").asDouble();
        double seconds = r.path("seconds").asDouble();
        out.put(label + " jobs/s", jobs / seconds, "jobs/s");
        out.put(label + " server CPU/job", r.path("pg_cpu_s").asDouble(Double.NaN) * 1e6 / jobs, "µs");
        out.put(label + " client CPU/job", r.path("peer_cpu_s").asDouble(Double.NaN) * 1e6 / jobs, "µs");
        if (r.hasNonNull("warmup_jobs_per_s")) {
            out.put(
                    label + " warm-up jobs/s (fresh process)",
                    r.path("warmup_jobs_per_s").asDouble(),
                    "jobs/s");
        }
        if (r.hasNonNull("first_job_s")) {
            out.put(label + " start → first job", r.path("first_job_s").asDouble(), "s");
        }
        long executed = r.path("executed").asLong(-1);
        if (executed >= 0 && executed != (long) jobs) {
            out.fail(label + ": the handler ran " + executed + " times for " + (long) jobs + " jobs");
        }
    }

    /** The harness's peer names (its drivers' own, or --only's on an error line) as displayed. */
    static String name(String raw) {
        return switch (raw) {
            case "graphile-worker", "graphile" -> "graphile-worker";
            case "pg-boss", "pgboss" -> "pg-boss";
            case "jobrunr", "JobRunr" -> "JobRunr";
            default -> raw.startsWith("raw SQL") || raw.equals("rawsql") ? "raw SQL" : raw;
        };
    }
}
