package dev.gaffer.api;

import com.fasterxml.jackson.annotation.JsonProperty;
import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.artifact.ArtifactStore.Artifact;
import dev.gaffer.job.JobQueries;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.List;

/** HTTP for the files jobs produce (the reference pipeline's video): list and download. */
final class ArtifactController {

    record ArtifactResponse(
            @JsonProperty("name") String name,
            @JsonProperty("revision") int revision,
            @JsonProperty("storyboard_revision") int storyboardRevision,
            @JsonProperty("content_type") String contentType,
            @JsonProperty("size_bytes") long sizeBytes,
            @JsonProperty("sha256") String sha256,
            @JsonProperty("created_at") Instant createdAt,
            @JsonProperty("download_url") String downloadUrl) {

        /** The newest revision of a name: its URL serves whichever revision is newest. */
        static ArtifactResponse of(Artifact a) {
            return of(a, "");
        }

        /** One revision among several: its URL serves that revision. */
        static ArtifactResponse revision(Artifact a) {
            return of(a, "?revision=" + a.revision());
        }

        private static ArtifactResponse of(Artifact a, String query) {
            return new ArtifactResponse(
                    a.name(),
                    a.revision(),
                    a.storyboardRevision(),
                    a.contentType(),
                    a.sizeBytes(),
                    a.sha256(),
                    a.createdAt(),
                    "/api/v3/jobs/" + a.jobId() + "/artifacts/" + a.name() + query);
        }
    }

    record ArtifactList(@JsonProperty("artifacts") List<ArtifactResponse> artifacts) {}

    record RevisionList(
            @JsonProperty("job_id") long jobId,
            @JsonProperty("name") String name,
            @JsonProperty("revisions") List<ArtifactResponse> revisions) {}

    /** One storyboard revision of a job: how it ended and the files it made. */
    record RevisionEntry(
            @JsonProperty("revision") int revision,
            @JsonProperty("current") boolean current,
            @JsonProperty("status") String status,
            @JsonProperty("replaced_by") String replacedBy,
            @JsonProperty("replaced_at") Instant replacedAt,
            @JsonProperty("storyboard_url") String storyboardUrl,
            @JsonProperty("result") com.fasterxml.jackson.databind.JsonNode result,
            @JsonProperty("artifacts") List<ArtifactResponse> artifacts) {}

    record RevisionHistory(
            @JsonProperty("job_id") long jobId,
            @JsonProperty("current_revision") int currentRevision,
            @JsonProperty("revisions") List<RevisionEntry> revisions) {}

    private final JobQueries queries;
    private final ArtifactStore artifacts;

    ArtifactController(JobQueries queries, ArtifactStore artifacts) {
        this.queries = queries;
        this.artifacts = artifacts;
    }

    void list(Context ctx) {
        long id = Params.jobId(ctx);
        requireJob(id);
        JsonSupport.write(
                ctx,
                200,
                new ArtifactList(
                        artifacts.list(id).stream().map(ArtifactResponse::of).toList()));
    }

    /**
     * {@code GET /api/v3/jobs/{id}/revisions}: the job's storyboard revisions, newest first: the
     * current one with the job's status and result, each replaced one with how it ended (or {@code
     * replaced} when it was replaced while pending) and its result, each with the file revisions
     * it made.
     */
    void history(Context ctx) {
        long id = Params.jobId(ctx);
        dev.gaffer.job.Job job =
                queries.find(id).orElseThrow(() -> ApiException.notFound("job " + id + " does not exist"));
        java.util.Map<Integer, List<ArtifactResponse>> made = new java.util.HashMap<>();
        for (Artifact a : artifacts.allRevisions(id)) {
            made.computeIfAbsent(a.storyboardRevision(), r -> new java.util.ArrayList<>())
                    .add(ArtifactResponse.revision(a));
        }
        String storyboard = "/api/v3/jobs/" + id + "/storyboard?revision=";
        List<RevisionEntry> entries = new java.util.ArrayList<>();
        entries.add(new RevisionEntry(
                job.storyboardRevision(),
                true,
                job.status().dbName(),
                null,
                null,
                storyboard + job.storyboardRevision(),
                job.result(),
                made.getOrDefault(job.storyboardRevision(), List.of())));
        for (var r : queries.replacedRevisions(id)) {
            entries.add(new RevisionEntry(
                    r.revision(),
                    false,
                    r.endedAs() == null ? "replaced" : r.endedAs(),
                    r.replacedBy(),
                    r.replacedAt(),
                    storyboard + r.revision(),
                    r.result(),
                    made.getOrDefault(r.revision(), List.of())));
        }
        JsonSupport.write(ctx, 200, new RevisionHistory(id, job.storyboardRevision(), entries));
    }

