package dev.gaffer.cli;

import dev.gaffer.api.ApiConfig;
import dev.gaffer.api.ApiServer;
import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseConfig;
import dev.gaffer.db.DatabaseUrl;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobStore;
import dev.gaffer.video.Ffmpeg;
import dev.gaffer.video.VideoHandlers;
import dev.gaffer.worker.HandlerRegistry;
import dev.gaffer.worker.Worker;
import dev.gaffer.worker.WorkerConfig;
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
            "Ctrl-C (or SIGTERM) gives running jobs back, stops everything and exits 0."
        })
final class DevCommand implements Callable<Integer> {

    private static final Logger log = LoggerFactory.getLogger(DevCommand.class);
    static final Duration SHUTDOWN_GRACE = Duration.ofSeconds(10);

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
                .asMap();
        ApiConfig apiConfig = ApiConfig.fromEnvironment(env).requireSafe();
        WorkerConfig workerConfig = WorkerConfig.fromEnvironment(env).withConcurrency(concurrency);

        CountDownLatch stop = new CountDownLatch(1);
        for (String signal : new String[] {"TERM", "INT"}) {
            sun.misc.Signal.handle(new sun.misc.Signal(signal), s -> stop.countDown());
        }

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
            String videoNote;
            try {
                Ffmpeg ffmpeg = Ffmpeg.locate(env);
                VideoHandlers.register(
                        registry,
                        new ArtifactStore(db.dataSource(), ArtifactStore.DEFAULT_MAX_BYTES),
                        ffmpeg,
                        Path.of(System.getProperty("java.io.tmpdir"), "gaffer"));
                videoNote = "video jobs render with ffmpeg";
            } catch (IllegalStateException e) {
                videoNote = "ffmpeg not found: video jobs will wait for a worker that has it (apt-get install ffmpeg)";
            }
            for (int i = 1; i <= workers; i++) {
                running.add(new Worker(workerConfig.withName("dev-" + i), db, registry).start());
            }
            api = new ApiServer(
                            db,
                            new JobStore(db.dataSource()),
                            new JobQueries(db.dataSource()),
                            new ApiKeyStore(db.dataSource()),
                            apiConfig)
                    .start();
            printWelcome("http://" + apiConfig.host() + ":" + api.port(), where, workers, videoNote);
            stop.await();
            System.out.println("stopping ...");
            return 0;
        } finally {
            for (Worker w : running) {
                w.shutdown(SHUTDOWN_GRACE);
            }
            if (api != null) {
                api.stop();
            }
            db.close();
            if (embedded != null) {
                embedded.close();
            }
            System.out.println("stopped");
        }
    }

    private static void printWelcome(String base, String where, int workers, String videoNote) {
        System.out.printf("""

                Gaffer is running at %1$s
                  dashboard  %1$s/            API docs  %1$s/api/v3/docs
                  database   %2$s
                  workers    %3$d in this process; %4$s
                  auth       off (dev mode, loopback only)

                Try it:
                  curl -s -X POST %1$s/api/v3/jobs -H 'Content-Type: application/json' \\
                       -d '{"type":"sleep","parameters":{"ms":5000}}'
                  curl -s -X POST %1$s/api/v3/jobs/<job_id>/approve
                  ./gaffer jobs watch <job_id>

                Ctrl-C stops everything.
                %n""", base, where, workers, videoNote);
        System.out.flush();
    }
}
