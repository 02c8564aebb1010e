package dev.gaffer.api;

import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.metrics.micrometer.MicrometerMetricsTrackerFactory;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobStatus;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Prometheus registry of one API process: HTTP request timers, JVM and HikariCP metrics, the
 * job actions this process performed, and the number of jobs per status (read at scrape time).
 */
final class ApiMetrics implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ApiMetrics.class);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Counter> actions = new ConcurrentHashMap<>();
    private final Map<JobStatus, AtomicLong> jobsByStatus = new EnumMap<>(JobStatus.class);
    private final JvmGcMetrics gc = new JvmGcMetrics();

    ApiMetrics(DataSource dataSource) {
        new JvmMemoryMetrics().bindTo(registry);
        gc.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
        if (dataSource instanceof HikariDataSource hikari && hikari.getMetricsTrackerFactory() == null) {
            hikari.setMetricsTrackerFactory(new MicrometerMetricsTrackerFactory(registry));
        }
        for (JobStatus s : JobStatus.values()) {
            AtomicLong n = new AtomicLong();
            jobsByStatus.put(s, n);
            Gauge.builder("gaffer.jobs", n, AtomicLong::get)
                    .description("Jobs in the database by status, as of the last scrape")
                    .tag("status", s.dbName())
                    .register(registry);
        }
    }

    void jobAction(String action) {
        actions.computeIfAbsent(
                        action,
                        a -> Counter.builder("gaffer.api.job.actions")
                                .description("Job transitions requested through this API process")
                                .tag("action", a)
                                .register(registry))
                .increment();
    }

    void httpRequest(String method, String route, int status, Duration took) {
        Timer.builder("http.server.requests")
                .description("HTTP requests handled, by route template")
                .tag("method", method)
                .tag("uri", route)
                .tag("status", Integer.toString(status))
                .register(registry)
                .record(took);
    }

    /** The Prometheus text exposition; refreshes the per-status job gauges first when it can. */
    String scrape(JobQueries queries) {
        try {
            Map<JobStatus, Long> counts = new EnumMap<>(JobStatus.class);
            for (var row : queries.countByQueueAndStatus()) {
                counts.merge(row.status(), row.count(), Long::sum);
            }
            jobsByStatus.forEach((s, n) -> n.set(counts.getOrDefault(s, 0L)));
        } catch (RuntimeException e) {
            // Metrics must still be served while the database is down: that is when they matter.
            log.debug("job counts not refreshed for /metrics: {}", e.getMessage());
        }
        return registry.scrape();
    }

    PrometheusMeterRegistry registry() {
        return registry;
    }

    @Override
    public void close() {
        gc.close();
        registry.close();
    }
}
