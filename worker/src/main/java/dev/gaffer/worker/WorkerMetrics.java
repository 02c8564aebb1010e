package dev.gaffer.worker;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.gaffer.metrics.MetricsEndpoint;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.function.ToDoubleFunction;
import javax.sql.DataSource;

/**
 * A worker's own Prometheus endpoint: {@code GET /metrics} on a small HTTP server of its own
 * (GAFFER_METRICS_HOST, GAFFER_METRICS_PORT), so each worker replica is scraped directly, like any process. It shows
 * what this worker did (claims, outcomes, lost leases), how busy it is, its connection pool and
 * its JVM. Cluster-wide job counts come from the API's /metrics, which reads the database.
 */
public final class WorkerMetrics implements AutoCloseable {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private MetricsEndpoint endpoint;

    public WorkerMetrics(Worker worker, DataSource dataSource) {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        if (dataSource instanceof HikariDataSource hikari && hikari.getMetricsTrackerFactory() == null) {
            hikari.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
        }
        String id = worker.id();
        outcome(worker, id, "completed", s -> s.completed());
        outcome(worker, id, "retried", s -> s.retried());
        outcome(worker, id, "failed", s -> s.failed());
        outcome(worker, id, "waiting", s -> s.waiting());
        outcome(worker, id, "awaiting_review", s -> s.awaitingReview());
        outcome(worker, id, "awaiting_callback", s -> s.awaitingCallback());
        outcome(worker, id, "released", s -> s.released());
        outcome(worker, id, "discarded", s -> s.discarded());
        counter(worker, id, "gaffer.worker.jobs.claimed", "Jobs this worker claimed", s -> s.claimed());
        counter(
                worker,
                id,
                "gaffer.worker.claim.statements",
                "Claim statements run (each claims up to the free slots)",
                s -> s.claimStatements());
        counter(
                worker,
                id,
                "gaffer.worker.leases.lost",
                "Leases found lost at a heartbeat (reclaimed or cancelled)",
                s -> s.leasesLost());
        counter(worker, id, "gaffer.worker.jobs.timed.out", "Runs interrupted at their timeout", s -> s.timedOut());
        counter(worker, id, "gaffer.worker.heartbeats", "Batched heartbeat statements", s -> s.heartbeats());
        Gauge.builder("gaffer.worker.jobs.running", worker, Worker::runningCount)
                .description("Jobs this worker runs now")
                .tag("worker", id)
                .register(registry);
        Gauge.builder("gaffer.worker.concurrency", worker, w -> w.config().concurrency())
                .description("How many jobs this worker runs at once at most")
                .tag("worker", id)
                .register(registry);
        Gauge.builder(
                        "gaffer.worker.listening",
                        worker,
                        w -> w.listener() != null && w.listener().isListening() ? 1 : 0)
                .description("1 while the LISTEN connection is up (0 in poll-only mode or while it reconnects)")
                .tag("worker", id)
                .register(registry);
    }

    private void outcome(Worker worker, String id, String outcome, ToDoubleFunction<WorkerStats.Snapshot> f) {
        FunctionCounter.builder("gaffer.worker.jobs.finished", worker, w -> f.applyAsDouble(w.stats()))
                .description("Runs this worker ended, by what became of the job")
                .tag("worker", id)
                .tag("outcome", outcome)
                .register(registry);
    }

    private void counter(
            Worker worker, String id, String name, String description, ToDoubleFunction<WorkerStats.Snapshot> f) {
        FunctionCounter.builder(name, worker, w -> f.applyAsDouble(w.stats()))
                .description(description)
                .tag("worker", id)
                .register(registry);
    }

    /** The Prometheus text exposition format. */
    public String scrape() {
        return registry.scrape();
    }

    /** Serves {@code /metrics} on {@code host:port} (port 0 picks a free one); returns the port. */
    public synchronized int serve(String host, int port) {
        endpoint = MetricsEndpoint.serve(host, port, this::scrape);
        return endpoint.port();
    }

    @Override
    public synchronized void close() {
        if (endpoint != null) {
            endpoint.close();
            endpoint = null;
        }
        gc.close();
        registry.close();
    }
}
