package dev.gaffer.api;

import dev.gaffer.api.Responses.ApproveResponse;
import dev.gaffer.api.Responses.EventPage;
import dev.gaffer.api.Responses.EventResponse;
import dev.gaffer.api.Responses.JobPage;
import dev.gaffer.api.Responses.JobResponse;
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
import dev.gaffer.job.Results.Transition;
import dev.gaffer.job.Results.WrongState;
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

    JobController(
            JobRequests requests,
            JobQueries queries,
            ApiConfig config,
            ApiMetrics metrics,
            JobTypeValidators validators) {
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

    void approve(Context ctx) {
        long id = Params.jobId(ctx);
        Job job = moved(requests.approve(id, Authenticator.principal(ctx).name()));
        metrics.jobAction("approved");
        JsonSupport.write(ctx, 200, ApproveResponse.of(job));
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
            case WrongState w ->
                throw ApiException.unprocessable(
                        "status", "job " + w.id() + " is " + w.actual().dbName() + ": " + w.reason());
        };
    }

    static ApiException jobNotFound(long id) {
        return ApiException.notFound("job " + id + " does not exist");
    }

    private static String location(Job job) {
        return "/api/v3/jobs/" + job.id();
    }
}
