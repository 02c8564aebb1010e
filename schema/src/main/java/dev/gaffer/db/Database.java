package dev.gaffer.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Map;
import java.util.Properties;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.MigrationInfo;

/**
 * The connection pool plus the schema's migrations. Both processes open one of these at start-up;
 * migrations run only when asked ({@code gaffer migrate}, or {@code --migrate} in dev), so that a
 * fleet of workers does not race to alter the schema.
 *
 * <p>An application that embeds a worker may instead lend its own pool ({@link #borrowing}):
 * Gaffer then opens no connection of its own and never closes the pool.
 */
public final class Database implements AutoCloseable {

    private final DatabaseConfig config;
    private final HikariDataSource pool;
    private final DataSource dataSource;

    private Database(DatabaseConfig config, HikariDataSource pool) {
        this.config = config;
        this.pool = pool;
        this.dataSource = pool;
    }

    private Database(DataSource borrowed) {
        this.config = null;
        this.pool = null;
        this.dataSource = borrowed;
    }

    /**
     * The application's own pool, lent to Gaffer. Everything runs on its connections: the
     * statements, and the LISTEN of a worker, which holds one of them for as long as it runs.
     * {@link #sibling} gives back this same pool (its session settings are the application's),
     * and {@link #close} leaves it open.
     */
    public static Database borrowing(DataSource dataSource) {
        return new Database(java.util.Objects.requireNonNull(dataSource, "dataSource"));
    }

    /** True for a pool that the application lent ({@link #borrowing}). */
    public boolean isBorrowed() {
        return pool == null;
    }

    /**
     * Opens the pool. HikariCP is told not to fail at start-up when the database is down
     * (initializationFailTimeout -1): a worker that starts before PostgreSQL should wait for it,
     * not crash-loop.
     */
    public static Database open(DatabaseConfig config) {
        return open(config, Map.of());
    }

    /**
     * A pool of its own on the same database, for one hot statement that wants other session
     * settings than the rest: at most {@code size} connections whose sessions start with {@code
     * settings} (parameter name → value, sent as startup options). The worker's claim loop uses
     * one with {@code plan_cache_mode = force_generic_plan}. The caller closes it.
     */
    public Database sibling(String purpose, int size, Map<String, String> settings) {
        if (isBorrowed()) {
            return this;
        }
        DatabaseConfig sibling = new DatabaseConfig(
                config.url(), size, config.connectionTimeout(), config.applicationName() + "-" + purpose);
        return open(sibling, settings);
    }

    /**
     * Session settings of every pool Gaffer opens (a sibling's own settings win).
     *
     * <p>{@code jit = off}: PostgreSQL compiles a statement with LLVM when its estimated cost
     * passes {@code jit_above_cost} (100 000), and compiles it again at every execution. The claim's
     * estimate grows with the table (its per-queue LIMIT is a parameter, so the planner assumes a
     * tenth of the rows): with 1 000 000 jobs queued and 5 000 000 retained it passed the threshold,
     * and every claim spent 25 – 30 ms compiling for 0.3 ms of work, a fifth of the throughput of a
     * small table (the bench's {@code scale} scenario, docs/benchmarks.md, 2026-12-03). Gaffer's
     * statements are short, index-driven ones; none gains from JIT. An application's own pool that
     * an embedded worker borrows keeps its settings: set {@code jit = off} for its role
     * (docs/handlers.md).
     */
    public static final Map<String, String> SESSION_DEFAULTS = Map.of("jit", "off");

