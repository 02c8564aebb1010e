package dev.gaffer.api;

import dev.gaffer.db.NotificationListener;
import dev.gaffer.job.JobEvent;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobStatus;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Fans job_events out to the SSE clients of this process. One reader for all clients: on a
 * NOTIFY hint (coalesced over {@link #COALESCE}) and, while a client is connected, every {@link
 * #FALLBACK}, {@link #runOnce()} reads the events after its cursor and offers each to the clients
 * that want it. No client ever holds a database connection while it waits. The timer is what
 * delivers the events that are recorded without a hint (completions and progress: {@code
 * JobHistory.UNANNOUNCED}, since a NOTIFY serializes the commits of the workers' hot statements)
 * and what makes the hub work without LISTEN, e.g. behind a transaction-mode pooler; with no client
 * it reads nothing.
 *
 * <p><b>Ids that commit out of order.</b> job_events ids come from a sequence, taken when a
 * statement runs, not when it commits: id 11 can become visible before id 10. If the hub moved
 * its cursor past 10 when it saw 11, event 10 would never be delivered. So the hub delivers only
 * contiguous ids; at a hole it waits. A hole can also be permanent (a rolled-back statement used
 * the id), so once a hole has been seen for {@link #GAP_WAIT} the hub steps over it. Every id in
 * the hole was taken before the event beyond it, which was already visible when the wait began,
 * so a statement would have to stay uncommitted for longer than GAP_WAIT after taking its id for
 * its event to be skipped live. Even then nothing is lost for good: the event is in job_events,
 * and a client that reconnects with Last-Event-ID reads its backlog from the table.
 *
 * <p>A client too slow to drain its buffer ({@link #CLIENT_BUFFER} events) is disconnected rather
 * than allowed to hold memory without bound; it resumes from its last id.
 */
final class SseHub implements NotificationListener.Subscriber, AutoCloseable {

    static final Duration COALESCE = Duration.ofMillis(50);
    static final Duration FALLBACK = Duration.ofMillis(100);
    static final Duration GAP_RECHECK = Duration.ofMillis(200);
    static final Duration GAP_WAIT = Duration.ofSeconds(2);
    static final int BATCH = 500;
    static final int CLIENT_BUFFER = 10_000;

    private static final Logger log = LoggerFactory.getLogger(SseHub.class);

    /**
     * One connected stream: its filter (a job id, or null for all), the API key it was opened
     * with (null without auth), and its buffer.
     */
    static final class Client {
        /** Put into a buffer to wake its reader when the stream is ended from outside. */
        private static final JobEvent END =
                new JobEvent(0, 0, "end", JobStatus.CANCELLED, 0, null, null, null, null, null, null, null);

        final Long jobId;
        final Long keyId;
        final BlockingQueue<JobEvent> buffer = new ArrayBlockingQueue<>(CLIENT_BUFFER);
        volatile boolean ended;

        Client(Long jobId, Long keyId) {
            this.jobId = jobId;
            this.keyId = keyId;
        }

        /** The next event, or null after {@code timeout} or once the client was ended. */
        JobEvent next(Duration timeout) throws InterruptedException {
            if (ended) {
                return null;
            }
            JobEvent e = buffer.poll(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return e == END ? null : e;
        }

        void end() {
            ended = true;
            // A full buffer means the reader is busy anyway and sees the flag after this event.
            buffer.offer(END);
        }
    }

    /** A new client and the hub's cursor at that moment: events up to it come from the backlog, later ones live. */
    record Subscription(Client client, long liveAfter) {}

    /** What one {@link #runOnce()} did. */
    record Tick(int read, int delivered, boolean waitingAtGap) {}

    private final JobQueries queries;
    private final Set<Client> clients = ConcurrentHashMap.newKeySet();
    private final Semaphore wakeUp = new Semaphore(0);
    private final Object lock = new Object();
    private final Thread thread;
    private volatile boolean closed;

    // Guarded by lock.
    private long cursor = -1;
    private long gapSeenAtNanos;

    SseHub(JobQueries queries) {
        this.queries = queries;
        this.thread = Thread.ofPlatform().daemon().name("gaffer-sse-hub").unstarted(this::loop);
    }

    SseHub start() {
        thread.start();
        return this;
    }

    int clientCount() {
        return clients.size();
    }

    Subscription subscribe(Long jobId, Long keyId) {
        synchronized (lock) {
            initCursor();
            Client c = new Client(jobId, keyId);
            clients.add(c);
            return new Subscription(c, cursor);
        }
    }

    void unsubscribe(Client c) {
        clients.remove(c);
        c.end();
    }

    /** Ends every stream opened with the API key {@code keyId} (it was revoked); returns how many. */
    int endStreamsOfKey(long keyId) {
        int n = 0;
        for (Client c : clients) {
            if (c.keyId != null && c.keyId == keyId) {
                unsubscribe(c);
                n++;
            }
        }
        return n;
    }

    @Override
    public void onHint(NotificationListener.Hint hint) {
        wakeUp.release();
    }

    @Override
    public void onConnectionChange(boolean listening) {
        // Hints sent while the connection was down are lost: read now rather than at the fallback.
        wakeUp.release();
    }

    /** Reads the events after the cursor and hands them to the clients. */
    Tick runOnce() {
        synchronized (lock) {
            if (clients.isEmpty()) {
                // Nobody listens: read nothing. The next subscriber starts from the newest event
                // id and takes anything older from job_events as its backlog.
                cursor = -1;
                gapSeenAtNanos = 0;
                return new Tick(0, 0, false);
            }
            initCursor();
            List<JobEvent> events = queries.eventsAfter(cursor, BATCH);
            int delivered = 0;
            boolean waiting = false;
            for (JobEvent e : events) {
                if (e.id() != cursor + 1) {
                    long now = System.nanoTime();
                    if (gapSeenAtNanos == 0) {
                        gapSeenAtNanos = now;
                    }
                    if (now - gapSeenAtNanos < GAP_WAIT.toNanos()) {
                        waiting = true;
                        break;
                    }
                    log.debug("stepping over job_events ids {}..{} (never committed)", cursor + 1, e.id() - 1);
                }
                deliver(e);
                delivered++;
                cursor = e.id();
                gapSeenAtNanos = 0;
            }
            return new Tick(events.size(), delivered, waiting);
        }
    }

    private void initCursor() {
        if (cursor < 0) {
            cursor = queries.lastEventId();
        }
    }

    private void deliver(JobEvent e) {
        for (Client c : clients) {
            if (c.jobId == null || c.jobId == e.jobId()) {
                if (!c.buffer.offer(e)) {
                    log.info("SSE client too slow ({} events buffered): disconnecting it", CLIENT_BUFFER);
                    unsubscribe(c);
                }
            }
        }
    }

    private void loop() {
        Duration wait = FALLBACK;
        while (!closed) {
            try {
                if (wakeUp.tryAcquire(wait.toMillis(), TimeUnit.MILLISECONDS)) {
                    Thread.sleep(COALESCE.toMillis());
                    wakeUp.drainPermits();
                }
                if (closed) {
                    return;
                }
                Tick t = runOnce();
                // A full batch means more is waiting; a hole wants a quick second look.
                wait = t.read() == BATCH && !t.waitingAtGap()
                        ? Duration.ZERO
                        : t.waitingAtGap() ? GAP_RECHECK : FALLBACK;
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                // The database may be down: keep the loop alive and try again at the fallback.
                log.warn("SSE hub could not read job_events: {}", e.getMessage());
                wait = FALLBACK;
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        thread.interrupt();
        for (Client c : clients) {
            unsubscribe(c);
        }
    }
}
