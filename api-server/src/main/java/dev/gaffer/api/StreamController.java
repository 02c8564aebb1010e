package dev.gaffer.api;

import dev.gaffer.api.Responses.EventResponse;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobEvent;
import dev.gaffer.job.JobQueries;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Server-sent events: {@code /api/v3/jobs/{id}/stream} (one job) and {@code /api/v3/events} (all
 * jobs). Each SSE {@code id:} is the job_events id, so a client that reconnects with
 * {@code Last-Event-ID} (EventSource does this by itself) or {@code ?since=} first gets what it
 * missed from the table, then live events from the {@link SseHub}, with nothing missed or
 * repeated. The request's (virtual) thread blocks on the client's buffer; it holds no database
 * connection while it waits.
 *
 * <p>A job's stream ends once the job is finished: after the event that finished it, or, for a
 * job that was already finished, after its history. A reconnect that would get nothing more (the
 * job finished and the client has its last event) is answered 204 No Content, which tells an
 * EventSource to stop reconnecting. A job that is retried later is a new stream's business.
 *
 * <p>A stream lives longer than the check of its request's key: it checks the key again every
 * {@link #POLL} (cached, {@link Authenticator}) and ends when the key was revoked; a revocation
 * that this process hears of ends the stream at once ({@link SseHub#endStreamsOfKey}).
 */
final class StreamController {

    static final Duration KEEPALIVE = Duration.ofSeconds(10);
    static final Duration POLL = Duration.ofMillis(500);

    private final JobQueries queries;
    private final SseHub hub;
    private final Authenticator auth;

    StreamController(JobQueries queries, SseHub hub, Authenticator auth) {
        this.queries = queries;
        this.hub = hub;
        this.auth = auth;
    }

    /** One job's events; without a resume point, its whole history first. */
    void jobStream(Context ctx) throws IOException, InterruptedException {
        long id = Params.jobId(ctx);
        long since = Params.since(ctx);
        Job job = queries.find(id).orElseThrow(() -> JobController.jobNotFound(id));
        if (job.status().isTerminal() && queries.events(id, since, 1).isEmpty()) {
            // Finished, and the client has seen everything: nothing will ever follow.
            ctx.status(204);
            return;
        }
        stream(ctx, id, since);
    }

    /** Every job's events; without a resume point, only those from now on. */
    void allEvents(Context ctx) throws IOException, InterruptedException {
        Long since = Params.optionalSince(ctx);
        stream(ctx, null, since);
    }

    private void stream(Context ctx, Long jobId, Long since) throws IOException, InterruptedException {
        Long keyId = Authenticator.principal(ctx).keyId();
        SseHub.Subscription sub = hub.subscribe(jobId, keyId);
        SseHub.Client client = sub.client();
        try {
            long last = since == null ? sub.liveAfter() : since;
            // The first backlog page is read before the response starts, so that a database
            // outage is still a 503 rather than a stream that ends at once.
            List<JobEvent> backlog = backlog(jobId, last, sub.liveAfter());
            ctx.status(200);
            ctx.res().setContentType("text/event-stream");
            ctx.res().setCharacterEncoding("UTF-8");
            ctx.res().setHeader("Cache-Control", "no-cache");
            ctx.res().setHeader("X-Accel-Buffering", "no");
            OutputStream out = ctx.res().getOutputStream();
            write(out, "retry: 2000\n: connected\n\n");
            JobEvent lastSent = null;
            while (!backlog.isEmpty()) {
                for (JobEvent e : backlog) {
                    send(out, e);
                    last = e.id();
                    lastSent = e;
                }
                out.flush();
                backlog = last < sub.liveAfter() ? backlog(jobId, last, sub.liveAfter()) : List.of();
            }
            out.flush();
            if (jobId != null && finished(jobId, lastSent)) {
                return;
            }
            long quietSince = System.nanoTime();
            long checkedKeyAt = System.nanoTime();
            while (!client.ended) {
                JobEvent e = client.next(POLL);
                if (e != null) {
                    if (e.id() > last) {
                        send(out, e);
                        last = e.id();
                    }
                    if (client.buffer.isEmpty()) {
                        out.flush();
                    }
                    quietSince = System.nanoTime();
                    if (jobId != null && finished(jobId, e)) {
                        out.flush();
                        return;
                    }
                } else if (System.nanoTime() - quietSince > KEEPALIVE.toNanos()) {
                    // Also how a vanished client is noticed: this write fails.
                    write(out, ": keepalive\n\n");
                    out.flush();
                    quietSince = System.nanoTime();
                }
                if (System.nanoTime() - checkedKeyAt >= POLL.toNanos()) {
                    if (!auth.stillValid(ctx)) {
                        return;
                    }
                    checkedKeyAt = System.nanoTime();
                }
            }
        } catch (IOException e) {
            // The client went away; EventSource will come back with Last-Event-ID.
        } finally {
            hub.unsubscribe(client);
        }
    }

    /**
     * Whether a job's stream is done after {@code sent}: the event left the job finished, and the
     * job still is (a person may have retried it since, and then its stream goes on).
     */
    private boolean finished(long jobId, JobEvent sent) {
        if (sent == null || !sent.status().isTerminal()) {
            return false;
        }
        Optional<Job> now = queries.find(jobId);
        return now.isEmpty() || now.get().status().isTerminal();
    }

    /** Events in (after, upTo], one page, oldest first. */
    private List<JobEvent> backlog(Long jobId, long after, long upTo) {
        if (after >= upTo) {
            return List.of();
        }
        List<JobEvent> page =
                jobId == null ? queries.eventsAfter(after, SseHub.BATCH) : queries.events(jobId, after, SseHub.BATCH);
        return page.stream().filter(e -> e.id() <= upTo).toList();
    }

    private static void send(OutputStream out, JobEvent e) throws IOException {
        byte[] data = JsonSupport.MAPPER.writeValueAsBytes(EventResponse.of(e));
        write(out, "id: " + e.id() + "\ndata: ");
        out.write(data);
        write(out, "\n\n");
    }

    private static void write(OutputStream out, String s) throws IOException {
        out.write(s.getBytes(StandardCharsets.UTF_8));
    }
}
