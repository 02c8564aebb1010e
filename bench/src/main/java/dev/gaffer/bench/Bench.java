package dev.gaffer.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Gaffer's benchmarks, one command: {@code bench/run [--scenario a,b] [--quick] [--runs N]
 * [--wait-quiet LOAD]}. Each scenario run has a hard deadline; the runs of all scenarios are
 * interleaved (run 1 of each, then run 2 of each, …) so that a noisy minute spreads over all of
 * them; the table shows the median, min and max of the runs. Results go to bench/results/.
 */
public final class Bench {

    static final List<String> ALL =
            List.of("burndown", "pingpong", "recovery", "scale", "api", "memory", "sqlcost", "enqueue");
    private static final Duration QUIET_WAIT_LIMIT = Duration.ofMinutes(10);

    private Bench() {}

    public static void main(String[] args) throws Exception {
        List<String> names = ALL;
        boolean quick = false;
        Integer runs = null;
        double quietLoad = Double.NaN;
        Integer burnDownJobs = null;
        boolean withPeer = true;
        boolean peers = false;
        String peersOnly = null;
        Integer peersJobs = null;
        Integer peersWarmUp = null;
        Integer peersTimeout = null;
        List<String> variants = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--scenario", "--scenarios" -> names = Arrays.asList(args[++i].split(","));
                case "--quick" -> quick = true;
                case "--runs" -> runs = Integer.parseInt(args[++i]);
                case "--wait-quiet" -> quietLoad = Double.parseDouble(args[++i]);
                case "--jobs" -> burnDownJobs = Integer.parseInt(args[++i]);
                case "--gaffer-only" -> withPeer = false;
                case "--variants" -> variants = Arrays.asList(args[++i].split(","));
                case "--peers" -> peers = true;
                case "--peers-only" -> {
                    peers = true;
                    peersOnly = args[++i];
                }
                case "--peers-jobs" -> peersJobs = Integer.parseInt(args[++i]);
                case "--peers-warmup" -> peersWarmUp = Integer.parseInt(args[++i]);
                case "--peers-timeout" -> peersTimeout = Integer.parseInt(args[++i]);
                case "-h", "--help" -> {
                    System.out.println("usage: bench/run [--scenario " + String.join(",", ALL)
                            + "] [--quick] [--runs N] [--wait-quiet LOAD1]"
                            + " [--jobs N (burn-down size)] [--gaffer-only (burn-down without db-scheduler)]"
                            + " [--variants 1x64,2x32 (burn-down: only these Gaffer variants)]"
                            + " [--peers (burn-down: also the external peers, via PEERS_RUN, default"
                            + " ../shared/peers/run)] [--peers-only graphile,pgboss,jobrunr,rawsql]"
                            + " [--peers-jobs N (default: --jobs)] [--peers-warmup N (5000)]"
                            + " [--peers-timeout S (per drain, 300)]");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (try --help)");
            }
        }
        for (String n : names) {
            if (!ALL.contains(n)) {
                throw new IllegalArgumentException("unknown scenario " + n + "; known: " + ALL);
            }
        }
        int runCount = runs != null ? runs : quick ? 1 : 3;
        Peers.Config peersConfig = null;
        if (peers) {
            if (!names.contains("burndown")) {
                Context.log("WARNING: --peers applies to the burndown scenario only, which is not selected");
            }
            peersConfig = Peers.Config.defaults(quick); // its jobs: those of the burn-down, see scenario()
            if (peersOnly != null) {
                peersConfig = peersConfig.withOnly(peersOnly);
            }
            if (peersWarmUp != null) {
                peersConfig = peersConfig.withWarmUp(peersWarmUp);
            }
            if (peersTimeout != null) {
                peersConfig = peersConfig.withTimeout(peersTimeout);
            }
            if (!Double.isNaN(quietLoad)) {
                peersConfig = peersConfig.withQuietLoad(quietLoad);
            }
        }
        Path results = Path.of("bench", "results").toAbsolutePath();
        Files.createDirectories(results);

