package dev.gaffer.cli;

import dev.gaffer.api.ApiConfig;
import dev.gaffer.api.ApiServer;
import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseConfig;
import dev.gaffer.db.DatabaseUrl;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.JobTypeValidators;
import dev.gaffer.video.Ffmpeg;
import dev.gaffer.video.VideoHandlers;
import dev.gaffer.worker.HandlerRegistry;
import dev.gaffer.worker.Worker;
import dev.gaffer.worker.WorkerConfig;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "dev",
        mixinStandardHelpOptions = true,
        description = {
            "Everything in one process for trying Gaffer: PostgreSQL (embedded, unless DATABASE_URL is set), the"
                    + " migrations, the API on 127.0.0.1 without auth, and two workers.",
            "The embedded database keeps its data in --data-dir, so a restart keeps the jobs; --fresh wipes it.",
            "The API's URL is written to .gaffer/url, where `gaffer jobs` finds it (GAFFER_URL and --url win).",
            "Ctrl-C (or SIGTERM) stops every worker claiming at once, gives running jobs up to the shutdown grace"
                    + " to finish (GAFFER_SHUTDOWN_GRACE; 10s in dev, where a worker's default is 30s), gives the"
                    + " rest back without using an attempt, stops everything and exits 0."
        })
final class DevCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(DevCommand.class);

    /** Dev's grace unless GAFFER_SHUTDOWN_GRACE says otherwise: shorter than a worker's 30 s, for Ctrl-C. */
    static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);

    /** Where dev records its API's URL for the CLI ({@link JobsCommand.Connection}). */
    static final Path URL_FILE = Path.of(".gaffer", "url");

    @Option(names = "--port", description = "API port (GAFFER_API_PORT); default: 4000.")
    String port;

    @Option(
            names = "--data-dir",
            description = "Where the embedded PostgreSQL keeps its data; default: .gaffer/postgres.")
    Path dataDir;

    @Option(names = "--fresh", description = "Wipe the embedded database first.")
    boolean fresh;

    @Option(names = "--workers", defaultValue = "2", description = "In-process workers; default: 2.")
    int workers;

    @Option(names = "--concurrency", defaultValue = "8", description = "Jobs at once per worker; default: 8.")
    int concurrency;

    @Option(
            names = "--handlers",
            description = "GAFFER_HANDLERS: a folder of your handler jars, run by the workers and accepted by the"
                    + " API; default: none.")
    String handlers;

    @Override
    public Integer call() throws Exception {
        if (workers < 0 || workers > 16) {
            throw new IllegalArgumentException("--workers must be between 0 and 16, got " + workers);
        }
        Map<String, String> env = new Settings()
                .override("GAFFER_API_PORT", port)
                .override("GAFFER_DEV", "true")
                .override("GAFFER_AUTH", "false")
                .override("GAFFER_API_HOST", ApiConfig.DEV_HOST)
                .override("GAFFER_HANDLERS", handlers)
                .asMap();
        List<HandlerJars.Loaded> jars = HandlerJars.fromSettings(env);
        JobTypeValidators validators = JobTypeValidators.discover().plus(HandlerJars.validators(jars));
        ApiConfig apiConfig = ApiConfig.fromEnvironment(env, HandlerJars.acceptedTypes(validators, jars))
                .requireSafe();
        WorkerConfig workerConfig = WorkerConfig.fromEnvironment(env).withConcurrency(concurrency);
        if (env.get("GAFFER_SHUTDOWN_GRACE") == null
                || env.get("GAFFER_SHUTDOWN_GRACE").isBlank()) {
            workerConfig = workerConfig.withShutdownGrace(SHUTDOWN_GRACE);
        }
        // Before anything starts: a busy port is one line, not a database and workers started for nothing.
        requirePortFree(apiConfig.host(), apiConfig.port());

        CountDownLatch stop = StopSignals.install();

        DevDatabase embedded = null;
        DatabaseUrl url;
        String where;
        if (env.get("DATABASE_URL") != null && !env.get("DATABASE_URL").isBlank()) {
            url = DatabaseUrl.parse("DATABASE_URL", env.get("DATABASE_URL"));
            where = "DATABASE_URL";
        } else {
            Path dir = dataDir != null ? dataDir : Path.of(".gaffer", "postgres");
            System.out.println(
                    "starting the embedded PostgreSQL in " + dir.toAbsolutePath() + (fresh ? " (fresh)" : "") + " ...");
            embedded = DevDatabase.start(dir, fresh);
            url = embedded.url();
            where = "embedded, data in " + dir.toAbsolutePath() + ", port " + embedded.port();
        }

        List<Worker> running = new ArrayList<>();
        ApiServer api = null;
        Database db = Database.open(
                new DatabaseConfig(url, 10 + workers * (concurrency + 4), Duration.ofSeconds(5), "gaffer-dev"));
        try {
            int applied = db.migrate();
            log.info("schema ready ({} migration(s) applied)", applied);

            HandlerRegistry registry = HandlerRegistry.discover();
            HandlerJars.handlers(jars).forEach(registry::register);
            String videoNote;
            try {
                Ffmpeg ffmpeg = Ffmpeg.locate(env);
                VideoHandlers.register(
                        registry,
                        new ArtifactStore(db.dataSource(), ArtifactStore.DEFAULT_MAX_BYTES),
                        ffmpeg,
                        Path.of(System.getProperty("java.io.tmpdir"), "gaffer"),
                        dev.gaffer.video.PredictionConfig.fromEnvironment(env));
                videoNote = "video jobs render with ffmpeg";
            } catch (IllegalStateException e) {
                videoNote = "ffmpeg not found: video jobs will wait for a worker that has it (apt-get install ffmpeg)";
            }
            api = new ApiServer(
                    db,
                    new JobRequests(db.dataSource()),
                    new JobQueries(db.dataSource()),
                    new ApiKeyStore(db.dataSource()),
                    apiConfig,
                    validators);
            api.start();
            for (int i = 1; i <= workers; i++) {
                running.add(new Worker(workerConfig.withName("dev-" + i), db, registry).start());
            }
            String base = "http://" + apiConfig.host() + ":" + api.port();
            recordUrl(base);
            printWelcome(base, where, workers, videoNote, workerConfig.shutdownGrace());
            stop.await();
            System.out.println("stopping ...");
            return 0;
        } finally {
            stopWorkers(running, workerConfig.shutdownGrace());
            if (api != null) {
                api.stop();
            }
            db.close();
            if (embedded != null) {
                embedded.close();
            }
            forgetUrl();
            System.out.println("stopped");
        }
    }

    /**
     * All workers stop claiming first, then drain side by side: stopped one after the other, each
     * would wait a grace of its own, and the ones still claiming would take what the first gave
     * back and run it again.
     */
    static void stopWorkers(List<Worker> workers, Duration grace) {
        workers.forEach(Worker::stopClaiming);
        List<Thread> draining = new ArrayList<>();
        for (Worker w : workers) {
            draining.add(Thread.ofPlatform().name("gaffer-dev-stop-" + w.id()).start(() -> w.shutdown(grace)));
        }
        for (Thread t : draining) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    static void requirePortFree(String host, int port) {
        if (port == 0) {
            return;
        }
        try (ServerSocket probe = new ServerSocket()) {
            probe.setReuseAddress(true);
            probe.bind(new InetSocketAddress(host, port));
        } catch (IOException e) {
            throw new IllegalArgumentException("port " + port + " on " + host + " is already in use (another gaffer"
                    + " dev?); choose another with --port or GAFFER_API_PORT");
        }
    }

    private static void recordUrl(String base) {
        try {
            Files.createDirectories(URL_FILE.getParent());
            Files.writeString(URL_FILE, base + "\n");
        } catch (IOException e) {
            log.warn("could not write {}: {}; `gaffer jobs` needs --url {}", URL_FILE.toAbsolutePath(), e, base);
        }
    }

    private static void forgetUrl() {
        try {
            Files.deleteIfExists(URL_FILE);
        } catch (IOException e) {
            log.debug("could not delete {}", URL_FILE, e);
        }
    }

    private static void printWelcome(String base, String where, int workers, String videoNote, Duration grace) {
        System.out.printf("""

                Gaffer is running at %1$s
                  dashboard  %1$s/            API docs  %1$s/api/v3/docs
                  database   %2$s
                  workers    %3$d in this process; %4$s
                  auth       off (dev mode, loopback only)

                Try it:
                  curl -s -X POST %1$s/api/v3/jobs -H 'Content-Type: application/json' \\
                       -d '{"type":"sleep","parameters":{"ms":5000}}'
                  ./gaffer jobs approve <job_id> --watch

                ./gaffer jobs finds this server through %5$s; from another directory add --url %1$s
                Ctrl-C stops everything (running jobs get %6$d s to finish, then go back to the queue).
                %n""", base, where, workers, videoNote, URL_FILE, grace.toSeconds());
        System.out.flush();
    }
}
