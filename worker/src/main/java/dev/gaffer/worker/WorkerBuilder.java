package dev.gaffer.worker;

import dev.gaffer.db.Database;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * A worker inside an application of its own ({@link Worker#builder}): the same claim, heartbeat,
 * fencing and reclaim as {@code gaffer worker}, on the application's connection pool.
 *
 * <pre>{@code
 * Worker worker = Worker.builder(dataSource)
 *         .handler("email", ctx -> Outcome.complete(send(ctx.parameters())))
 *         .concurrency(8)
 *         .start();
 * ...
 * worker.close(); // graceful: running jobs get the shutdown grace, the rest go back
 * }</pre>
 *
 * <p>The pool is the application's: the worker runs its statements on it, holds one of its
 * connections for LISTEN (unless {@link #polling(Duration, boolean)} turns it off), and never closes it. Give it the
 * worker's concurrency plus three connections beyond what the application itself needs. Its
 * claims run with the pool's own session settings, not on the standalone worker's connection
 * with {@code plan_cache_mode = force_generic_plan} (docs/benchmarks.md): each is planned. The
 * schema must be migrated: {@link #migrate()} applies Gaffer's migrations at start, otherwise
 * {@link #build()} refuses a database whose schema is behind, saying how many migrations are
 * missing.
 */
public final class WorkerBuilder {

    private final DataSource dataSource;
    private final HandlerRegistry handlers = new HandlerRegistry();
    private WorkerConfig config = WorkerConfig.defaults();
    private boolean migrate;

    WorkerBuilder(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** Runs {@code handler} for jobs of {@code type}; one handler per type. */
    public WorkerBuilder handler(String type, JobHandler handler) {
        handlers.register(type, handler);
        return this;
    }

    /** Adds every {@link JobHandlerProvider} that {@link java.util.ServiceLoader} finds with {@code loader}. */
    public WorkerBuilder discoverHandlers(ClassLoader loader) {
        handlers.discover(loader);
        return this;
    }

    /** The worker's name in the {@code workers} table (default: host-pid). */
    public WorkerBuilder name(String name) {
        config = config.withName(name);
        return this;
    }

    /** How many jobs it runs at once (default 16). */
    public WorkerBuilder concurrency(int jobs) {
        config = config.withConcurrency(jobs);
        return this;
    }

    /** The queues it claims from (default: {@code default}). */
    public WorkerBuilder queues(String... queues) {
        config = config.withQueues(List.of(queues), Map.of());
        return this;
    }

    /** Whether it LISTENs for approvals (default true) besides polling every {@code pollInterval}. */
    public WorkerBuilder polling(Duration pollInterval, boolean listen) {
        config = config.withPolling(pollInterval, listen);
        return this;
    }

    /** Whether this worker may run the cluster's maintenance (reclaim, prune); default true. */
    public WorkerBuilder maintenance(boolean enabled) {
        config = config.withMaintenance(enabled, config.reclaimInterval());
        return this;
    }

    /** How long {@link Worker#close()} lets running jobs finish (default 30 s). */
    public WorkerBuilder shutdownGrace(Duration grace) {
        config = config.withShutdownGrace(grace);
        return this;
    }

    /** Every setting at once, as {@code gaffer worker} reads them; replaces what was set before. */
    public WorkerBuilder config(WorkerConfig config) {
        this.config = Objects.requireNonNull(config, "config");
        return this;
    }

    /** Applies Gaffer's pending migrations before the worker starts. */
    public WorkerBuilder migrate() {
        this.migrate = true;
        return this;
    }

    /** The worker, not started yet. */
    public Worker build() {
        if (handlers.types().isEmpty()) {
            throw new IllegalStateException("a worker needs at least one handler: call handler(type, handler)");
        }
        Database database = Database.borrowing(dataSource);
        if (migrate) {
            database.migrate();
        } else {
            int pending = database.pendingMigrations();
            if (pending > 0) {
                throw new IllegalStateException("the database schema is " + pending
                        + " migration(s) behind this worker; call migrate() on the builder or run `gaffer migrate`");
            }
        }
        return new Worker(config, database, handlers);
    }

    /** {@link #build()}, then {@link Worker#start()}. */
    public Worker start() {
        return build().start();
    }
}
