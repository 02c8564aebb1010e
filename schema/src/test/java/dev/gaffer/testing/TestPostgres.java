package dev.gaffer.testing;

import dev.gaffer.db.Database;
import dev.gaffer.db.DatabaseConfig;
import dev.gaffer.db.DatabaseUrl;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Locale;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.postgresql.PostgreSQLContainer;

/**
 * A real PostgreSQL for tests, one server per JVM and one fresh database per caller.
 *
 * <p>Where the server comes from, in this order: {@code GAFFER_TEST_DATABASE_URL} (a server you
 * run; its user needs CREATEDB); Testcontainers when a Docker engine answers; otherwise an
 * embedded PostgreSQL from Maven Central (io.zonky.test). The last is what CI on machines
 * without Docker uses; the other two are real paths too, chosen by the environment.
 */
public final class TestPostgres {

    private static final Logger log = LoggerFactory.getLogger(TestPostgres.class);
    private static final AtomicInteger DATABASES = new AtomicInteger();
    private static Server server;

    /** An admin connection to a server: where to create the test databases. */
    public record Server(String provider, String host, int port, String user, String password) {
        String jdbcUrl(String database) {
            return "jdbc:postgresql://" + host + ":" + port + "/" + database;
        }
    }

    private TestPostgres() {}

    public static synchronized Server server() {
        if (server == null) {
            server = start();
            log.info("test PostgreSQL from {} at {}:{}", server.provider(), server.host(), server.port());
        }
        return server;
    }

    /**
     * Creates an empty database with a unique name, migrated to the current schema, and opens a
     * pool on it. The caller closes the pool; the database is left for post-mortems and goes
     * with the server.
     */
    public static Database freshDatabase(String hint) {
        return freshDatabase(hint, 20);
    }

    public static Database freshDatabase(String hint, int poolSize) {
        String name = newEmptyDatabase(hint);
        Database db = Database.open(new DatabaseConfig(url(name), poolSize, Duration.ofSeconds(10), "gaffer-test"));
        db.migrate();
        return db;
    }

    /** Creates an empty, unmigrated database and returns its name. */
    public static String newEmptyDatabase(String hint) {
        Server s = server();
        String name = ("t" + DATABASES.incrementAndGet() + "_"
                        + ProcessHandle.current().pid() + "_"
                        + hint.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "_"))
                .substring(
                        0,
                        Math.min(
                                60,
                                ("t" + DATABASES.get() + "_"
                                                + ProcessHandle.current().pid() + "_" + hint)
                                        .length()));
        try (Connection c = admin(s);
                Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE \"" + name + "\"");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create test database " + name + " on " + s.provider(), e);
        }
        return name;
    }

    /** The location of a database on the test server, with credentials. */
    public static DatabaseUrl url(String database) {
        Server s = server();
        return new DatabaseUrl(s.jdbcUrl(database), s.user(), s.password());
    }

    /** The same location as a {@code postgres://} URL, as a user would set DATABASE_URL. */
    public static String postgresUrl(String database) {
        Server s = server();
        String auth = s.password() == null ? s.user() : s.user() + ":" + s.password();
        return "postgres://" + auth + "@" + s.host() + ":" + s.port() + "/" + database;
    }

    public static Connection admin(Server s) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", s.user());
        if (s.password() != null) {
            p.setProperty("password", s.password());
        }
        return DriverManager.getConnection(s.jdbcUrl("postgres"), p);
    }

    private static Server start() {
        String given = System.getenv("GAFFER_TEST_DATABASE_URL");
        if (given != null && !given.isBlank()) {
            DatabaseUrl url = DatabaseUrl.parse("GAFFER_TEST_DATABASE_URL", given);
            java.net.URI uri = java.net.URI.create(url.jdbcUrl().substring("jdbc:".length()));
            return new Server(
                    "GAFFER_TEST_DATABASE_URL",
                    uri.getHost(),
                    uri.getPort() > 0 ? uri.getPort() : 5432,
                    url.user() == null ? "postgres" : url.user(),
                    url.password());
        }
        if (dockerAvailable()) {
            PostgreSQLContainer container = new PostgreSQLContainer("postgres:18-alpine")
                    .withCommand("postgres", "-c", "fsync=off", "-c", "max_connections=300");
            container.start();
            Runtime.getRuntime().addShutdownHook(new Thread(container::stop));
            return new Server(
                    "testcontainers",
                    container.getHost(),
                    container.getMappedPort(5432),
                    container.getUsername(),
                    container.getPassword());
        }
        try {
            EmbeddedPostgres pg = EmbeddedPostgres.builder()
                    // Durability is not under test; fsync off saves most of a test run's I/O.
                    .setServerConfig("fsync", "off")
                    .setServerConfig("synchronous_commit", "off")
                    .setServerConfig("full_page_writes", "off")
                    .setServerConfig("max_connections", "300")
                    .start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    pg.close();
                } catch (IOException ignored) {
                    // the JVM is going away; the data directory is temporary
                }
            }));
            return new Server("embedded", "127.0.0.1", pg.getPort(), "postgres", null);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start the embedded PostgreSQL", e);
        }
    }

    private static boolean dockerAvailable() {
        try {
            return DockerClientFactory.instance().isDockerAvailable();
        } catch (Throwable t) {
            return false;
        }
    }
}
