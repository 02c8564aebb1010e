package dev.gaffer.api;

import dev.gaffer.api.Responses.EventResponse;
import dev.gaffer.job.JobEvent;
import dev.gaffer.job.JobStore;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

/**
 * Server-sent events: {@code /api/v3/jobs/{id}/stream} (one job) and {@code /api/v3/events} (all
 * jobs). Each SSE {@code id:} is the job_events id, so a client that reconnects with
 * {@code Last-Event-ID} (EventSource does this by itself) or {@code ?since=} first gets what it
 * missed from the table, then live events from the {@link SseHub}, with nothing missed or
 * repeated. The request's (virtual) thread blocks on the client's buffer; it holds no database
 * connection while it waits.
 */
final class StreamController {

    static final Duration KEEPALIVE = Duration.ofSeconds(10);
    private static final Duration POLL = Duration.ofSeconds(1);

    private final JobStore store;
    private final SseHub hub;

    StreamController(JobStore store, SseHub hub) {
        this.store = store;
        this.hub = hub;
    }

    /** One job's events; without a resume point, its whole history first. */
    void jobStream(Context ctx) throws IOException, InterruptedException {
        long id = Params.jobId(ctx);
        long since = Params.since(ctx);
        store.find(id).orElseThrow(() -> JobController.jobNotFound(id));
        stream(ctx, id, since);
    }

    /** Every job's events; without a resume point, only those from now on. */
    void allEvents(Context ctx) throws IOException, InterruptedException {
        Long since = Params.optionalSince(ctx);
        stream(ctx, null, since);
    }

    private void stream(Context ctx, Long jobId, Long since) throws IOException, InterruptedException {
        SseHub.Subscription sub = hub.subscribe(jobId);
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
            while (!backlog.isEmpty()) {
                for (JobEvent e : backlog) {
                    send(out, e);
                    last = e.id();
                }
                out.flush();
                backlog = last < sub.liveAfter() ? backlog(jobId, last, sub.liveAfter()) : List.of();
            }
            out.flush();
            long quietSince = System.nanoTime();
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
                } else if (System.nanoTime() - quietSince > KEEPALIVE.toNanos()) {
                    // Also how a vanished client is noticed: this write fails.
                    write(out, ": keepalive\n\n");
                    out.flush();
                    quietSince = System.nanoTime();
                }
            }
        } catch (IOException e) {
            // The client went away; EventSource will come back with Last-Event-ID.
        } finally {
            hub.unsubscribe(client);
        }
    }

    /** Events in (after, upTo], one page, oldest first. */
    private List<JobEvent> backlog(Long jobId, long after, long upTo) {
        if (after >= upTo) {
            return List.of();
        }
        List<JobEvent> page =
                jobId == null ? store.eventsAfter(after, SseHub.BATCH) : store.events(jobId, after, SseHub.BATCH);
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
