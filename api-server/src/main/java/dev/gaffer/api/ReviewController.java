package dev.gaffer.api;

import dev.gaffer.api.Responses.JobPage;
import dev.gaffer.api.Responses.JobResponse;
import dev.gaffer.api.Responses.ReviewPage;
import dev.gaffer.api.Responses.ReviewResponse;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.ReviewTrail;
import dev.gaffer.job.ReviewTrail.Review;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The review routes that are not about one job: the export of the audit trail (JSON pages, JSON
 * lines or CSV, in the order decisions were written, resumed with {@code since}) and the pending
 * jobs that wait for a decision.
 */
final class ReviewController {

    static final int DEFAULT_EXPORT_PAGE = ReviewTrail.MAX_PAGE;
    static final int DEFAULT_AWAITING_PAGE = 50;

    /** The CSV columns, in order: the fields of {@link ReviewResponse}, snake_case. */
    static final List<String> CSV_COLUMNS = List.of(
            "id",
            "job_id",
            "job_type",
            "gate",
            "revision",
            "decision",
            "reviewer",
            "requested_by",
            "comment",
            "decided_at");

    private final ReviewTrail trail;

    ReviewController(ReviewTrail trail) {
        this.trail = trail;
    }

    /**
     * {@code GET /api/v3/reviews?since=&job_id=&limit=&format=json|jsonl|csv}. Each page says where
     * the next starts: {@code next_since} in JSON, the {@code Gaffer-Next-Since} header (and a
     * {@code Link} with {@code rel="next"}) in every format; an empty page means the end.
     */
    void export(Context ctx) {
        long since = Params.since(ctx);
        Long jobId = Params.optionalLong(ctx, "job_id");
        int limit = Params.limit(ctx, DEFAULT_EXPORT_PAGE, ReviewTrail.MAX_PAGE);
        String format = ctx.queryParam("format");
        format = format == null || format.isEmpty() ? "json" : format;
        if (!List.of("json", "jsonl", "csv").contains(format)) {
            throw ApiException.unprocessable(
                    "format", "format must be json, jsonl or csv, got '" + Params.printable(format) + "'");
        }
        List<Review> page = trail.after(since, jobId, limit);
        long next = page.isEmpty() ? since : page.getLast().id();
        ctx.header("Gaffer-Next-Since", Long.toString(next));
        if (!page.isEmpty()) {
            ctx.header(
                    "Link",
                    "</api/v3/reviews?since=" + next + "&format=" + format + (jobId == null ? "" : "&job_id=" + jobId)
                            + "&limit=" + limit + ">; rel=\"next\"");
        }
        List<ReviewResponse> rows = page.stream().map(ReviewResponse::of).toList();
        switch (format) {
            case "jsonl" -> {
                StringBuilder out = new StringBuilder();
                for (ReviewResponse r : rows) {
                    out.append(json(r)).append('\n');
                }
                text(ctx, "application/jsonl; charset=utf-8", out.toString());
            }
            case "csv" -> {
                StringBuilder out = new StringBuilder(String.join(",", CSV_COLUMNS)).append("\r\n");
                for (ReviewResponse r : rows) {
                    out.append(csvRow(r)).append("\r\n");
                }
                text(ctx, "text/csv; charset=utf-8; header=present", out.toString());
            }
            default -> JsonSupport.write(ctx, 200, new ReviewPage(rows, next));
        }
    }

    /** {@code GET /api/v3/reviews/awaiting?cursor=&limit=}: pending jobs waiting for a decision, oldest first. */
    void awaiting(Context ctx) {
        Long cursor = Params.optionalLong(ctx, "cursor");
        int limit = Params.limit(ctx, DEFAULT_AWAITING_PAGE, JobQueries.MAX_PAGE_SIZE);
        List<Job> jobs = trail.awaiting(cursor == null ? 0 : cursor, limit + 1);
        String next = null;
        if (jobs.size() > limit) {
            jobs = jobs.subList(0, limit);
            next = Long.toString(jobs.getLast().id());
        }
        JsonSupport.write(
                ctx, 200, new JobPage(jobs.stream().map(JobResponse::of).toList(), next));
    }

    private static String json(ReviewResponse r) {
        try {
            return JsonSupport.MAPPER.writeValueAsString(r);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("a review could not be written as JSON", e);
        }
    }

    /**
     * One RFC 4180 line. Text that a spreadsheet would run as a formula (starting with = + - @,
     * a tab or a carriage return) gets a leading apostrophe, as OWASP advises for CSV exports; the
     * JSON formats carry every comment exactly as written.
     */
    static String csvRow(ReviewResponse r) {
        return String.join(
                ",",
                Long.toString(r.id()),
                Long.toString(r.jobId()),
                csv(r.jobType()),
                csv(r.gate()),
                Integer.toString(r.revision()),
                csv(r.decision()),
                csv(r.reviewer()),
                csv(r.requestedBy()),
                csv(r.comment()),
                r.decidedAt() == null ? "" : r.decidedAt().toString());
    }

    static String csv(String value) {
        if (value == null) {
            return "";
        }
        String v = value;
        if (!v.isEmpty() && "=+-@\t\r".indexOf(v.charAt(0)) >= 0) {
            v = "'" + v;
        }
        if (v.indexOf(',') >= 0
                || v.indexOf('"') >= 0
                || v.indexOf('\n') >= 0
                || v.indexOf('\r') >= 0
                || v.startsWith("'")) {
            return '"' + v.replace("\"", "\"\"") + '"';
        }
        return v;
    }

    private static void text(Context ctx, String contentType, String body) {
        ctx.status(200);
        ctx.contentType(contentType);
        ctx.result(body.getBytes(StandardCharsets.UTF_8));
    }
}
