package dev.gaffer.api;

import static io.javalin.apibuilder.ApiBuilder.get;
import static io.javalin.apibuilder.ApiBuilder.path;
import static io.javalin.apibuilder.ApiBuilder.post;

import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseException;
import dev.gaffer.db.NotificationListener;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobStore;
import io.javalin.Javalin;
import io.javalin.http.HandlerType;
import io.javalin.http.HttpResponseException;
import io.javalin.http.staticfiles.Location;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The API server: its dependencies come in through the constructor, {@link #start(int)} binds
 * (port 0 picks a free one, for tests), {@link #stop()} ends streams and the listener. Every route
 * is declared in {@link #routes()}, with the role it needs.
 */
public final class ApiServer implements AutoCloseable {

    /** A registered route, as the OpenAPI document must list it. */
    public record Route(String method, String path) {}

    private static final Logger log = LoggerFactory.getLogger(ApiServer.class);

    private final ApiConfig config;
    private final NotificationListener listener;
    private final SseHub hub;
    private final ApiMetrics metrics;
    private final Authenticator auth;
    private final JobController jobs;
    private final StreamController streams;
    private final SystemController system;
    private final ArtifactController artifacts;
    private final List<Route> registered = new CopyOnWriteArrayList<>();
    private Javalin app;
    private boolean stopped;

    public ApiServer(Database database, JobStore store, JobQueries queries, ApiKeyStore keys, ApiConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        this.metrics = new ApiMetrics(database.dataSource());
        this.auth = new Authenticator(keys, config.auth());
        this.hub = new SseHub(store, queries);
        // Live streams show every event: the work hints and the progress hints.
        this.listener = new NotificationListener(
                database,
                List.of(JobStore.CHANNEL, JobStore.EVENTS_CHANNEL),
                NotificationListener.DEFAULT_PING_INTERVAL,
                NotificationListener.DEFAULT_PING_TIMEOUT);
        listener.subscribe(hub);
        this.jobs = new JobController(store, queries, config, metrics);
        this.streams = new StreamController(store, hub);
        this.system = new SystemController(database, queries, metrics);
        // The API only reads artifacts; their size cap is the workers' to enforce when writing.
        this.artifacts =
                new ArtifactController(store, new ArtifactStore(database.dataSource(), ArtifactStore.HARD_MAX_BYTES));
    }

    /** Every route, with the least role it needs. The OpenAPI document lists exactly these. */
    private void routes() {
        path("api/v3", () -> {
            path("jobs", () -> {
                get(jobs::list, Access.READ);
                post(jobs::create, Access.SUBMIT);
                path("{id}", () -> {
                    get(jobs::get, Access.READ);
                    post("approve", jobs::approve, Access.APPROVE);
                    post("cancel", jobs::cancel, Access.APPROVE);
                    post("retry", jobs::retry, Access.APPROVE);
                    get("subjobs", jobs::subJobs, Access.READ);
                    get("events", jobs::events, Access.READ);
                    get("stream", streams::jobStream, Access.READ);
                    get("artifacts", artifacts::list, Access.READ);
                    get("artifacts/{name}", artifacts::download, Access.READ);
                });
            });
            get("events", streams::allEvents, Access.READ);
            get("stats", system::stats, Access.READ);
            get("workers", system::workers, Access.READ);
            get("me", system::me, Access.READ);
            get("openapi.json", system::openApi, Access.PUBLIC);
            get("docs", system::docs, Access.PUBLIC);
        });
        get("health/live", system::live, Access.PUBLIC);
        get("health/ready", system::ready, Access.PUBLIC);
        get("metrics", system::metrics, Access.PUBLIC);
    }

    public ApiServer start() {
        return start(config.port());
    }

    public synchronized ApiServer start(int port) {
        if (app != null) {
            throw new IllegalStateException("already started");
        }
        app = Javalin.create(cfg -> {
            cfg.startup.showJavalinBanner = false;
            cfg.concurrency.useVirtualThreads = true;
            cfg.http.maxRequestSize = config.maxBodyBytes();
            cfg.http.defaultContentType = "application/json";
            cfg.router.ignoreTrailingSlashes = true;
            // The dashboard: public static files at /, which call the API with the user's key.
            cfg.staticFiles.add(files -> {
                files.hostedPath = "/";
                files.directory = "/dashboard";
                files.location = Location.CLASSPATH;
                files.headers = Map.of("Cache-Control", "no-cache", "X-Content-Type-Options", "nosniff");
            });
            cfg.events.handlerAdded(h -> {
                if (isHttpMethod(h.getHttpMethod())) {
                    registered.add(new Route(h.getHttpMethod().name(), h.getPath()));
                }
            });
            cfg.requestLogger.http((ctx, ms) -> {
                var endpoint = ctx.endpoints().matchedHttpEndpoint();
                metrics.httpRequest(
                        ctx.method().name(),
                        endpoint == null ? "unmatched" : endpoint.path,
                        ctx.statusCode(),
                        Duration.ofNanos((long) (ms * 1_000_000)));
            });
            cfg.routes.beforeMatched(auth::check);
            cfg.routes.exception(ApiException.class, ErrorMapper::api);
            cfg.routes.exception(InvalidJobException.class, ErrorMapper::invalidJob);
            cfg.routes.exception(DatabaseException.class, ErrorMapper::database);
            cfg.routes.exception(HttpResponseException.class, ErrorMapper::javalin);
            cfg.routes.exception(Exception.class, ErrorMapper::unexpected);
            cfg.routes.apiBuilder(this::routes);
        });
        hub.start();
        listener.start();
        app.start(config.host(), port);
        log.info(
                "gaffer api listening on {}:{} (auth {}, job types {})",
                config.host(),
                app.port(),
                config.auth() ? "on" : "OFF (dev)",
                config.jobTypes());
        return this;
    }

    public int port() {
        return app.port();
    }

    /** The routes Javalin registered, for the OpenAPI check. */
    public List<Route> registeredRoutes() {
        return List.copyOf(registered);
    }

    public synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        hub.close();
        listener.close();
        if (app != null) {
            app.stop();
        }
        metrics.close();
    }

    @Override
    public void close() {
        stop();
    }

    private static boolean isHttpMethod(HandlerType t) {
        return t == HandlerType.GET
                || t == HandlerType.POST
                || t == HandlerType.PUT
                || t == HandlerType.PATCH
                || t == HandlerType.DELETE;
    }
}