    private static Database open(DatabaseConfig config, Map<String, String> settings) {
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName(config.applicationName() + "-pool");
        hikari.setJdbcUrl(config.url().jdbcUrl());
        if (config.url().user() != null) {
            hikari.setUsername(config.url().user());
        }
        if (config.url().password() != null) {
            hikari.setPassword(config.url().password());
        }
        hikari.setMaximumPoolSize(config.maxPoolSize());
        hikari.setMinimumIdle(Math.min(2, config.maxPoolSize()));
        hikari.setConnectionTimeout(config.connectionTimeout().toMillis());
        hikari.setInitializationFailTimeout(-1);
        hikari.addDataSourceProperty("ApplicationName", config.applicationName());
        // Detect a peer that vanished without closing the socket within a bounded time.
        hikari.addDataSourceProperty("tcpKeepAlive", "true");
        Map<String, String> session = new java.util.TreeMap<>(SESSION_DEFAULTS);
        session.putAll(settings);
        hikari.addDataSourceProperty("options", startupOptions(session));
        return new Database(config, new HikariDataSource(hikari));
    }

    private static String startupOptions(Map<String, String> settings) {
        StringBuilder options = new StringBuilder();
        settings.entrySet().stream().sorted(Map.Entry.comparingByKey()).forEach(e -> {
            if (!e.getKey().matches("[a-z][a-z0-9_.]*") || !e.getValue().matches("[A-Za-z0-9_.-]+")) {
                throw new IllegalArgumentException("not a plain session setting: " + e.getKey() + "=" + e.getValue());
            }
            options.append(options.isEmpty() ? "" : " ")
                    .append("-c ")
                    .append(e.getKey())
                    .append('=')
                    .append(e.getValue());
        });
        return options.toString();
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** How this pool was opened; a borrowed one has none. */
    public DatabaseConfig config() {
        if (config == null) {
            throw new IllegalStateException("a borrowed pool has no DatabaseConfig");
        }
        return config;
    }

    /** A pooled connection; the caller closes it. */
    public Connection connection() {
        try {
            return dataSource.getConnection();
        } catch (SQLException e) {
            throw new DatabaseException("cannot get a connection", e);
        }
    }

    /**
     * A connection outside the pool, for LISTEN: it lives as long as the listener and must not be
     * returned to a pool that would hand it to someone else.
     */
    public Connection dedicatedConnection(String purpose) {
        if (isBorrowed()) {
            // The application's pool is all there is: hold one of its connections.
            try {
                Connection c = dataSource.getConnection();
                if (!c.getAutoCommit()) {
                    c.setAutoCommit(true);
                }
                return c;
            } catch (SQLException e) {
                throw new DatabaseException("cannot take a " + purpose + " connection from the application's pool", e);
            }
        }
        Properties props = new Properties();
        if (config.url().user() != null) {
            props.setProperty("user", config.url().user());
        }
        if (config.url().password() != null) {
            props.setProperty("password", config.url().password());
        }
        props.setProperty("ApplicationName", config.applicationName() + "-" + purpose);
        props.setProperty("tcpKeepAlive", "true");
        // A socketFactory in the URL, if any, wins over this one (pgjdbc reads the URL last).
        props.setProperty("socketFactory", ListenSocketFactory.class.getName());
        props.setProperty(
                "connectTimeout",
                String.valueOf(Math.max(1, config.connectionTimeout().toSeconds())));
        try {
            return DriverManager.getConnection(config.url().jdbcUrl(), props);
        } catch (SQLException e) {
            throw new DatabaseException("cannot open a " + purpose + " connection", e);
        }
    }

    /** Applies pending migrations; returns how many ran. */
    public int migrate() {
        return flyway().migrate().migrationsExecuted;
    }

    /** Migrations in the jar that the database has not applied yet. */
    public int pendingMigrations() {
        MigrationInfo[] pending = flyway().info().pending();
        return pending == null ? 0 : pending.length;
    }

    /**
     * Gaffer's migrations. A database that already holds other tables (an application's, with a
     * worker embedded in it) but no migration history gets a baseline at version 0 first, so that
     * every one of Gaffer's migrations still runs; without it Flyway refuses a non-empty schema.
     */
    private Flyway flyway() {
        return Flyway.configure()
                .dataSource(dataSource)
                .locations("classpath:db/migration")
                .validateMigrationNaming(true)
                .baselineOnMigrate(true)
                .baselineVersion("0")
                .load();
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.close();
        }
    }
}
