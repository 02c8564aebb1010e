package dev.gaffer.db;

import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The SQL of the {@code workers} table: the registry of live worker processes. Workers write
 * their own row (register, touch, deregister); maintenance expires rows that stopped being
 * touched; the API reads the list. Time is the database clock.
 */
public final class WorkerStore {

    /** One row of {@code workers}, as read. */
    public record WorkerRow(
            String id,
            String name,
            String host,
            long pid,
            List<String> queues,
            int concurrency,
            int running,
            Instant startedAt,
            Instant lastSeenAt) {}

    /** What a worker says about itself when it registers; {@code heartbeatTimeout} is the length of its leases. */
    public record Registration(
            String id,
            String name,
            String host,
            long pid,
            List<String> queues,
            int concurrency,
            Duration heartbeatTimeout) {
        public Registration {
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(host, "host");
            queues = List.copyOf(queues);
            if (concurrency < 1) {
                throw new IllegalArgumentException("concurrency must be positive, got " + concurrency);
            }
            if (heartbeatTimeout.isNegative() || heartbeatTimeout.isZero()) {
                throw new IllegalArgumentException("heartbeat timeout must be positive, got " + heartbeatTimeout);
            }
        }
    }

    /**
     * An earlier process registered under the same name, as startup recovery sees it: {@code
     * silent} when it has not been seen for longer than its own heartbeat timeout (database clock).
     */
    public record Predecessor(String id, String host, long pid, Instant lastSeenAt, boolean silent) {}

    private static final String COLUMNS = "id, name, host, pid, queues, concurrency, running, started_at, last_seen_at";

    /** Insert, or refresh a row that maintenance expired while this process was paused. */
    private static final String REGISTER = """
            INSERT INTO workers (id, name, host, pid, queues, concurrency, running, heartbeat_timeout)
            VALUES (?, ?, ?, ?, ?, ?, ?, make_interval(secs => ?::double precision))
            ON CONFLICT (id) DO UPDATE
               SET last_seen_at = now(), running = EXCLUDED.running
            """;

    private static final String TOUCH = "UPDATE workers SET last_seen_at = now(), running = ? WHERE id = ?";

    private static final String DEREGISTER = "DELETE FROM workers WHERE id = ?";

    /** Rows of earlier processes started under the same name (startup recovery decides which are gone). */
    private static final String PREDECESSORS = """
            SELECT id, host, pid, last_seen_at, last_seen_at < now() - heartbeat_timeout AS silent
              FROM workers WHERE name = ? AND id <> ? ORDER BY started_at, id""";

    private static final String FORGET = "DELETE FROM workers WHERE id = ANY (?)";

    private static final String EXPIRE =
            "DELETE FROM workers WHERE last_seen_at < now() - make_interval(secs => ?::double precision)";

    private static final String LIST = "SELECT " + COLUMNS + " FROM workers ORDER BY name, started_at, id";

    private static final String FIND = "SELECT " + COLUMNS + " FROM workers WHERE id = ?";

    private final DataSource dataSource;

    public WorkerStore(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    public void register(Registration r, int running) {
        int rows = Sql.update(dataSource, "register worker " + r.id(), REGISTER, ps -> {
            ps.setString(1, r.id());
            ps.setString(2, r.name());
            ps.setString(3, r.host());
            ps.setLong(4, r.pid());
            Sql.setArray(ps, 5, "text", r.queues());
            ps.setInt(6, r.concurrency());
            ps.setInt(7, running);
            ps.setDouble(8, r.heartbeatTimeout().toMillis() / 1e3);
        });
        if (rows != 1) {
            throw new IllegalStateException("registering worker " + r.id() + " wrote " + rows + " rows");
        }
    }

    /**
     * Updates last_seen_at and the running count. Returns false when the row is gone (expired by
     * maintenance while this process was stalled): the caller registers again.
     */
    public boolean touch(String id, int running) {
        int rows = Sql.update(dataSource, "touch worker " + id, TOUCH, ps -> {
            ps.setInt(1, running);
            ps.setString(2, id);
        });
        if (rows > 1) {
            throw new IllegalStateException("touching worker " + id + " changed " + rows + " rows");
        }
        return rows == 1;
    }

    /** Removes this process's row; true when it was there. */
    public boolean deregister(String id) {
        return Sql.update(dataSource, "deregister worker " + id, DEREGISTER, ps -> ps.setString(1, id)) == 1;
    }

    /** The rows of earlier processes registered under {@code name}, oldest first. */
    public List<Predecessor> predecessors(String name, String ownId) {
        return Sql.query(
                dataSource,
                "read earlier " + name + " workers",
                PREDECESSORS,
                ps -> {
                    ps.setString(1, name);
                    ps.setString(2, ownId);
                },
                rs -> new Predecessor(
                        rs.getString("id"),
                        rs.getString("host"),
                        rs.getLong("pid"),
                        Sql.instant(rs, "last_seen_at"),
                        rs.getBoolean("silent")));
    }

    /** Removes the rows of workers that are gone; returns how many. */
    public int forget(List<String> ids) {
        if (ids.isEmpty()) {
            return 0;
        }
        return Sql.update(dataSource, "forget workers " + ids, FORGET, ps -> Sql.setArray(ps, 1, "text", ids));
    }

    /** Deletes workers not seen for longer than {@code olderThan}; returns how many. */
    public int expire(Duration olderThan) {
        return Sql.update(dataSource, "expire workers", EXPIRE, ps -> ps.setDouble(1, olderThan.toNanos() / 1e9));
    }

    public List<WorkerRow> list() {
        return Sql.query(dataSource, "list workers", LIST, ps -> {}, WorkerStore::row);
    }

    public java.util.Optional<WorkerRow> find(String id) {
        return Sql.query(dataSource, "find worker " + id, FIND, ps -> ps.setString(1, id), WorkerStore::row).stream()
                .findFirst();
    }

    private static WorkerRow row(ResultSet rs) throws SQLException {
        Array queues = rs.getArray("queues");
        return new WorkerRow(
                rs.getString("id"),
                rs.getString("name"),
                rs.getString("host"),
                rs.getLong("pid"),
                List.of((String[]) queues.getArray()),
                rs.getInt("concurrency"),
                rs.getInt("running"),
                Sql.instant(rs, "started_at"),
                Sql.instant(rs, "last_seen_at"));
    }
}
