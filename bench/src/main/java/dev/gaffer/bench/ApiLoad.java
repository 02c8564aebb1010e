package dev.gaffer.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gaffer.db.Database;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.NewJob;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * API: {@code GET /api/v3/jobs/{id}} of a real {@code gaffer api --dev} process on loopback under
 * wrk (warm-up, then a bounded measured run), next to {@code pgbench -S} at the same concurrency
 * on the same server (its own database, scale {@code pgbenchScale}). Also the API's peak RSS.
 */
final class ApiLoad implements Scenario {

    record Config(
            int connections, int threads, Duration warmUp, Duration measured, int pgbenchScale, Duration deadline) {
        /**
         * The warm-up is 30 s (10 s with --quick): the API is a server that runs for days, and with 5 s
         * the measured 10 s were mostly a JVM still compiling the request's path (its C2 threads
         * competing with PostgreSQL for the two cores): 7 540 req/s after 5 s, about 11 000 after
         * 20 s, same build and server (docs/benchmarks.md).
         */
        static Config of(boolean quick) {
            return new Config(
                    16,
                    2,
                    Duration.ofSeconds(quick ? 10 : 30),
                    Duration.ofSeconds(10),
                    10,
                    Duration.ofMinutes(quick ? 4 : 5));
        }
    }

    /** What wrk reported, and the API's peak RSS afterwards. */
    record Result(double requestsPerSecond, double p50, double p99, long errors, double peakRssMiB) {}

    private static final Pattern RPS = Pattern.compile("Requests/sec:\\s+([0-9.]+)");
    private static final Pattern NON_2XX = Pattern.compile("Non-2xx or 3xx responses: (\\d+)");
    private static final Pattern SOCKET_ERRORS =
            Pattern.compile("Socket errors: connect (\\d+), read (\\d+), write (\\d+), timeout (\\d+)");
    private static final Pattern TPS = Pattern.compile("tps = ([0-9.]+)");

    private final Config config;

    ApiLoad(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "api";
    }

    @Override
    public Duration deadline() {
        return config.deadline();
    }

    @Override
    public void runOnce(Context ctx, Measurements out) throws Exception {
        String dbName = ctx.database("api");
        String pgbenchDb = ctx.database("pgbench");
        ctx.db().create(dbName);
        try {
            Result r = load(ctx, dbName, config, "api-run" + ctx.run());
            out.put("GET /api/v3/jobs/{id} requests/s", r.requestsPerSecond(), "req/s");
            out.put("GET /api/v3/jobs/{id} p50", r.p50(), "ms");
            out.put("GET /api/v3/jobs/{id} p99", r.p99(), "ms");
            out.put("GET errors (non-2xx, socket)", r.errors(), "", Measurements.Target.atMost(0, "0"));
            out.put("API peak RSS", r.peakRssMiB(), "MiB");
            ctx.db().createEmpty(pgbenchDb);
            pgbench(ctx, pgbenchDb, out);
        } finally {
            ctx.db().drop(dbName);
            ctx.db().drop(pgbenchDb);
        }
    }

    /** Starts the API on a free loopback port, warms it up, loads it with wrk, stops it. */
    static Result load(Context ctx, String dbName, Config config, String logName) throws Exception {
        long id;
        try (Database db = ctx.db().open(dbName, 2)) {
            ObjectMapper json = new ObjectMapper();
            id = new JobRequests(db.dataSource())
                    .create(NewJob.of("video", json.readTree("{\"prompt\":\"a benchmark\",\"duration_s\":12}"))
                            .withStoryboard(json.readTree(
                                    "{\"scenes\":[{\"title\":\"opening\",\"seconds\":4},{\"title\":\"middle\",\"seconds\":4},"
                                            + "{\"title\":\"ending\",\"seconds\":4}]}")))
                    .job()
                    .id();
        }
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        Process api = ctx.children()
                .api(
                        logName,
                        Map.of("DATABASE_URL", ctx.db().url(dbName)),
                        List.of("--dev", "--host", "127.0.0.1", "--port", Integer.toString(port)));
        try {
            String url = "http://127.0.0.1:" + port + "/api/v3/jobs/" + id;
            awaitOk(url, api);
            wrk(ctx, url, config.connections(), config.threads(), config.warmUp(), logName + "-warmup");
            String text = wrk(ctx, url, config.connections(), config.threads(), config.measured(), logName + "-wrk");
            double rps = Double.parseDouble(find(RPS, text, "Requests/sec"));
            long errors = 0;
            Matcher m = NON_2XX.matcher(text);
            if (m.find()) {
                errors += Long.parseLong(m.group(1));
            }
            m = SOCKET_ERRORS.matcher(text);
            if (m.find()) {
                for (int g = 1; g <= 4; g++) {
                    errors += Long.parseLong(m.group(g));
                }
            }
            return new Result(rps, latency(text, "50%"), latency(text, "99%"), errors, Procfs.peakRssMiB(api.pid()));
        } finally {
            Children.stop(api, Duration.ofSeconds(15));
        }
    }

