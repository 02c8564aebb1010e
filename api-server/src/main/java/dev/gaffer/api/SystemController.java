package dev.gaffer.api;

import dev.gaffer.api.Responses.Health;
import dev.gaffer.api.Responses.StatsResponse;
import dev.gaffer.api.Responses.Throughput;
import dev.gaffer.api.Responses.WorkerList;
import dev.gaffer.api.Responses.WorkerResponse;
import dev.gaffer.db.Database;
import dev.gaffer.db.WorkerStore;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobStatus;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/** Stats, workers, health, metrics and the API's own documentation. */
final class SystemController {

    private final WorkerStore workers;

    static final int DEFAULT_WINDOW_MINUTES = 15;

    private final Database database;
    private final JobQueries queries;
    private final ApiMetrics metrics;
    private final byte[] openApi = resource("openapi.json");
    private final byte[] docsPage = resource("docs.html");

    SystemController(Database database, JobQueries queries, ApiMetrics metrics) {
        this.database = database;
        this.workers = new WorkerStore(database.dataSource());
        this.queries = queries;
        this.metrics = metrics;
    }

    /** Who the request's key is: the dashboard shows only the buttons its role may use. */
    void me(Context ctx) {
        Authenticator.Principal who = Authenticator.principal(ctx);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("name", who.name());
        body.put("role", who.role().name().toLowerCase(java.util.Locale.ROOT));
        JsonSupport.write(ctx, 200, body);
    }

    void stats(Context ctx) {
        int window = Params.limit(ctx, DEFAULT_WINDOW_MINUTES, JobQueries.MAX_THROUGHPUT_MINUTES, "minutes");
        Map<String, Long> byStatus = new LinkedHashMap<>();
        for (JobStatus s : JobStatus.values()) {
            byStatus.put(s.dbName(), 0L);
        }
        Map<String, Map<String, Long>> byQueue = new TreeMap<>();
        long total = 0;
        for (var row : queries.countByQueueAndStatus()) {
            byStatus.merge(row.status().dbName(), row.count(), Long::sum);
            byQueue.computeIfAbsent(row.queue(), q -> new TreeMap<>())
                    .put(row.status().dbName(), row.count());
            total += row.count();
        }
        var throughput = queries.throughput(window).stream().map(Throughput::of).toList();
        JsonSupport.write(ctx, 200, new StatsResponse(total, byStatus, byQueue, window, throughput));
    }

    void workers(Context ctx) {
        JsonSupport.write(
                ctx,
                200,
                new WorkerList(workers.list().stream().map(WorkerResponse::of).toList()));
    }

    void live(Context ctx) {
        JsonSupport.write(ctx, 200, new Health("up", Map.of()));
    }

    /** Ready when the database answers and has every migration this build knows. */
    void ready(Context ctx) {
        Map<String, String> checks = new TreeMap<>();
        boolean ok = true;
        try {
            queries.lastEventId();
            checks.put("database", "up");
            int pending = database.pendingMigrations();
            checks.put("migrations", pending == 0 ? "current" : pending + " pending (run gaffer migrate)");
            ok = pending == 0;
        } catch (RuntimeException e) {
            checks.put("database", "unreachable");
            ok = false;
        }
        JsonSupport.write(ctx, ok ? 200 : 503, new Health(ok ? "ready" : "not ready", checks));
    }

    void metrics(Context ctx) {
        ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(scrape());
    }

    String scrape() {
        return metrics.scrape(queries);
    }

    void openApi(Context ctx) {
        ctx.contentType("application/json").result(openApi);
    }

    void docs(Context ctx) {
        ctx.contentType("text/html; charset=utf-8").result(docsPage);
    }

    static byte[] resource(String name) {
        try (InputStream in = SystemController.class.getResourceAsStream("/" + name)) {
            if (in == null) {
                throw new IllegalStateException("resource " + name + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
