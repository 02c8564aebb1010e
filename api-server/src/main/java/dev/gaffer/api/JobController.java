package dev.gaffer.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.gaffer.api.Responses.ApproveResponse;
import dev.gaffer.api.Responses.EventPage;
import dev.gaffer.api.Responses.EventResponse;
import dev.gaffer.api.Responses.JobPage;
import dev.gaffer.api.Responses.JobResponse;
import dev.gaffer.api.Responses.ReviewList;
import dev.gaffer.api.Responses.ReviewResponse;
import dev.gaffer.api.Responses.SubJobList;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobEvent;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobQueries.JobFilter;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.JobTypeValidators;
import dev.gaffer.job.NewJob;
import dev.gaffer.job.Results.AlreadyExists;
import dev.gaffer.job.Results.Created;
import dev.gaffer.job.Results.IdempotencyConflict;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.NotFound;
import dev.gaffer.job.Results.Refused;
import dev.gaffer.job.Results.StaleRevision;
import dev.gaffer.job.Results.Transition;
import dev.gaffer.job.Results.WrongState;
import dev.gaffer.job.ReviewTrail;
import io.javalin.http.Context;
import java.util.List;

/** The job routes: HTTP in, a JobRequests or JobQueries call, HTTP out. */
final class JobController {

    static final int DEFAULT_PAGE_SIZE = 50;
    static final int MAX_EVENTS_PAGE = 1000;

    private final JobRequests requests;
    private final JobQueries queries;
    private final ApiConfig config;
    private final ApiMetrics metrics;
    private final JobTypeValidators validators;
    private final ReviewTrail trail;
    private final dev.gaffer.job.PreviewStore previews;

    JobController(
            JobRequests requests,
            JobQueries queries,
            ReviewTrail trail,
            dev.gaffer.job.PreviewStore previews,
            ApiConfig config,
            ApiMetrics metrics,
            JobTypeValidators validators) {
        this.trail = trail;
        this.previews = previews;
        this.requests = requests;
        this.queries = queries;
        this.config = config;
        this.metrics = metrics;
        this.validators = validators;
    }

    void create(Context ctx) {
        var principal = Authenticator.principal(ctx);
        NewJob job = CreateJobRequest.parse(
                JsonSupport.readObject(ctx, config.maxBodyBytes()),
                config,
                validators,
                ctx.header("Idempotency-Key"),
                principal.name());
        switch (requests.create(job)) {
            case Created c -> {
                metrics.jobAction("created");
                askForPreview(c.job());
                ctx.header("Location", location(c.job()));
                JsonSupport.write(ctx, 201, JobResponse.of(c.job()));
            }
            case AlreadyExists a -> {
                ctx.header("Location", location(a.job()));
                JsonSupport.write(ctx, 200, JobResponse.of(a.job()));
            }
            case IdempotencyConflict c ->
                throw ApiException.unprocessable(
                        "Idempotency-Key",
                        "the Idempotency-Key was already used for job "
                                + c.job().id() + " with another type or other parameters");
        }
    }

    void get(Context ctx) {
        long id = Params.jobId(ctx);
        Job job = queries.find(id).orElseThrow(() -> jobNotFound(id));
        JsonSupport.write(ctx, 200, JobResponse.of(job));
    }

    void list(Context ctx) {
        String statusText = ctx.queryParam("status");
        JobStatus status = null;
        if (statusText != null) {
            try {
                status = JobStatus.fromDb(statusText);
            } catch (IllegalArgumentException e) {
                throw ApiException.unprocessable("status", Params.printable(e.getMessage()));
            }
        }
        var filter = new JobFilter(
                status,
                Params.optionalName(ctx, "type"),
                Params.optionalName(ctx, "queue"),
                Params.optionalLong(ctx, "parent_id"));
        Long cursor = Params.optionalLong(ctx, "cursor");
        int limit = Params.limit(ctx, DEFAULT_PAGE_SIZE, JobQueries.MAX_PAGE_SIZE);
        var page = queries.list(filter, cursor, limit);
        JsonSupport.write(
                ctx,
                200,
                new JobPage(
                        page.jobs().stream().map(JobResponse::of).toList(),
                        page.nextCursor() == null ? null : page.nextCursor().toString()));
    }

    /**
     * The seed's approve: the same 200 body, 404 and 422 as ever. New and optional: a body {@code
     * {"comment": "…"}} kept with the decision, and {@code If-Match} with the storyboard revision
     * the reviewer looked at (412 when it is no longer the current one).
     */
    void approve(Context ctx) {
        long id = Params.jobId(ctx);
        JsonNode body = JsonSupport.readOptionalObject(ctx, config.maxBodyBytes());
        String comment = body == null ? null : DecisionBody.text(body, "comment", false);
        Job job = moved(requests.approve(
                id, Authenticator.principal(ctx).name(), comment, ifMatch(ctx, false), DecisionBody.gate(body)));
        metrics.jobAction("approved");
        JsonSupport.write(ctx, 200, ApproveResponse.of(job));
    }