    /** Every kept revision of one file, newest first, each with its own download URL. */
    void revisions(Context ctx) {
        long id = Params.jobId(ctx);
        String name = ctx.pathParam("name");
        requireJob(id);
        List<Artifact> all = artifacts.revisions(id, name);
        if (all.isEmpty()) {
            throw ApiException.notFound("job " + id + " has no artifact named '" + Params.printable(name) + "'");
        }
        JsonSupport.write(
                ctx,
                200,
                new RevisionList(
                        id, name, all.stream().map(ArtifactResponse::revision).toList()));
    }

    /** The newest revision of the file, or with {@code ?revision=N} that one (404 naming those kept). */
    void download(Context ctx) {
        long id = Params.jobId(ctx);
        String name = ctx.pathParam("name");
        Long asked = Params.optionalLong(ctx, "revision");
        if (asked != null && (asked < 1 || asked > Integer.MAX_VALUE)) {
            throw ApiException.unprocessable("revision", "an artifact revision is 1 or more, got " + asked);
        }
        Integer revision = asked == null ? null : asked.intValue();
        requireJob(id);
        Artifact a = artifacts.find(id, name, revision).orElseThrow(() -> missing(id, name, revision));
        ctx.status(200);
        // Binary: no charset (Jetty would otherwise append the default one).
        ctx.res().setCharacterEncoding(null);
        ctx.res().setContentType(a.contentType());
        ctx.header("Content-Length", String.valueOf(a.sizeBytes()));
        // Served on the dashboard's origin, so a file must never be taken for a page or a script:
        // the type is what was stored (no sniffing), the file runs nothing even when opened as a
        // page, and only media a browser plays by itself is shown inline.
        ctx.header("X-Content-Type-Options", "nosniff");
        ctx.header("Content-Security-Policy", ARTIFACT_POLICY);
        ctx.header(
                "Content-Disposition",
                (isInlineMedia(a.contentType()) ? "inline" : "attachment") + "; filename=\"" + a.name() + "\"");
        ctx.header("ETag", "\"" + a.sha256() + "\"");
        ctx.header("Cache-Control", "private, max-age=3600");
        try {
            if (!artifacts.copyTo(id, name, a.revision(), ctx.res().getOutputStream())) {
                throw missing(id, name, revision);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** No scripts, no plugins, no frames, no forms; a sandboxed origin of its own even for HTML. */
    static final String ARTIFACT_POLICY =
            "default-src 'none'; img-src 'self'; media-src 'self'; style-src 'unsafe-inline'; sandbox";

    /** Video, audio and raster images play or show inline; everything else (HTML and SVG included) downloads. */
    static boolean isInlineMedia(String contentType) {
        String media = contentType.split(";", 2)[0].strip().toLowerCase(java.util.Locale.ROOT);
        return media.startsWith("video/")
                || media.startsWith("audio/")
                || media.equals("image/png")
                || media.equals("image/jpeg")
                || media.equals("image/gif")
                || media.equals("image/webp");
    }

    private ApiException missing(long id, String name, Integer revision) {
        if (revision == null) {
            return ApiException.notFound("job " + id + " has no artifact named '" + Params.printable(name) + "'");
        }
        List<Integer> kept =
                artifacts.revisions(id, name).stream().map(Artifact::revision).toList();
        return ApiException.notFound("job " + id + " has no revision " + revision + " of '" + Params.printable(name)
                + "'" + (kept.isEmpty() ? "" : "; revisions kept: " + kept));
    }

    private void requireJob(long id) {
        if (queries.find(id).isEmpty()) {
            throw ApiException.notFound("job " + id + " does not exist");
        }
    }
}
