package dev.gaffer.cli;

import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseConfig;
import dev.gaffer.video.Ffmpeg;
import dev.gaffer.video.VideoHandlers;
import dev.gaffer.worker.HandlerRegistry;
import dev.gaffer.worker.JobHandler;
import dev.gaffer.worker.Worker;
import dev.gaffer.worker.WorkerConfig;
import dev.gaffer.worker.WorkerMetrics;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "worker",
        mixinStandardHelpOptions = true,
        description = {
            "Run a worker: claim approved jobs of its queues, run their handlers, heartbeat, and take part in the"
                    + " cluster's maintenance. Handlers are found on the class path (ServiceLoader of"
                    + " dev.gaffer.worker.JobHandlerProvider) and in the jars of --handlers; noop and sleep are"
                    + " built in.",
            "SIGTERM (or Ctrl-C) stops claiming, waits up to the shutdown grace for running jobs, gives the"
                    + " rest back without using an attempt, deregisters and exits 0.",
            "Every flag overrides the environment variable named in its description."
        })
final class WorkerCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(WorkerCommand.class);
    private static final Duration MAX_CONNECT_PAUSE = Duration.ofSeconds(10);
    private static final int MAX_DEFAULT_POOL = 50;

    // Flags are kept as text: WorkerConfig validates them with the same messages as the variables.

    @Option(names = "--database-url", description = "DATABASE_URL (postgres://user:pass@host:5432/db).")
    String databaseUrl;

    @Option(
            names = "--name",
            description = "GAFFER_WORKER_NAME; default: <host>-<pid>, unique per process. A worker that restarts"
                    + " under the name of one that is gone frees its jobs at once.")
    String name;

    @Option(names = "--queues", description = "GAFFER_QUEUES, comma-separated; default: default.")
    String queues;

    @Option(names = "--concurrency", description = "GAFFER_CONCURRENCY, jobs at once; default: 16.")
    String concurrency;

    @Option(names = "--queue-limits", description = "GAFFER_QUEUE_LIMITS, e.g. video=2,default=8; default: none.")
    String queueLimits;

    @Option(names = "--poll-interval", description = "GAFFER_POLL_INTERVAL; default: 1s.")
    String pollInterval;

    @Option(
            names = "--listen",
            arity = "1",
            description = "GAFFER_LISTEN, true or false (false = poll only, for poolers in transaction mode);"
                    + " default: true.")
    String listen;

    @Option(names = "--heartbeat-interval", description = "GAFFER_HEARTBEAT_INTERVAL; default: 2s.")
    String heartbeatInterval;

    @Option(names = "--heartbeat-timeout", description = "GAFFER_HEARTBEAT_TIMEOUT; default: 15s.")
    String heartbeatTimeout;

    @Option(names = "--reclaim-interval", description = "GAFFER_RECLAIM_INTERVAL; default: 2s.")
    String reclaimInterval;

    @Option(names = "--shutdown-grace", description = "GAFFER_SHUTDOWN_GRACE; default: 30s.")
    String shutdownGrace;

    @Option(names = "--retention", description = "GAFFER_RETENTION, how long finished jobs are kept; default: 7d.")
    String retention;

    @Option(
            names = "--audit-retention",
            description = "GAFFER_AUDIT_RETENTION, how long review decisions are kept; at least 30d; default: 400d.")
    String auditRetention;

    @Option(names = "--job-timeout", description = "GAFFER_JOB_TIMEOUT, per run of a job; default: 1h.")
    String jobTimeout;

    @Option(
            names = "--metrics-port",
            description = "GAFFER_METRICS_PORT: serve Prometheus metrics at http://<host>:PORT/metrics; default: off.")
    String metricsPort;

    @Option(
            names = "--metrics-host",
            description = "GAFFER_METRICS_HOST: the address the metrics listen on, e.g. 127.0.0.1; default: 0.0.0.0"
                    + " (every interface, for a scraper in another container).")
    String metricsHost;

    @Option(
            names = "--job-types",
            description = "GAFFER_JOB_TYPES, the job types this worker runs, comma-separated; default: every"
                    + " handler found (built in, in --handlers) plus video, image_pairs and scene (which need ffmpeg).")
    String jobTypes;

    @Option(
            names = "--handlers",
            description = "GAFFER_HANDLERS: a folder of handler jars (each jar, or each sub-folder of jars, is one"
                    + " handler with its dependencies) whose JobHandlerProviders this worker runs; default: none.")
    String handlers;

    @Override
    public Integer call() throws Exception {
        Map<String, String> settings = new Settings()
                .override("DATABASE_URL", databaseUrl)
                .override("GAFFER_WORKER_NAME", name)
                .override("GAFFER_QUEUES", queues)
                .override("GAFFER_CONCURRENCY", concurrency)
                .override("GAFFER_QUEUE_LIMITS", queueLimits)
                .override("GAFFER_POLL_INTERVAL", pollInterval)
                .override("GAFFER_LISTEN", listen)
                .override("GAFFER_HEARTBEAT_INTERVAL", heartbeatInterval)
                .override("GAFFER_HEARTBEAT_TIMEOUT", heartbeatTimeout)
                .override("GAFFER_RECLAIM_INTERVAL", reclaimInterval)
                .override("GAFFER_SHUTDOWN_GRACE", shutdownGrace)
                .override("GAFFER_RETENTION", retention)
                .override("GAFFER_AUDIT_RETENTION", auditRetention)
                .override("GAFFER_JOB_TIMEOUT", jobTimeout)
                .override("GAFFER_JOB_TYPES", jobTypes)
                .override("GAFFER_HANDLERS", handlers)
                .override("GAFFER_METRICS_PORT", metricsPort)
                .override("GAFFER_METRICS_HOST", metricsHost)
                .asMap();
        WorkerConfig config = WorkerConfig.fromEnvironment(settings);
        DatabaseConfig dbConfig = DatabaseConfig.fromEnvironment(settings, "gaffer-worker");
        if (settings.get("GAFFER_DB_POOL_SIZE") == null) {
            // Each running handler writes its outcome on a pooled connection; with fewer
            // connections than handlers they queue for one.
            dbConfig = dbConfig.withMaxPoolSize(Math.min(config.concurrency() + 4, MAX_DEFAULT_POOL));
        }

        CountDownLatch stop = StopSignals.install();

        try (Database db = Database.open(dbConfig)) {
            if (!awaitDatabase(db, stop)) {
                return 0;
            }
            int pending = db.pendingMigrations();
            if (pending > 0) {
                throw new IllegalStateException("the database schema is " + pending
                        + " migration(s) behind this worker; run `gaffer migrate` first");
            }
            HandlerRegistry registry = handlers(settings, db);
            Worker worker = new Worker(config, db, registry);
            log.info("job types: {}", registry.types());
            // Other ways out of the JVM (System.exit elsewhere, SIGHUP) still give jobs back.
            Thread hook = new Thread(() -> worker.shutdown(config.shutdownGrace()), "gaffer-worker-shutdown");
            Integer metricsPort = metricsPort(settings);
            try (WorkerMetrics metrics = new WorkerMetrics(worker, db.dataSource())) {
                // Bound before the worker claims anything: a busy port stops the process while it
                // holds no jobs.
                if (metricsPort != null) {
                    String host = metricsHost(settings);
                    int bound = metrics.serve(host, metricsPort);
                    log.info("metrics at http://{}:{}/metrics", host, bound);
                }
                Runtime.getRuntime().addShutdownHook(hook);
                worker.start();
                stop.await();
                worker.shutdown(config.shutdownGrace());
            }
            Runtime.getRuntime().removeShutdownHook(hook);
            return 0;
        }
    }

    static String metricsHost(Map<String, String> settings) {
        String host = settings.get("GAFFER_METRICS_HOST");
        return host == null || host.isBlank() ? "0.0.0.0" : host.strip();
    }

    static Integer metricsPort(Map<String, String> settings) {
        String text = settings.get("GAFFER_METRICS_PORT");
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            int port = Integer.parseInt(text.strip());
            if (port >= 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException ignored) {
            // fall through to the message
        }
        throw new IllegalArgumentException(
                "GAFFER_METRICS_PORT must be a port number between 0 and 65535, got '" + text + "'");
    }

    static final String DEFAULT_WORK_DIR =
            Path.of(System.getProperty("java.io.tmpdir"), "gaffer").toString();

    /**
     * The handlers this worker runs: GAFFER_JOB_TYPES (comma-separated) or, when unset, every
     * handler on the class path plus the reference video pipeline (video, image_pairs, scene, and
     * scene_prediction when GAFFER_PREDICTION_URL names a prediction API).
     * The pipeline needs FFmpeg: when it is enabled and ffmpeg is missing the worker refuses to
     * start, saying so. A worker claims only the types it runs; other types wait for workers
     * that have them.
     */
    static HandlerRegistry handlers(Map<String, String> settings, Database db) {
        HandlerRegistry found = HandlerRegistry.discover();
        HandlerJars.handlers(HandlerJars.fromSettings(settings)).forEach(found::register);
        String typesText = settings.get("GAFFER_JOB_TYPES");
        Set<String> wanted = new TreeSet<>();
        if (typesText == null || typesText.isBlank()) {
            wanted.addAll(found.types());
            wanted.addAll(VideoHandlers.TYPES);
            if (dev.gaffer.video.PredictionConfig.fromEnvironment(settings).isEmpty()) {
                // Scenes by a prediction API run only where GAFFER_PREDICTION_URL says where it is.
                wanted.remove(VideoHandlers.SCENE_PREDICTION);
            }
        } else {
            for (String t : typesText.split(",")) {
                if (!t.isBlank()) {
                    wanted.add(t.strip());
                }
            }
        }
        if (wanted.stream().anyMatch(VideoHandlers.TYPES::contains)) {
            long maxBytes = ArtifactStore.DEFAULT_MAX_BYTES;
            String maxText = settings.get("GAFFER_ARTIFACT_MAX_BYTES");
            if (maxText != null && !maxText.isBlank()) {
                try {
                    maxBytes = Long.parseLong(maxText.strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException(
                            "GAFFER_ARTIFACT_MAX_BYTES must be a size in bytes, e.g. 67108864, got '" + maxText + "'");
                }
            }
            Ffmpeg ffmpeg = Ffmpeg.locate(settings);
            Path workDir = Path.of(settings.getOrDefault("GAFFER_WORK_DIR", DEFAULT_WORK_DIR));
            VideoHandlers.register(
                    found,
                    new ArtifactStore(db.dataSource(), maxBytes),
                    ffmpeg,
                    workDir,
                    dev.gaffer.video.PredictionConfig.fromEnvironment(settings));
        }
        HandlerRegistry selected = new HandlerRegistry();
        for (String type : wanted) {
            JobHandler h = found.get(type);
            if (h == null) {
                throw new IllegalArgumentException("GAFFER_JOB_TYPES names '" + type
                        + "' but no handler for it is on the class path; handlers found: " + found.types());
            }
            selected.register(type, h);
        }
        return selected;
    }

    /**
     * A worker that starts before its database waits for it instead of crash-looping. Returns
     * false when told to stop while waiting.
     */
    private static boolean awaitDatabase(Database db, CountDownLatch stop) throws InterruptedException {
        Duration pause = Duration.ofMillis(500);
        while (true) {
            try (var c = db.connection()) {
                return true;
            } catch (RuntimeException | java.sql.SQLException e) {
                log.warn("database not reachable ({}); trying again in {} ms", e.getMessage(), pause.toMillis());
            }
            if (stop.await(pause.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)) {
                return false;
            }
            pause = pause.multipliedBy(2).compareTo(MAX_CONNECT_PAUSE) > 0 ? MAX_CONNECT_PAUSE : pause.multipliedBy(2);
        }
    }
}
