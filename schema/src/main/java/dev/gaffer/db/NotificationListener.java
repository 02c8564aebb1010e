package dev.gaffer.db;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One LISTEN connection per process, fanned out to any number of subscribers.
 *
 * <p>The connection lives outside the pool. It is checked with a {@code SELECT 1} whenever it has
 * been quiet for {@code pingInterval}, under a network timeout, so that a dead peer, a terminated
 * backend or a silently half-open TCP connection (a proxy that stopped forwarding) is detected
 * within about {@code pingInterval + pingTimeout} and replaced. Subscribers are told when the
 * connection goes down and comes back: hints sent in between are lost, so they must re-read the
 * tables (NOTIFY is only ever a hint; polling alone stays correct).
 */
public final class NotificationListener implements AutoCloseable {

    /**
     * A NOTIFY hint: which event, which row ({@code id}: the job, absent for batched hints; the
     * API key of a key event), which queue.
     */
    public record Hint(String event, Long id, String queue) {}

    /** Receives hints on the listener's thread; must return quickly and must not throw. */
    public interface Subscriber {
        void onHint(Hint hint);

        /**
         * The hints that arrived together, with the connection they came on (in autocommit). A
         * subscriber may run a short statement on it, which commits on its own; it must leave the
         * connection as it found it. By default, {@link #onHint} for each.
         */
        default void onHints(List<Hint> hints, Connection connection) {
            hints.forEach(this::onHint);
        }

        /** The connection was lost ({@code false}) or (re)established and listening ({@code true}). */
        default void onConnectionChange(boolean listening) {}
    }

    public static final Duration DEFAULT_PING_INTERVAL = Duration.ofSeconds(2);
    public static final Duration DEFAULT_PING_TIMEOUT = Duration.ofSeconds(2);

