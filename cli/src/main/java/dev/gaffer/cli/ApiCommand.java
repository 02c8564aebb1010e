package dev.gaffer.cli;

import dev.gaffer.api.ApiConfig;
import dev.gaffer.api.ApiServer;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseConfig;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.JobTypeValidators;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
        name = "api",
        mixinStandardHelpOptions = true,
        description = {
            "Run the REST API server: jobs, live progress (SSE), stats, health, metrics, OpenAPI at /api/v3/openapi.json.",
            "Requests need a bearer API key (gaffer keys create). Without keys it runs only with --dev on a loopback"
                    + " address. Every flag overrides the environment variable named in its description."
        })
final class ApiCommand implements Callable<Integer> {

    @Option(names = "--database-url", description = "DATABASE_URL (postgres://user:pass@host:5432/db).")
    String databaseUrl;

    @Option(names = "--port", description = "GAFFER_API_PORT; default: 4000.")
    String port;

    @Option(names = "--host", description = "GAFFER_API_HOST; default: 0.0.0.0 (127.0.0.1 with --dev).")
    String host;

    @Option(
            names = "--auth",
            arity = "1",
            description = "GAFFER_AUTH, true or false; default: true (false with --dev, allowed only on loopback).")
    String auth;

    @Option(names = "--dev", description = "GAFFER_DEV: development mode (loopback, no API keys).")
    Boolean dev;

    @Option(names = "--max-body-bytes", description = "GAFFER_MAX_BODY_BYTES; default: 1048576.")
    String maxBodyBytes;

    @Option(
            names = "--job-types",
            description = "GAFFER_JOB_TYPES, comma-separated; default: the built-in types and those of --handlers.")
    String jobTypes;

    @Option(
            names = "--handlers",
            description = "GAFFER_HANDLERS: the workers' folder of handler jars; their job types are accepted and"
                    + " their validators check new jobs; default: none.")
    String handlers;

    @Option(
            names = "--metrics-port",
            description =
                    "GAFFER_METRICS_PORT: serve /metrics on this port (and not on the API's); default: on the API's.")
    String metricsPort;

    @Option(
            names = "--metrics-host",
            description = "GAFFER_METRICS_HOST: where --metrics-port listens; default: --host.")
    String metricsHost;

    @Option(
            names = "--metrics-auth",
            arity = "1",
            description = "GAFFER_METRICS_AUTH, true or false: /metrics needs a key with role read; default: false.")
    String metricsAuth;

    @Option(names = "--migrate", description = "Apply pending schema migrations before starting.")
    boolean migrate;

    @Override
    public Integer call() throws InterruptedException {
        Map<String, String> settings = new Settings()
                .override("DATABASE_URL", databaseUrl)
                .override("GAFFER_API_PORT", port)
                .override("GAFFER_API_HOST", host)
                .override("GAFFER_AUTH", auth)
                .override("GAFFER_DEV", dev)
                .override("GAFFER_MAX_BODY_BYTES", maxBodyBytes)
                .override("GAFFER_JOB_TYPES", jobTypes)
                .override("GAFFER_HANDLERS", handlers)
                .override("GAFFER_METRICS_PORT", metricsPort)
                .override("GAFFER_METRICS_HOST", metricsHost)
                .override("GAFFER_METRICS_AUTH", metricsAuth)
                .asMap();
        List<HandlerJars.Loaded> jars = HandlerJars.fromSettings(settings);
        JobTypeValidators validators = JobTypeValidators.discover().plus(HandlerJars.validators(jars));
        ApiConfig config = ApiConfig.fromEnvironment(settings, HandlerJars.acceptedTypes(validators, jars))
                .requireSafe();
        DatabaseConfig dbConfig = DatabaseConfig.fromEnvironment(settings, "gaffer-api");
        Database db = Database.open(dbConfig);
        if (migrate) {
            db.migrate();
        }
        ApiServer server = new ApiServer(
                db,
                new JobRequests(db.dataSource()),
                new JobQueries(db.dataSource()),
                new ApiKeyStore(db.dataSource()),
                config,
                validators);
        CountDownLatch stop = StopSignals.install();
        try {
            server.start();
        } catch (RuntimeException e) {
            db.close();
            throw new IllegalStateException(
                    "cannot listen on " + config.host() + ":" + config.port() + ": " + e.getMessage());
        }
        System.out.println(
                "gaffer api listening on http://" + config.host() + ":" + server.port() + " (docs at /api/v3/docs)");
        try {
            stop.await();
        } finally {
            server.stop();
            db.close();
        }
        return 0;
    }
}
