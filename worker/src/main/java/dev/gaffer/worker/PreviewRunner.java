package dev.gaffer.worker;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.Job;
import dev.gaffer.job.JsonLimits;
import dev.gaffer.job.PreviewLease;
import dev.gaffer.job.PreviewStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs the previews of pending jobs (issue 18), one at a time per worker, beside the job slots:
 * claims the oldest queued preview of a type this worker has a {@link PreviewHandler} for, runs
 * it for at most its timeout, and writes its result or its failure, fenced by the preview's
 * lease. Polls while there is nothing to do; takes the next one at once after one is done.
 */
final class PreviewRunner implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(PreviewRunner.class);

    /** How long past its timeout a preview's lease lasts: its result must still get written. */
    private static final Duration LEASE_MARGIN = Duration.ofSeconds(30);

    private final String workerId;
    private final PreviewStore store;
    private final ArtifactStore artifacts;
    private final HandlerRegistry registry;
    private final Duration poll;
    private final Duration timeout;
    private final AtomicBoolean running = new AtomicBoolean();
    private final java.util.concurrent.atomic.AtomicLong done = new java.util.concurrent.atomic.AtomicLong();
    private volatile Thread loop;

    PreviewRunner(
            String workerId,
            PreviewStore store,
            ArtifactStore artifacts,
            HandlerRegistry registry,
            Duration poll,
            Duration timeout) {
        this.workerId = workerId;
        this.store = store;
        this.artifacts = artifacts;
        this.registry = registry;
        this.poll = poll;
        this.timeout = timeout;
    }

    /** Starts the loop when the registry has previews; otherwise does nothing. */
    void start() {
        if (registry.previewTypes().isEmpty() || !running.compareAndSet(false, true)) {
            return;
        }
        loop = Thread.ofVirtual().name("gaffer-previews-" + workerId).start(this::run);
    }

    /** Previews this runner finished (done or failed), for tests and logs. */
    long finished() {
        return done.get();
    }

    private void run() {
        while (running.get()) {
            boolean worked = false;
            try {
                Set<String> types = registry.previewTypes();
                var claimed = store.claim(workerId, types, timeout.plus(LEASE_MARGIN));
                if (claimed.isPresent()) {
                    worked = true;
                    runOne(claimed.get().lease(), claimed.get().job());
                }
            } catch (RuntimeException e) {
                log.warn("previews: {}", e.toString());
            }
            if (!worked) {
                try {
                    Thread.sleep(poll);
                } catch (InterruptedException e) {
                    return;
                }
            }
        }
    }

    private void runOne(PreviewLease lease, Job job) {
        PreviewHandler handler = registry.preview(job.type());
        if (handler == null) {
            store.fail(lease, "this worker has no preview for job type " + job.type(), true);
            return;
        }
        AtomicReference<Object> outcome = new AtomicReference<>();
        PreviewContext ctx = new PreviewContext() {
            @Override
            public Job job() {
                return job;
            }

            @Override
            public int revision() {
                return lease.revision();
            }

            @Override
            public Duration timeout() {
                return timeout;
            }

            @Override
            public String attach(String name, String contentType, Path file) throws InterruptedException {
                String full = lease.artifactPrefix() + name;
                if (artifacts.putPreview(lease, full, contentType, file).isEmpty()) {
                    throw new InterruptedException("the preview of job " + job.id() + " lost its lease");
                }
                return "/api/v3/jobs/" + job.id() + "/artifacts/" + full;
            }
        };
        Thread t = Thread.ofVirtual().name("gaffer-preview-" + job.id()).start(() -> {
            try {
                outcome.set(handler.preview(ctx));
            } catch (Throwable e) {
                outcome.set(e);
            }
        });
        try {
            if (!t.join(timeout)) {
                t.interrupt();
                t.join(Duration.ofSeconds(5));
                finish(lease, () -> store.fail(lease, "timed out after " + timeout.toMillis() + " ms", true));
                return;
            }
        } catch (InterruptedException e) {
            t.interrupt();
            Thread.currentThread().interrupt();
            return;
        }
        Object o = outcome.get();
        if (o instanceof Throwable e) {
            log.info("preview of job {} revision {} failed: {}", job.id(), lease.revision(), e.toString());
            finish(lease, () -> store.fail(lease, ErrorSummary.cap(ErrorSummary.of(e)), true));
            return;
        }
        JsonNode result = (JsonNode) o;
        if (result == null || !result.isObject()) {
            finish(lease, () -> store.fail(lease, "the preview handler returned no JSON object", false));
            return;
        }
        try {
            JsonNode checked = JsonLimits.checked("preview", result);
            finish(lease, () -> store.finish(lease, checked));
        } catch (InvalidJobException e) {
            finish(lease, () -> store.fail(lease, "the preview cannot be stored: " + e.getMessage(), false));
        }
    }

    private void finish(PreviewLease lease, java.util.function.BooleanSupplier write) {
        if (write.getAsBoolean()) {
            done.incrementAndGet();
        } else {
            log.info("preview of job {} revision {}: lease lost, outcome discarded", lease.jobId(), lease.revision());
        }
    }

    @Override
    public void close() {
        running.set(false);
        Thread t = loop;
        if (t != null) {
            t.interrupt();
            try {
                t.join(Duration.ofSeconds(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
