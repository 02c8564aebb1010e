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
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Prometheus registry of one API process: HTTP request timers, JVM and HikariCP metrics, the
 * job actions this process performed, and the number of jobs per status (read at most every 5 s).
 */
final class ApiMetrics implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ApiMetrics.class);

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Map<String, Counter> actions = new ConcurrentHashMap<>();
    private final Map<JobStatus, AtomicLong> jobsByStatus = new EnumMap<>(JobStatus.class);
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final ReentrantLock countsRefresh = new ReentrantLock();
    private final Counter countRefreshes;
    private volatile long countsReadAtNanos;

    /** How old the job counts on /metrics may be. */
    static final Duration JOB_COUNTS_MAX_AGE = Duration.ofSeconds(5);

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
        countRefreshes = Counter.builder("gaffer.api.job.count.queries")
                .description("Times this process counted the jobs table for /metrics")
                .register(registry);
        for (JobStatus s : JobStatus.values()) {
            AtomicLong n = new AtomicLong();
            jobsByStatus.put(s, n);
            Gauge.builder("gaffer.jobs", n, AtomicLong::get)
                    .description("Jobs in the database by status, read at most every 5 s")
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
        requestTimers
                .computeIfAbsent(
                        new RequestKey(method, route, status),
                        k -> Timer.builder("http.server.requests")
                                .description("HTTP requests handled, by route template")
                                .tag("method", k.method())
                                .tag("uri", k.route())
                                .tag("status", Integer.toString(k.status()))
                                .register(registry))
                .record(took);
    }

    /*
     * The timer of each (method, route, status), found again by a record's hash rather than by
     * building and registering its id (tags sorted, names formatted) on every request.
     */
    private record RequestKey(String method, String route, int status) {}

    private final Map<RequestKey, Timer> requestTimers = new ConcurrentHashMap<>();

    /**
     * The Prometheus text exposition. The per-status job gauges are read from the database at most
     * once per {@link #JOB_COUNTS_MAX_AGE}, by one request at a time, whoever asks: counting a
     * table of millions of jobs is far more work than serving the page, and /metrics may be open
     * to anyone who reaches the port. Scrapes in between, or during a refresh, get the last
     * figures.
     */
    String scrape(JobQueries queries) {
        if (countsStale() && countsRefresh.tryLock()) {
            try {
                if (countsStale()) {
                    refreshJobCounts(queries);
                }
            } finally {
                countsRefresh.unlock();
            }
        }
        // The text itself is kept for a moment too: writing out every timer and gauge costs far
        // more than answering, and a crowd of scrapers asks for the same page over and over.
        Page page = lastPage;
        if (outdated(page)) {
            if (page == null) {
                pageWrite.lock();
            } else if (!pageWrite.tryLock()) {
                return page.text(); // another request is writing the new one
            }
            try {
                page = lastPage;
                if (outdated(page)) {
                    // The counts' generation is read before the page is written: a page written
                    // while a refresh was setting the gauges may hold some of the new figures and
                    // not the others, and is written again by the next scrape.
                    long generation = countsGeneration;
                    page = new Page(registry.scrape(), System.nanoTime(), generation);
                    lastPage = page;
                }
            } finally {
                pageWrite.unlock();
            }
        }
        return page.text();
    }

    private boolean outdated(Page page) {
        return page == null
                || page.countsGeneration() != countsGeneration
                || System.nanoTime() - page.madeAtNanos() > PAGE_MAX_AGE.toNanos();
    }

    /** A /metrics text, when it was written, and the refresh of the job counts it was written after. */
    private record Page(String text, long madeAtNanos, long countsGeneration) {}

    /** How many refreshes of the job counts have finished; a page written before the last one is redone. */
    private volatile long countsGeneration;

    /** How old a /metrics page may be; Prometheus scrapes every 15 s or so. */
    static final Duration PAGE_MAX_AGE = Duration.ofSeconds(1);

    private volatile Page lastPage;
    private final ReentrantLock pageWrite = new ReentrantLock();

    private boolean countsStale() {
        long at = countsReadAtNanos;
        return at == 0 || System.nanoTime() - at > JOB_COUNTS_MAX_AGE.toNanos();
    }

    private void refreshJobCounts(JobQueries queries) {
        try {
            Map<JobStatus, Long> counts = new EnumMap<>(JobStatus.class);
            for (var row : queries.countByQueueAndStatus()) {
                counts.merge(row.status(), row.count(), Long::sum);
            }
            jobsByStatus.forEach((s, n) -> n.set(counts.getOrDefault(s, 0L)));
            countRefreshes.increment();
        } catch (RuntimeException e) {
            // Metrics must still be served while the database is down: that is when they matter.
            log.debug("job counts not refreshed for /metrics: {}", e.getMessage());
        } finally {
            // A failed read also waits its turn: a database that is down is not asked per scrape.
            countsReadAtNanos = System.nanoTime();
            countsGeneration++; // only under countsRefresh: one writer
        }
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