    private static void awaitOk(String url, Process api) throws Exception {
        HttpClient http =
                HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < end) {
            if (!api.isAlive()) {
                throw new IllegalStateException("gaffer api exited; see its log");
            }
            try {
                HttpResponse<String> r = http.send(
                        HttpRequest.newBuilder(URI.create(url))
                                .timeout(Duration.ofSeconds(2))
                                .build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) {
                    return;
                }
            } catch (java.io.IOException e) {
                // not listening yet
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("gaffer api did not answer " + url + " within 60 s");
    }

    private static String wrk(Context ctx, String url, int connections, int threads, Duration d, String logName)
            throws Exception {
        Process p = ctx.children()
                .command(
                        logName,
                        List.of(
                                "wrk",
                                "-t" + threads,
                                "-c" + connections,
                                "-d" + d.toSeconds() + "s",
                                "--latency",
                                url),
                        Map.of());
        if (!p.waitFor(d.toSeconds() + 30, java.util.concurrent.TimeUnit.SECONDS)) {
            Children.kill(p);
            throw new IllegalStateException("wrk did not end");
        }
        return Files.readString(ctx.children().log(logName));
    }

    /** A latency of wrk's distribution ("  99%    1.23ms") in ms. */
    private static double latency(String text, String percentile) {
        Matcher m = Pattern.compile("\\s" + Pattern.quote(percentile) + "\\s+([0-9.]+)(us|ms|s)\\b")
                .matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("wrk output has no " + percentile + " latency:\n" + text);
        }
        double v = Double.parseDouble(m.group(1));
        return switch (m.group(2)) {
            case "us" -> v / 1000;
            case "s" -> v * 1000;
            default -> v;
        };
    }

    private static String find(Pattern p, String text, String what) {
        Matcher m = p.matcher(text);
        if (!m.find()) {
            throw new IllegalStateException("no " + what + " in:\n" + text);
        }
        return m.group(1);
    }

    private void pgbench(Context ctx, String dbName, Measurements out) throws Exception {
        Path logDir = Files.createTempDirectory("gaffer-pgbench");
        List<String> conn = List.of(
                "-h",
                ctx.db().host(),
                "-p",
                Integer.toString(ctx.db().port()),
                "-U",
                ctx.db().user());
        Map<String, String> env = ctx.db().password() == null
                ? Map.of()
                : Map.of("PGPASSWORD", ctx.db().password());
        List<String> init = new ArrayList<>(List.of("pgbench"));
        init.addAll(conn);
        init.addAll(List.of("-i", "-q", "-s", Integer.toString(config.pgbenchScale()), dbName));
        run(ctx, init, env, "pgbench-init-run" + ctx.run(), Duration.ofMinutes(2));
        List<String> select = new ArrayList<>(List.of("pgbench"));
        select.addAll(conn);
        select.addAll(List.of(
                "-S",
                "-c",
                Integer.toString(config.connections()),
                "-j",
                Integer.toString(config.threads()),
                "-T",
                Long.toString(config.measured().toSeconds()),
                "-l",
                "--log-prefix=" + logDir.resolve("s"),
                dbName));
        String text = run(
                ctx, select, env, "pgbench-S-run" + ctx.run(), config.measured().plusSeconds(60));
        List<Double> ms = new ArrayList<>();
        try (Stream<Path> logs = Files.list(logDir)) {
            for (Path log : logs.toList()) {
                for (String line : Files.readAllLines(log)) {
                    String[] f = line.split(" ");
                    if (f.length > 2) {
                        ms.add(Long.parseLong(f[2]) / 1000.0);
                    }
                }
                Files.delete(log);
            }
        }
        Files.delete(logDir);
        Percentiles p = new Percentiles(ms);
        out.put("pgbench -S tps", Double.parseDouble(find(TPS, text, "tps")), "tx/s");
        out.put("pgbench -S p50", p.p(50), "ms");
        out.put("pgbench -S p99", p.p(99), "ms");
    }

    private static String run(Context ctx, List<String> cmd, Map<String, String> env, String logName, Duration limit)
            throws Exception {
        Process p = ctx.children().command(logName, cmd, env);
        if (!p.waitFor(limit.toSeconds(), java.util.concurrent.TimeUnit.SECONDS)) {
            Children.kill(p);
            throw new IllegalStateException(cmd.getFirst() + " did not end within " + limit);
        }
        String text = Files.readString(ctx.children().log(logName));
        if (p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed:\n" + text);
        }
        return text;
    }
}