    /**
     * At the plan pending → rejected, terminal; at a later gate pending → failed. Body {@code
     * {"reason": "…"}} (required), optionally {@code "gate"}; optional If-Match.
     */
    void reject(Context ctx) {
        long id = Params.jobId(ctx);
        JsonNode body = JsonSupport.readObject(ctx, config.maxBodyBytes());
        String reason = DecisionBody.text(body, "reason", true);
        Job job = moved(requests.reject(
                id, Authenticator.principal(ctx).name(), reason, ifMatch(ctx, false), DecisionBody.gate(body)));
        metrics.jobAction("rejected");
        JsonSupport.write(ctx, 200, JobResponse.of(job));
    }

    /**
     * At the plan a pending job stays pending with the reviewer's {@code {"comment": "…"}}
     * (required); at a later gate it goes back to its redo stage. Optionally {@code "gate"}; optional If-Match.
     */
    void requestChanges(Context ctx) {
        long id = Params.jobId(ctx);
        JsonNode body = JsonSupport.readObject(ctx, config.maxBodyBytes());
        String comment = DecisionBody.text(body, "comment", true);
        Job job = moved(requests.requestChanges(
                id, Authenticator.principal(ctx).name(), comment, ifMatch(ctx, false), DecisionBody.gate(body)));
        metrics.jobAction("changes_requested");
        JsonSupport.write(ctx, 200, JobResponse.of(job));
    }

    /**
     * The storyboard document itself, with its revision as the ETag; with {@code ?revision=N} an
     * earlier revision that a later one replaced (404 naming the current revision when there is
     * no such one), so that a reviewer can see what a revision changed.
     */
    void storyboard(Context ctx) {
        long id = Params.jobId(ctx);
        Job job = queries.find(id).orElseThrow(() -> jobNotFound(id));
        Long asked = Params.optionalLong(ctx, "revision");
        if (asked != null && asked != job.storyboardRevision()) {
            var old = asked < 1 || asked > Integer.MAX_VALUE
                    ? java.util.Optional.<JobQueries.ReplacedStoryboard>empty()
                    : queries.replacedStoryboard(id, asked.intValue());
            if (old.isEmpty()) {
                throw ApiException.notFound("job " + id + " has no storyboard revision " + asked
                        + "; its current one is " + job.storyboardRevision());
            }
            ctx.header("ETag", etag(asked.intValue()));
            JsonSupport.write(
                    ctx,
                    200,
                    old.get().storyboard() == null
                            ? NullNode.getInstance()
                            : old.get().storyboard());
            return;
        }
        ctx.header("ETag", etag(job.storyboardRevision()));
        JsonSupport.write(ctx, 200, job.storyboard() == null ? NullNode.getInstance() : job.storyboard());
    }

    /**
     * Replaces a pending job's storyboard with the body (any JSON but null), from the revision in
     * {@code If-Match} (required: 428 without, 412 when stale) to the next one, which asks for
     * review again. A completed, failed or cancelled job is reopened with it at its plan. Only the job's submitter may revise it, or an admin key; the new storyboard
     * is checked as at create (size limits, the job type's validator).
     */
    void reviseStoryboard(Context ctx) {
        long id = Params.jobId(ctx);
        int revision = ifMatch(ctx, true);
        var principal = Authenticator.principal(ctx);
        JsonNode storyboard = JsonSupport.readValue(ctx, config.maxBodyBytes());
        Job job = queries.find(id).orElseThrow(() -> jobNotFound(id));
        if (!principal.role().includes(dev.gaffer.auth.ApiKeyRole.ADMIN)
                && !principal.name().equals(job.createdBy())) {
            throw ApiException.forbidden("only the job's submitter (" + job.createdBy()
                    + ") or an admin key may revise its storyboard; this key is " + principal.name());
        }
        try {
            storyboard = dev.gaffer.job.JsonLimits.checked("storyboard", storyboard);
            validators.validate(job.type(), job.parameters(), storyboard);
        } catch (dev.gaffer.job.InvalidJobException e) {
            throw ApiException.unprocessable(e.field(), e.getMessage());
        }
        Job revised = moved(nextRevision(requests, job, principal.name(), storyboard, revision));
        askForPreview(revised);
        metrics.jobAction("revised");
        ctx.header("ETag", etag(revised.storyboardRevision()));
        JsonSupport.write(ctx, 200, JobResponse.of(revised));
    }

    /**
     * A job's next storyboard revision, from {@code revision}: a finished job (completed, failed,
     * cancelled) is reopened at its plan (V024), any other is revised (pending at its plan; the
     * statement refuses the rest).
     */
    static Transition nextRevision(JobRequests requests, Job job, String actor, JsonNode storyboard, int revision) {
        return job.status().isTerminal() && job.status() != JobStatus.REJECTED
                ? requests.reopen(job.id(), actor, storyboard, revision)
                : requests.revise(job.id(), actor, storyboard, revision);
    }