        String url = System.getenv("DATABASE_URL");
        Map<String, Object> machine = machine();
        Context.log("machine: %s", machine);
        try (BenchDatabase db = url == null || url.isBlank()
                        ? BenchDatabase.embedded(Path.of(System.getProperty("bench.pgdata", "bench/target/pgdata")))
                        : BenchDatabase.external(url);
                Children children = new Children(
                        Path.of(System.getProperty("gaffer.jar", "cli/target/gaffer.jar")),
                        Path.of(System.getProperty("gaffer.launcher", "gaffer")).toAbsolutePath(),
                        results.resolve("logs"))) {
            Map<String, String> server = db.describe();
            Context.log("PostgreSQL: %s (%s)", server, db.isEmbedded() ? "embedded" : "DATABASE_URL");
            if (!"on".equals(server.get("synchronous_commit")) || !"on".equals(server.get("fsync"))) {
                Context.log("WARNING: fsync or synchronous_commit is off: these numbers are not comparable");
            }
            db.prepareTemplate();

            Map<String, List<Measurements>> done = new LinkedHashMap<>();
            Map<String, Scenario> scenarios = new LinkedHashMap<>();
            Map<String, List<String>> failures = new LinkedHashMap<>();
            List<String> loads = new ArrayList<>();
            for (int run = 1; run <= runCount; run++) {
                for (String name : names) {
                    Scenario s = scenario(name, quick, burnDownJobs, variants, withPeer, peersConfig, peersJobs);
                    scenarios.put(name, s);
                    if (!Double.isNaN(quietLoad)) {
                        waitQuiet(quietLoad);
                    }
                    String load = Procfs.loadavg();
                    loads.add(name + " run " + run + ": " + load);
                    Context.log(
                            "=== %s, run %d of %d (loadavg %s, deadline %d s)",
                            name, run, runCount, load, s.deadline().toSeconds());
                    Measurements m = new Measurements();
                    Context ctx = new Context(db, children, quick, run, results);
                    String failure = runBounded(s, ctx, m);
                    s.afterRun(ctx, m);
                    m.put("load1 at start", Double.parseDouble(load.split(" ")[0]), "");
                    done.computeIfAbsent(name, k -> new ArrayList<>()).add(m);
                    if (failure != null) {
                        failures.computeIfAbsent(name, k -> new ArrayList<>()).add("run " + run + ": " + failure);
                        Context.log("%s run %d: %s", name, run, failure);
                    }
                    m.values.forEach((k, v) -> Context.log("  %s: %s", k, fmt(v)));
                    m.failures.forEach(f -> Context.log("  FAILED %s", f));
                }
            }
            String table = table(done, failures);
            Map<String, String> summaries = new LinkedHashMap<>();
            done.forEach((name, ms) -> {
                String text = scenarios.get(name).summary(ms);
                if (!text.isBlank()) {
                    summaries.put(name, text);
                }
            });
            System.out.println();
            System.out.println(table);
            summaries.values().forEach(System.out::println);
            write(
                    results,
                    machine,
                    server,
                    db.isEmbedded(),
                    String.join(" ", args),
                    quick,
                    loads,
                    done,
                    failures,
                    table,
                    summaries);
        }
        System.exit(0);
    }

    static Scenario scenario(
            String name,
            boolean quick,
            Integer burnDownJobs,
            List<String> variants,
            boolean withPeer,
            Peers.Config peers,
            Integer peersJobs) {
        return switch (name) {
            case "burndown" -> {
                BurnDown.Config c = BurnDown.Config.of(quick);
                if (burnDownJobs != null) {
                    c = c.withJobs(burnDownJobs);
                }
                if (variants != null) {
                    c = c.withVariants(variants);
                }
                if (peers != null) {
                    // As many jobs as Gaffer's drains unless --peers-jobs says otherwise.
                    c = c.withPeers(peers.withJobs(peersJobs != null ? peersJobs : c.jobs()));
                }
                yield new BurnDown(withPeer ? c : c.withoutPeer());
            }
            case "pingpong" -> new PingPong(PingPong.Config.of(quick));
            case "recovery" -> new Recovery(Recovery.Config.of(quick));
            case "scale" -> new Scale(Scale.Config.of(quick));
            case "api" -> new ApiLoad(ApiLoad.Config.of(quick));
            case "memory" -> new Memory(Memory.Config.of(quick));
            case "sqlcost" -> new SqlCost(SqlCost.Config.of(quick));
            case "enqueue" -> new Enqueue(Enqueue.Config.of(quick));
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** Runs one scenario run under its deadline; returns null, or why it did not finish. */
    private static String runBounded(Scenario s, Context ctx, Measurements m) {
        ExecutorService ex = Executors.newSingleThreadExecutor(r -> new Thread(r, "scenario-" + s.name()));
        Future<?> f = ex.submit(() -> {
            s.runOnce(ctx, m);
            return null;
        });
        try {
            f.get(s.deadline().toMillis(), TimeUnit.MILLISECONDS);
            return null;
        } catch (TimeoutException e) {
            f.cancel(true);
            ctx.children().killAll();
            awaitQuietly(ex);
            return "timed out after " + s.deadline().toSeconds() + " s";
        } catch (ExecutionException e) {
            ctx.children().killAll();
            e.getCause().printStackTrace();
            return "failed: " + e.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        } finally {
            ex.shutdownNow();
        }
    }

    private static void awaitQuietly(ExecutorService ex) {
        ex.shutdownNow();
        try {
            ex.awaitTermination(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Waits (bounded) until the 1-minute load average is below {@code limit}. */
    private static void waitQuiet(double limit) throws InterruptedException {
        long end = System.nanoTime() + QUIET_WAIT_LIMIT.toNanos();
        while (Procfs.load1() >= limit && System.nanoTime() < end) {
            Context.log("waiting for a quiet machine: loadavg %s, want < %.2f", Procfs.loadavg(), limit);
            Thread.sleep(15_000);
        }
    }

    // ---- the table -------------------------------------------------------------------------

    /** Median, min and max of one metric over the runs that have a value for it. */
    record Stats(Measurements.Metric metric, double median, double min, double max, int n) {}

    /** Every metric of these runs (in the order they first appear) that has at least one value. */
    static Map<String, Stats> stats(List<Measurements> runs) {
        LinkedHashSet<String> metrics = new LinkedHashSet<>();
        runs.forEach(m -> metrics.addAll(m.metrics.keySet()));
        Map<String, Stats> out = new LinkedHashMap<>();
        for (String metric : metrics) {
            Measurements.Metric def = null;
            List<Double> vs = new ArrayList<>();
            for (Measurements m : runs) {
                if (m.metrics.containsKey(metric)) {
                    def = m.metrics.get(metric);
                    Double v = m.values.get(metric);
                    if (v != null && !Double.isNaN(v)) {
                        vs.add(v);
                    }
                }
            }
            if (!vs.isEmpty()) {
                vs.sort(Double::compare);
                out.put(metric, new Stats(def, median(vs), vs.getFirst(), vs.getLast(), vs.size()));
            }
        }
        return out;
    }

    static String table(Map<String, List<Measurements>> done, Map<String, List<String>> failures) {
        StringBuilder sb = new StringBuilder();
        sb.append("| scenario | metric | median | min | max | runs | unit | target | met |\n");
        sb.append("| --- | --- | ---: | ---: | ---: | ---: | --- | --- | --- |\n");
        done.forEach((scenario, runs) -> {
            stats(runs).forEach((metric, st) -> {
                Measurements.Target t = st.metric().target();
                sb.append(String.format(
                        Locale.ROOT,
                        "| %s | %s | %s | %s | %s | %d | %s | %s | %s |%n",
                        scenario,
                        metric,
                        fmt(st.median()),
                        fmt(st.min()),
                        fmt(st.max()),
                        st.n(),
                        st.metric().unit(),
                        t == null ? "" : t.text(),
                        t == null ? "" : t.met(st.median()) ? "yes" : "**no**"));
            });
            for (String f : failures.getOrDefault(scenario, List.of())) {
                sb.append("| ").append(scenario).append(" | ").append(f).append(" | | | | | | | |\n");
            }
            for (int i = 0; i < runs.size(); i++) {
                for (String f : runs.get(i).failures) {
                    sb.append("| ")
                            .append(scenario)
                            .append(" | run ")
                            .append(i + 1)
                            .append(": ")
                            .append(f.replace("|", "\\|").replace('\n', ' '))
                            .append(" | | | | | | | |\n");
                }
            }
        });
        return sb.toString();
    }

    static double median(List<Double> sorted) {
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) {
            return "n/a";
        }
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%,.0f", v).replace(',', ' ');
        }
        return String.format(Locale.ROOT, Math.abs(v) >= 10 ? "%.1f" : "%.2f", v);
    }

    // ---- the record ------------------------------------------------------------------------

    private static Map<String, Object> machine() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("cpus", Runtime.getRuntime().availableProcessors());
        try {
            m.put(
                    "cpu",
                    Files.readAllLines(Path.of("/proc/cpuinfo")).stream()
                            .filter(l -> l.startsWith("model name"))
                            .findFirst()
                            .map(l -> l.substring(l.indexOf(':') + 1).strip())
                            .orElse("?"));
            m.put(
                    "memory",
                    Files.readAllLines(Path.of("/proc/meminfo")).getFirst().replaceAll("\\s+", " "));
            m.put(
                    "kernel",
                    Files.readString(Path.of("/proc/sys/kernel/osrelease")).strip());
        } catch (IOException e) {
            // not Linux: leave it out
        }
        m.put("java", Runtime.version().toString() + " " + System.getProperty("java.vm.name"));
        String dirty = git("status", "--porcelain", "--untracked-files=no");
        m.put("gaffer commit", git("rev-parse", "--short", "HEAD") + (dirty.isEmpty() ? "" : " (uncommitted changes)"));
        m.put(
                "migrations in gaffer.jar",
                migrations(Path.of(System.getProperty("gaffer.jar", "cli/target/gaffer.jar"))));
        return m;
    }

    /**
     * The schema a run measures: the number of migrations in the jar under test and the newest. A
     * migration left in a build's output by an experiment shows here (2026-12-08: one did).
     */
    private static String migrations(Path jar) {
        try (var zip = new java.util.zip.ZipFile(jar.toFile())) {
            List<String> names = zip.stream()
                    .map(java.util.zip.ZipEntry::getName)
                    .filter(n -> n.startsWith("db/migration/V") && n.endsWith(".sql"))
                    .map(n -> n.substring("db/migration/".length()))
                    .sorted()
                    .toList();
            return names.isEmpty() ? "none" : names.size() + ", newest " + names.getLast();
        } catch (IOException e) {
            return "? (" + e.getMessage() + ")";
        }
    }

    private static String git(String... args) {
        try {
            List<String> cmd = new ArrayList<>(List.of("git"));
            cmd.addAll(List.of(args));
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).strip();
            p.waitFor(10, TimeUnit.SECONDS);
            return out;
        } catch (IOException | InterruptedException e) {
            return "?";
        }
    }

    private static void write(
            Path dir,
            Map<String, Object> machine,
            Map<String, String> server,
            boolean embedded,
            String args,
            boolean quick,
            List<String> loads,
            Map<String, List<Measurements>> done,
            Map<String, List<String>> failures,
            String table,
            Map<String, String> summaries)
            throws IOException {
        String stamp = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .withZone(ZoneOffset.UTC)
                .format(Instant.now());
        String base = "bench-" + stamp + (quick ? "-quick" : "");
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("when", Instant.now().toString());
        json.put("command", ("bench/run " + args).strip());
        json.put("machine", machine);
        json.put("postgresql", server);
        json.put("postgresql_mode", embedded ? "embedded" : "DATABASE_URL");
        json.put("loadavg_before_each_run", loads);
        Map<String, Object> sc = new LinkedHashMap<>();
        done.forEach((name, ms) -> {
            List<Object> rs = new ArrayList<>();
            for (Measurements m : ms) {
                rs.add(Map.of("values", m.values, "notes", m.notes, "failures", m.failures));
            }
            sc.put(name, rs);
        });
        json.put("scenarios", sc);
        json.put("failures", failures);
        json.put("summaries", summaries);
        new ObjectMapper()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .writeValue(dir.resolve(base + ".json").toFile(), json);
        StringBuilder md = new StringBuilder();
        md.append("# Gaffer bench, ").append(json.get("when")).append("\n\n");
        md.append("Command: `").append(json.get("command")).append("`\n\n");
        md.append("Machine: ").append(machine).append("\n\n");
        md.append("PostgreSQL (")
                .append(json.get("postgresql_mode"))
                .append("): ")
                .append(server)
                .append("\n\n");
        md.append(table).append("\n");
        summaries.values().forEach(text -> md.append(text).append("\n"));
        md.append("Load average before each run:\n\n");
        loads.forEach(l -> md.append("- ").append(l).append('\n'));
        md.append("\nNotes:\n\n");
        done.forEach((name, ms) -> {
            for (int i = 0; i < ms.size(); i++) {
                for (String n : ms.get(i).notes) {
                    md.append("- ")
                            .append(name)
                            .append(" run ")
                            .append(i + 1)
                            .append(": ")
                            .append(n)
                            .append('\n');
                }
            }
        });
        Files.writeString(dir.resolve(base + ".md"), md);
        Context.log("results written to %s.{md,json}", dir.resolve(base));
    }
}