    private static final Logger log = LoggerFactory.getLogger(NotificationListener.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

    private final Database database;
    private final List<String> channels;
    private final Duration pingInterval;
    private final Duration pingTimeout;
    private final List<Subscriber> subscribers = new CopyOnWriteArrayList<>();
    private final AtomicLong connects = new AtomicLong();
    private final AtomicLong hints = new AtomicLong();
    private final Thread thread;
    private volatile boolean listening;
    private static final Duration POOLED_WAIT = Duration.ofMillis(250);

    private volatile boolean stopped;
    private volatile Connection connection;

    public NotificationListener(Database database, String channel, Duration pingInterval, Duration pingTimeout) {
        this(database, List.of(channel), pingInterval, pingTimeout);
    }

    /** Listens on all of {@code channels} over the one connection. */
    public NotificationListener(Database database, List<String> channels, Duration pingInterval, Duration pingTimeout) {
        this.database = Objects.requireNonNull(database, "database");
        if (channels.isEmpty()) {
            throw new IllegalArgumentException("at least one channel is needed");
        }
        for (String channel : channels) {
            if (!channel.matches("[a-z_][a-z0-9_]*")) {
                throw new IllegalArgumentException("channel must be a plain lower-case identifier, got " + channel);
            }
        }
        this.channels = List.copyOf(channels);
        this.pingInterval = requirePositive(pingInterval, "pingInterval");
        this.pingTimeout = requirePositive(pingTimeout, "pingTimeout");
        this.thread = Thread.ofPlatform()
                .daemon()
                .name("gaffer-listen-" + String.join("+", channels))
                .unstarted(this::run);
    }

    public NotificationListener subscribe(Subscriber subscriber) {
        subscribers.add(Objects.requireNonNull(subscriber));
        return this;
    }

    public void unsubscribe(Subscriber subscriber) {
        subscribers.remove(subscriber);
    }

    public NotificationListener start() {
        thread.start();
        return this;
    }

    /** True while the connection is up and LISTENing. */
    public boolean isListening() {
        return listening;
    }

    /** How many times a connection was established (1 after the first, +1 per replacement). */
    public long connects() {
        return connects.get();
    }

    /** Hints received since start. */
    public long hintsReceived() {
        return hints.get();
    }

    /** The backend pid of the current connection, or -1; lets tests terminate it. */
    public int backendPid() {
        Connection c = connection;
        if (c == null) {
            return -1;
        }
        try {
            return c.unwrap(PGConnection.class).getBackendPID();
        } catch (SQLException e) {
            return -1;
        }
    }

    private void run() {
        Duration backoff = Duration.ofMillis(100);
        while (!stopped) {
            try (Connection c = database.dedicatedConnection("listen")) {
                connection = c;
                c.setNetworkTimeout(
                        Runnable::run, (int) (pingInterval.plus(pingTimeout).toMillis()));
                try (Statement st = c.createStatement()) {
                    for (String channel : channels) {
                        st.execute("LISTEN " + channel);
                    }
                }
                connects.incrementAndGet();
                setListening(true);
                backoff = Duration.ofMillis(100);
                listen(c);
            } catch (SQLException | RuntimeException e) {
                if (!stopped) {
                    log.warn("LISTEN connection lost ({}); reconnecting in {} ms", e.getMessage(), backoff.toMillis());
                }
            } finally {
                connection = null;
                setListening(false);
            }
            if (!stopped) {
                sleep(backoff);
                backoff = backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0 ? MAX_BACKOFF : backoff.multipliedBy(2);
            }
        }
    }

    private void listen(Connection c) throws SQLException {
        PGConnection pg = c.unwrap(PGConnection.class);
        long lastTraffic = System.nanoTime();
        // On a connection lent by an application's pool, waits are short so that close() can let
        // the loop end by itself and hand the connection back clean (see close()).
        int waitMillis = (int)
                (database.isBorrowed()
                        ? Math.min(pingInterval.toMillis(), POOLED_WAIT.toMillis())
                        : pingInterval.toMillis());
        while (!stopped) {
            PGNotification[] received = pg.getNotifications(waitMillis);
            if (received != null && received.length > 0) {
                lastTraffic = System.nanoTime();
                dispatch(received, c);
            } else if (System.nanoTime() - lastTraffic >= pingInterval.toNanos()) {
                // Quiet: prove the connection still answers. A half-open socket makes this read
                // time out (network timeout), which throws and leads to a fresh connection.
                try (Statement st = c.createStatement()) {
                    st.execute("SELECT 1");
                }
                lastTraffic = System.nanoTime();
            }
        }
        if (database.isBorrowed()) {
            // Back to the application's pool: without this its next user would keep collecting
            // Gaffer's notifications in the driver's queue.
            try (Statement st = c.createStatement()) {
                st.execute("UNLISTEN *");
            }
        }
    }

    private void dispatch(PGNotification[] received, Connection c) {
        hints.addAndGet(received.length);
        List<Hint> batch = new java.util.ArrayList<>(received.length);
        for (PGNotification n : received) {
            Hint hint = parse(n.getParameter());
            if (hint != null) {
                batch.add(hint);
            }
        }
        if (batch.isEmpty()) {
            return;
        }
        List<Hint> hints = java.util.Collections.unmodifiableList(batch);
        for (Subscriber s : subscribers) {
            try {
                s.onHints(hints, c);
            } catch (RuntimeException e) {
                log.error("subscriber {} failed on hints {}", s, hints, e);
            }
        }
    }

    static Hint parse(String payload) {
        try {
            JsonNode n = JSON.readTree(payload);
            JsonNode id = n.get("id");
            return new Hint(
                    n.path("event").asText(null),
                    id == null || !id.canConvertToLong() ? null : id.asLong(),
                    n.path("queue").asText(null));
        } catch (Exception e) {
            log.warn("ignoring a NOTIFY payload that is not Gaffer's: {}", payload);
            return null;
        }
    }

    private void setListening(boolean now) {
        if (listening == now) {
            return;
        }
        listening = now;
        for (Subscriber s : subscribers) {
            try {
                s.onConnectionChange(now);
            } catch (RuntimeException e) {
                log.error("subscriber {} failed on connection change", s, e);
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static Duration requirePositive(Duration d, String name) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(name + " must be positive, got " + d);
        }
        return d;
    }

    @Override
    public void close() {
        stopped = true;
        if (database.isBorrowed()) {
            // The loop sees `stopped` within one short wait, UNLISTENs and returns the connection.
            try {
                thread.join(POOLED_WAIT.multipliedBy(4));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            if (!thread.isAlive()) {
                return;
            }
        }
        Connection c = connection;
        if (c != null) {
            try {
                // Closing the socket is what ends the wait in getNotifications. A pooled connection
                // (an application's pool lent to an embedded worker) would instead be returned to
                // its pool, which waits for the very lock the listening thread holds: close the
                // physical connection under it; the pool then drops it.
                Connection physical =
                        c.isWrapperFor(PGConnection.class) ? (Connection) c.unwrap(PGConnection.class) : c;
                physical.close();
            } catch (SQLException ignored) {
                // closing is all that is left to do
            }
        }
        thread.interrupt();
        try {
            thread.join(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
