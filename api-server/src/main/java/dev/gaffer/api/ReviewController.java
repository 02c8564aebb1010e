package dev.gaffer.api;

import com.fasterxml.jackson.databind.JsonNode;
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
    private final ApiConfig config;
    private final dev.gaffer.job.JobTypeValidators validators;

    ReviewController(ReviewTrail trail, ApiConfig config, dev.gaffer.job.JobTypeValidators validators) {
        this.trail = trail;
        this.config = config;
        this.validators = validators;
    }

    /**
     * The {@code {gate}} of a policy route: {@code plan} without one; otherwise a gate that the
     * job type declares (its validator's {@code gates}), 422 naming the declared ones if not.
     */
    private String gate(Context ctx, String type) {
        if (!ctx.pathParamMap().containsKey("gate")) {
            return dev.gaffer.job.JobRequests.PLAN;
        }
        String gate = Params.name(ctx, "gate");
        java.util.Set<String> declared = validators.gates(type);
        if (!gate.equals(dev.gaffer.job.JobRequests.PLAN) && !declared.contains(gate)) {
            throw ApiException.unprocessable(
                    "gate",
                    "job type " + type + " declares no gate '" + gate + "'; its gates: plan"
                            + (declared.isEmpty() ? "" : ", " + String.join(", ", new java.util.TreeSet<>(declared))));
        }
        return gate;
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

    /**
     * {@code GET /api/v3/reviews/awaiting?cursor=&limit=}: pending jobs waiting for a decision, at
     * their plan or a later gate, that the caller's role may decide under their policies; oldest first.
     */
    void awaiting(Context ctx) {
        Long cursor = Params.optionalLong(ctx, "cursor");
        int limit = Params.limit(ctx, DEFAULT_AWAITING_PAGE, JobQueries.MAX_PAGE_SIZE);
        String role = Authenticator.principal(ctx).role().dbName();
        List<Job> jobs = trail.awaiting(cursor == null ? 0 : cursor, limit + 1, role);
        String next = null;
        if (jobs.size() > limit) {
            jobs = jobs.subList(0, limit);
            next = Long.toString(jobs.getLast().id());
        }
        JsonSupport.write(
                ctx, 200, new JobPage(jobs.stream().map(JobResponse::of).toList(), next));
    }

    /** {@code GET /api/v3/review-policies}: every job type's policy (a type without one has the defaults). */
    void policies(Context ctx) {
        JsonSupport.write(
                ctx,
                200,
                new PolicyList(trail.policies().stream().map(PolicyResponse::of).toList()));
    }

    /**
     * {@code PUT /api/v3/review-policies/{type}[/{gate}]} (without a gate: the plan) with {@code {"required_role": "approve"|"admin",
     * "four_eyes": bool, "expires_after": "30m"|"12h"|"7d"|null}} (every field optional: its
     * default): the whole policy, replaced. Admin keys only.
     */
    void setPolicy(Context ctx) {
        String type = Params.name(ctx, "type");
        String gate = gate(ctx, type);
        JsonNode body = JsonSupport.readObject(ctx, config.maxBodyBytes());
        for (var names = body.fieldNames(); names.hasNext(); ) {
            String name = names.next();
            if (!POLICY_FIELDS.contains(name)) {
                throw ApiException.unprocessable(
                        Params.printable(name),
                        "unknown field '" + Params.printable(name) + "'; expected some of " + POLICY_FIELDS);
            }
        }
        String role = "approve";
        JsonNode r = body.get("required_role");
        if (r != null && !r.isNull()) {
            if (!r.isTextual() || !(r.asText().equals("approve") || r.asText().equals("admin"))) {
                throw ApiException.unprocessable("required_role", "required_role must be approve or admin");
            }
            role = r.asText();
        }
        boolean fourEyes = false;
        JsonNode f = body.get("four_eyes");
        if (f != null && !f.isNull()) {
            if (!f.isBoolean()) {
                throw ApiException.unprocessable("four_eyes", "four_eyes must be true or false");
            }
            fourEyes = f.asBoolean();
        }
        java.time.Duration expires = null;
        JsonNode e = body.get("expires_after");
        if (e != null && !e.isNull()) {
            expires = expiry(e);
        }
        int quorum = 1;
        JsonNode q = body.get("quorum");
        if (q != null && !q.isNull()) {
            if (!q.isIntegralNumber() || q.asLong() < 1 || q.asLong() > 10) {
                throw ApiException.unprocessable("quorum", "quorum must be a whole number from 1 to 10");
            }
            quorum = q.intValue();
        }
        String onExpiry = ReviewTrail.CANCEL;
        JsonNode o = body.get("on_expiry");
        if (o != null && !o.isNull()) {
            if (!o.isTextual()
                    || !List.of(ReviewTrail.CANCEL, ReviewTrail.ESCALATE).contains(o.asText())) {
                throw ApiException.unprocessable(
                        "on_expiry", "on_expiry must be cancel or escalate, got " + Params.printable(o.toString()));
            }
            onExpiry = o.asText();
        }
        if (onExpiry.equals(ReviewTrail.ESCALATE) && expires == null) {
            throw ApiException.unprocessable(
                    "on_expiry", "on_expiry escalate needs expires_after: how long a review waits before it escalates");
        }
        var policy = trail.setPolicy(
                type,
                gate,
                role,
                fourEyes,
                expires,
                quorum,
                onExpiry,
                Authenticator.principal(ctx).name());
        JsonSupport.write(ctx, 200, PolicyResponse.of(policy));
    }

    /**
     * {@code DELETE /api/v3/review-policies/{type}[/{gate}]}: back to the defaults; 404 when it had
     * none.
     */
    void deletePolicy(Context ctx) {
        String type = Params.name(ctx, "type");
        String gate = gate(ctx, type);
        if (!trail.deletePolicy(type, gate)) {
            throw ApiException.notFound("job type " + type + " has no review policy for gate " + gate);
        }
        ctx.status(204);
    }

    static final java.util.Set<String> POLICY_FIELDS =
            new java.util.TreeSet<>(List.of("required_role", "four_eyes", "expires_after", "quorum", "on_expiry"));

    private static final java.util.regex.Pattern EXPIRY = java.util.regex.Pattern.compile("^(\\d{1,7})(m|h|d)$");

    /** {@code 30m}, {@code 12h} or {@code 7d}, from 1 minute to 3 650 days. */
    static java.time.Duration expiry(JsonNode n) {
        var m = n.isTextual() ? EXPIRY.matcher(n.asText()) : null;
        if (m != null && m.matches()) {
            long v = Long.parseLong(m.group(1));
            java.time.Duration d = switch (m.group(2)) {
                case "m" -> java.time.Duration.ofMinutes(v);
                case "h" -> java.time.Duration.ofHours(v);
                default -> java.time.Duration.ofDays(v);
            };
            if (d.compareTo(java.time.Duration.ofMinutes(1)) >= 0
                    && d.compareTo(java.time.Duration.ofDays(3650)) <= 0) {
                return d;
            }
        }
        throw ApiException.unprocessable(
                "expires_after",
                "expires_after must be a duration such as 30m, 12h or 7d, from 1 minute to 3650 days, or null; got "
                        + Params.printable(n.toString()));
    }

    /** A policy as clients see it: {@code expires_after} in the same form it is set ({@code 7d}), or null. */
    record PolicyResponse(
            String jobType,
            String gate,
            String requiredRole,
            boolean fourEyes,
            String expiresAfter,
            int quorum,
            String updatedBy,
            java.time.Instant updatedAt,
            String onExpiry) {
        static PolicyResponse of(ReviewTrail.Policy p) {
            return new PolicyResponse(
                    p.jobType(),
                    p.gate(),
                    p.requiredRole(),
                    p.fourEyes(),
                    p.expiresAfter() == null ? null : text(p.expiresAfter()),
                    p.quorum(),
                    p.updatedBy(),
                    p.updatedAt(),
                    p.onExpiry());
        }

        private static String text(java.time.Duration d) {
            if (d.toDays() > 0 && d.equals(java.time.Duration.ofDays(d.toDays()))) {
                return d.toDays() + "d";
            }
            if (d.toHours() > 0 && d.equals(java.time.Duration.ofHours(d.toHours()))) {
                return d.toHours() + "h";
            }
            return d.toMinutes() + "m";
        }
    }

    record PolicyList(List<PolicyResponse> policies) {}

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