    /**
     * Asks the workers for a preview of a pending job's current revision when its type declares
     * one. After the job's own statement: a preview is derived from the job and may be asked for
     * again; a failure here is logged and does not undo the job.
     */
    void askForPreview(Job job) {
        if (job.status() != dev.gaffer.job.JobStatus.PENDING || !validators.hasPreview(job.type())) {
            return;
        }
        try {
            previews.request(job.id());
        } catch (RuntimeException e) {
            org.slf4j.LoggerFactory.getLogger(JobController.class)
                    .warn("job {}: could not ask for its preview: {}", job.id(), e.toString());
        }
    }

    /**
     * {@code GET /api/v3/jobs/{id}/preview}: the preview of the job's newest previewed revision
     * (queued, running, done with its result, or failed with why); 404 when it has none.
     */
    void preview(Context ctx) {
        long id = Params.jobId(ctx);
        var p = previews.latest(id)
                .orElseThrow(() -> queries.find(id).isEmpty()
                        ? jobNotFound(id)
                        : ApiException.notFound(
                                "job " + id + " has no preview (its type declares none, or it was not pending)"));
        JsonSupport.write(ctx, 200, Responses.PreviewResponse.of(p));
    }

    /** The job's decisions in order; also after the job itself was pruned (404 only when there are neither). */
    void reviews(Context ctx) {
        long id = Params.jobId(ctx);
        var reviews = trail.ofJob(id);
        if (reviews.isEmpty() && queries.find(id).isEmpty()) {
            throw jobNotFound(id);
        }
        JsonSupport.write(
                ctx,
                200,
                new ReviewList(id, reviews.stream().map(ReviewResponse::of).toList()));
    }

    void cancel(Context ctx) {
        long id = Params.jobId(ctx);
        Job job = moved(requests.cancel(id, Authenticator.principal(ctx).name()));
        metrics.jobAction("cancelled");
        JsonSupport.write(ctx, 200, JobResponse.of(job));
    }

    void retry(Context ctx) {
        long id = Params.jobId(ctx);
        Job job = moved(requests.retry(id, Authenticator.principal(ctx).name()));
        metrics.jobAction("retried");
        JsonSupport.write(ctx, 200, JobResponse.of(job));
    }

    void subJobs(Context ctx) {
        long id = Params.jobId(ctx);
        queries.find(id).orElseThrow(() -> jobNotFound(id));
        List<JobResponse> subjobs =
                queries.subJobs(id).stream().map(JobResponse::of).toList();
        JsonSupport.write(ctx, 200, new SubJobList(id, subjobs));
    }

    void events(Context ctx) {
        long id = Params.jobId(ctx);
        long since = Params.since(ctx);
        int limit = Params.limit(ctx, MAX_EVENTS_PAGE, MAX_EVENTS_PAGE);
        List<JobEvent> events = queries.events(id, since, limit);
        if (events.isEmpty() && queries.find(id).isEmpty()) {
            throw jobNotFound(id);
        }
        long next = events.isEmpty() ? since : events.getLast().id();
        JsonSupport.write(
                ctx,
                200,
                new EventPage(id, events.stream().map(EventResponse::of).toList(), next));
    }

    private static Job moved(Transition t) {
        return switch (t) {
            case Moved m -> m.job();
            case NotFound n -> throw jobNotFound(n.id());
            case Refused r -> throw ApiException.forbidden("job " + r.id() + ": " + r.reason());
            case StaleRevision s ->
                throw ApiException.preconditionFailed(
                        "If-Match",
                        "job " + s.id() + "'s storyboard is at revision " + s.current()
                                + " now, not the one named in If-Match; read it again (GET …/storyboard)");
            case WrongState w ->
                throw ApiException.unprocessable(
                        "status", "job " + w.id() + " is " + w.actual().dbName() + ": " + w.reason());
        };
    }

    /**
     * The storyboard revision in {@code If-Match} ({@code "3"}, {@code 3} or {@code W/"3"}); null
     * when absent and not {@code required} (428 when required).
     */
    static Integer ifMatch(Context ctx, boolean required) {
        String header = ctx.header("If-Match");
        if (header == null || header.isBlank()) {
            if (required) {
                throw ApiException.preconditionRequired(
                        "If-Match",
                        "send If-Match with the storyboard revision you revised (the ETag of GET …/storyboard)");
            }
            return null;
        }
        String v = header.strip();
        if (v.startsWith("W/")) {
            v = v.substring(2);
        }
        if (v.length() >= 2 && v.startsWith("\"") && v.endsWith("\"")) {
            v = v.substring(1, v.length() - 1);
        }
        try {
            int revision = Integer.parseInt(v);
            if (revision >= 1) {
                return revision;
            }
        } catch (NumberFormatException e) {
            // below
        }
        throw ApiException.badRequest(
                "If-Match",
                "If-Match must be a storyboard revision such as \"2\" (the ETag of GET …/storyboard), got '"
                        + Params.printable(header) + "'");
    }

    static String etag(int revision) {
        return "\"" + revision + "\"";
    }

    static ApiException jobNotFound(long id) {
        return ApiException.notFound("job " + id + " does not exist");
    }

    private static String location(Job job) {
        return "/api/v3/jobs/" + job.id();
    }
}
