package dev.gaffer.api;

import static io.javalin.apibuilder.ApiBuilder.delete;
import static io.javalin.apibuilder.ApiBuilder.get;
import static io.javalin.apibuilder.ApiBuilder.patch;
import static io.javalin.apibuilder.ApiBuilder.path;
import static io.javalin.apibuilder.ApiBuilder.post;
import static io.javalin.apibuilder.ApiBuilder.put;

import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseException;
import dev.gaffer.db.NotificationListener;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.JobHistory;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.JobTypeValidators;
import dev.gaffer.job.ReviewTrail;
import dev.gaffer.metrics.MetricsEndpoint;
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
    private final ReviewController reviews;
    private final StreamController streams;
    private final SystemController system;
    private final ArtifactController artifacts;
    private final SceneController scenes;
    private final CallbackController callbacks;
    private final List<Route> registered = new CopyOnWriteArrayList<>();
    private Javalin app;
    private MetricsEndpoint metricsEndpoint;
    private boolean stopped;

    /** The event of {@link ApiKeyStore#KEYS_CHANNEL} hints. */
    private static final String KEY_REVOKED = "key_revoked";

    public ApiServer(Database database, JobRequests requests, JobQueries queries, ApiKeyStore keys, ApiConfig config) {
        this(database, requests, queries, keys, config, JobTypeValidators.discover());
    }

    /** With the validators of job types beyond those on the class path (handler jars). */
    public ApiServer(
            Database database,
            JobRequests requests,
            JobQueries queries,
            ApiKeyStore keys,
            ApiConfig config,
            JobTypeValidators validators) {
        this.config = Objects.requireNonNull(config, "config");
        this.metrics = new ApiMetrics(database.dataSource());
        this.auth = new Authenticator(keys, config.auth());
        this.hub = new SseHub(queries);
        // Live streams show every event: the work hints and the progress hints. Key revocations
        // end the key's use in this process at once.
        this.listener = new NotificationListener(
                database,
                List.of(JobHistory.CHANNEL, JobHistory.EVENTS_CHANNEL, ApiKeyStore.KEYS_CHANNEL),
                NotificationListener.DEFAULT_PING_INTERVAL,
                NotificationListener.DEFAULT_PING_TIMEOUT);
        listener.subscribe(hub);
        listener.subscribe(new NotificationListener.Subscriber() {
            @Override
            public void onHint(NotificationListener.Hint hint) {
                if (KEY_REVOKED.equals(hint.event()) && hint.id() != null) {
                    auth.revoked(hint.id());
                    int ended = hub.endStreamsOfKey(hint.id());
                    log.info("API key {} was revoked: dropped from the cache, {} stream(s) ended", hint.id(), ended);
                }
            }

            @Override
            public void onConnectionChange(boolean listening) {
                if (listening) {
                    // Revocations announced while the connection was down were not heard.
                    auth.forgetAll();
                }
            }
        });
        ReviewTrail trail = new ReviewTrail(database.dataSource());
        this.jobs = new JobController(
                requests,
                queries,
                trail,
                new dev.gaffer.job.PreviewStore(database.dataSource()),
                config,
                metrics,
                validators);
        this.scenes = new SceneController(requests, queries, validators, jobs, config, metrics);
        this.callbacks = new CallbackController(
                new dev.gaffer.job.CallbackTokens(database.dataSource()),
                new dev.gaffer.job.CallbackStore(database.dataSource()),
                config,
                metrics);
        this.reviews = new ReviewController(trail, config, validators);
        this.streams = new StreamController(queries, hub, auth);
        this.system = new SystemController(database, queries, metrics);
        // The API only reads artifacts; their size cap is the workers' to enforce when writing.
        this.artifacts =
                new ArtifactController(queries, new ArtifactStore(database.dataSource(), ArtifactStore.HARD_MAX_BYTES));
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
                    post("reject", jobs::reject, Access.APPROVE);
                    post("request-changes", jobs::requestChanges, Access.APPROVE);
                    get("storyboard", jobs::storyboard, Access.READ);
                    put("storyboard", jobs::reviseStoryboard, Access.SUBMIT);
                    get("reviews", jobs::reviews, Access.READ);
                    get("preview", jobs::preview, Access.READ);
                    post("cancel", jobs::cancel, Access.APPROVE);
                    post("retry", jobs::retry, Access.APPROVE);
                    get("subjobs", jobs::subJobs, Access.READ);
                    get("events", jobs::events, Access.READ);
                    get("stream", streams::jobStream, Access.READ);
                    get("artifacts", artifacts::list, Access.READ);
                    get("artifacts/{name}", artifacts::download, Access.READ);
                    get("artifacts/{name}/revisions", artifacts::revisions, Access.READ);
                    get("revisions", artifacts::history, Access.READ);
                    get("scenes", scenes::list, Access.READ);
                    post("scenes", scenes::add, Access.SUBMIT);
                    get("scenes/{index}", scenes::get, Access.READ);
                    patch("scenes/{index}", scenes::patch, Access.SUBMIT);
                    delete("scenes/{index}", scenes::delete, Access.SUBMIT);
                    post("scenes/{index}/regenerate", scenes::regenerate, Access.SUBMIT);
                });
            });
            post("callbacks/{token}", callbacks::receive, Access.PUBLIC);
            path("reviews", () -> {
                get(reviews::export, Access.READ);
                get("awaiting", reviews::awaiting, Access.APPROVE);
            });
            path("review-policies", () -> {
                get(reviews::policies, Access.READ);
                put("{type}", reviews::setPolicy, Access.ADMIN);
                delete("{type}", reviews::deletePolicy, Access.ADMIN);
                put("{type}/{gate}", reviews::setPolicy, Access.ADMIN);
                delete("{type}/{gate}", reviews::deletePolicy, Access.ADMIN);
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
        if (config.metricsPort() == null) {
            get("metrics", system::metrics, config.metricsAuth() ? Access.READ : Access.PUBLIC);
        }
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
            // A known path with the wrong method is 405 with an Allow header (ErrorMapper), not 404.
            cfg.http.prefer405over404 = true;
            // What Jetty answers before a route runs is problem+json too.
            JettyErrors jettyErrors = new JettyErrors();
            cfg.jetty.modifyServer(server -> server.setErrorHandler(jettyErrors));
            cfg.jetty.modifyServletContextHandler(handler -> handler.setErrorHandler(jettyErrors));
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
        if (config.metricsPort() != null) {
            // Its own address (an internal interface, say): bound first, so a busy port stops the
            // start before the API answers anything.
            metricsEndpoint = MetricsEndpoint.serve(config.metricsHost(), config.metricsPort(), system::scrape);
        }
        try {
            app.start(config.host(), port);
        } catch (RuntimeException e) {
            closeMetricsEndpoint();
            throw e;
        }
        hub.start();
        listener.start();
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

    /** The port of the separate metrics address, or -1 when /metrics is on the API's port. */
    public int metricsPort() {
        return metricsEndpoint == null ? -1 : metricsEndpoint.port();
    }

    private void closeMetricsEndpoint() {
        if (metricsEndpoint != null) {
            metricsEndpoint.close();
            metricsEndpoint = null;
        }
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
        closeMetricsEndpoint();
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
