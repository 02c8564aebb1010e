package dev.gaffer.faults;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * One real PostgreSQL for the whole suite, on a fixed loopback port and a fixed data directory,
 * so that a scenario can stop it and start it again where clients expect it. Each scenario gets
 * its own database on it.
 */
final class FaultPostgres {

    private static FaultPostgres instance;

    private final Path dataDirectory;
    private final int port;
    private EmbeddedPostgres postgres;

    private FaultPostgres(Path dataDirectory, int port) {
        this.dataDirectory = dataDirectory;
        this.port = port;
    }

    static synchronized FaultPostgres get() {
        if (instance == null) {
            Path dir = Path.of("target", "faults-pg").toAbsolutePath();
            deleteRecursively(dir);
            instance = new FaultPostgres(dir, freePort());
            instance.start();
            Runtime.getRuntime().addShutdownHook(new Thread(instance::stop, "faults-pg-stop"));
        }
        return instance;
    }

    int port() {
        return port;
    }

    synchronized boolean running() {
        return postgres != null;
    }

    synchronized void start() {
        if (postgres != null) {
            return;
        }
        try {
            Files.createDirectories(dataDirectory);
            postgres = EmbeddedPostgres.builder()
                    .setPort(port)
                    .setDataDirectory(dataDirectory)
                    .setCleanDataDirectory(false)
                    .setServerConfig("listen_addresses", "127.0.0.1")
                    .setServerConfig("max_connections", "300")
                    // Durability is not under test (a restart is a clean stop and start).
                    .setServerConfig("fsync", "off")
                    .setServerConfig("synchronous_commit", "off")
                    .setServerConfig("full_page_writes", "off")
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the embedded PostgreSQL on port " + port, e);
        }
    }

    synchronized void stop() {
        if (postgres == null) {
            return;
        }
        try {
            postgres.close();
        } catch (IOException e) {
            throw new UncheckedIOException("the embedded PostgreSQL did not stop", e);
        } finally {
            postgres = null;
        }
    }

    String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    /** DATABASE_URL for a process, as a user would write it. */
    String url(String database, String user, String password) {
        return "postgres://" + user + (password == null ? "" : ":" + password) + "@127.0.0.1:" + port + "/" + database;
    }

    Connection connect(String database) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), "postgres", null);
    }

    Connection connect(String database, String user, String password) throws SQLException {
        return DriverManager.getConnection(jdbcUrl(database), user, password);
    }

    static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
