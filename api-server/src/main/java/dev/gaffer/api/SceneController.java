package dev.gaffer.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gaffer.api.Responses.JobResponse;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.JobTypeValidators;
import dev.gaffer.job.JsonLimits;
import dev.gaffer.job.Results.Moved;
import dev.gaffer.job.Results.NotFound;
import dev.gaffer.job.Results.Refused;
import dev.gaffer.job.Results.StaleRevision;
import dev.gaffer.job.Results.WrongState;
import io.javalin.http.Context;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * The scenes of a job whose type keeps its storyboard as a list of scenes ({@link
 * dev.gaffer.job.JobTypeValidator#hasScenes}, the video pipeline's): read them, and edit one at a
 * time. Every edit is the job's next storyboard revision, made from the revision in {@code
 * If-Match} and checked like a whole storyboard. On a pending job it changes the plan under
 * review ({@link JobRequests#revise}); on a finished job it reopens the job at its plan ({@link
 * JobRequests#reopen}), so that the change is reviewed and then run, and the job's handler makes
 * again only what changed. A job that runs or waits at a later gate is not edited (409).
 */
final class SceneController {

    /** One scene: where it is, the job's revision and status, and the scene as stored. */
    record SceneResponse(long jobId, int index, int revision, String status, JsonNode scene, JsonNode output) {}

    record SceneList(long jobId, int revision, String status, List<SceneResponse> scenes) {}

    /** What an edit returns: the scene it made or changed (none for a deletion) and the job after it. */
    record EditResponse(String message, SceneResponse scene, JobResponse job) {}

    private static final SecureRandom SEEDS = new SecureRandom();

    private final JobRequests requests;
    private final JobQueries queries;
    private final JobTypeValidators validators;
    private final JobController jobs;
    private final ApiConfig config;
    private final ApiMetrics metrics;

    SceneController(
            JobRequests requests,
            JobQueries queries,
            JobTypeValidators validators,
            JobController jobs,
            ApiConfig config,
            ApiMetrics metrics) {
        this.requests = requests;
        this.queries = queries;
        this.validators = validators;
        this.jobs = jobs;
        this.config = config;
        this.metrics = metrics;
    }

    void list(Context ctx) {
        Job job = sceneJob(ctx);
        ArrayNode scenes = scenes(job);
        List<SceneResponse> out = new ArrayList<>();
        for (int i = 0; i < scenes.size(); i++) {
            out.add(scene(job, scenes, i));
        }
        ctx.header("ETag", JobController.etag(job.storyboardRevision()));
        JsonSupport.write(
                ctx,
                200,
                new SceneList(job.id(), job.storyboardRevision(), job.status().dbName(), out));
    }

    void get(Context ctx) {
        Job job = sceneJob(ctx);
        ArrayNode scenes = scenes(job);
        int index = index(ctx, job, scenes.size());
        ctx.header("ETag", JobController.etag(job.storyboardRevision()));
        JsonSupport.write(ctx, 200, scene(job, scenes, index));
    }

    /**
     * {@code PATCH …/scenes/{n}}: the body's fields replace the scene's (a field set to null is
     * removed); the rest of the scene stays.
     */
    void patch(Context ctx) {
        int revision = JobController.ifMatch(ctx, true);
        JsonNode body = JsonSupport.readObject(ctx, config.maxBodyBytes());
        Job job = sceneJob(ctx);
        ArrayNode scenes = scenes(job);
        int index = index(ctx, job, scenes.size());
        if (body.isEmpty()) {
            throw ApiException.unprocessable("body", "name at least one field of the scene to change");
        }
        ObjectNode scene = asObject(scenes.get(index)).deepCopy();
        for (Map.Entry<String, JsonNode> f : body.properties()) {
            if (f.getValue().isNull()) {
                scene.remove(f.getKey());
            } else {
                scene.set(f.getKey(), f.getValue());
            }
        }
        scenes.set(index, scene);
        commit(ctx, job, scenes, revision, index, "scene " + index + " changed");
    }

    /** {@code POST …/scenes[?index=k]}: the body is a new scene, inserted at k (default: at the end). */
    void add(Context ctx) {
        int revision = JobController.ifMatch(ctx, true);
        JsonNode body = JsonSupport.readObject(ctx, config.maxBodyBytes());
        Job job = sceneJob(ctx);
        ArrayNode scenes = scenes(job);
        Long at = Params.optionalLong(ctx, "index");
        if (at != null && (at < 0 || at > scenes.size())) {
            throw ApiException.unprocessable(
                    "index", "a new scene goes at an index from 0 to " + scenes.size() + ", got " + at);
        }
        int index = at == null ? scenes.size() : at.intValue();
        scenes.insert(index, body);
        commit(ctx, job, scenes, revision, index, "scene " + index + " added");
    }

    void delete(Context ctx) {
        int revision = JobController.ifMatch(ctx, true);
        Job job = sceneJob(ctx);
        ArrayNode scenes = scenes(job);
        int index = index(ctx, job, scenes.size());
        scenes.remove(index);
        commit(ctx, job, scenes, revision, -1, "scene " + index + " deleted");
    }

    /**
     * {@code POST …/scenes/{n}/regenerate}: the scene unchanged but for a new {@code seed}, so
     * that it is made again (a generative renderer draws anew) and nothing else is.
     */
    void regenerate(Context ctx) {
        int revision = JobController.ifMatch(ctx, true);
        Job job = sceneJob(ctx);
        ArrayNode scenes = scenes(job);
        int index = index(ctx, job, scenes.size());
        ObjectNode scene = asObject(scenes.get(index)).deepCopy();
        long old = scene.path("seed").asLong(-1);
        long seed;
        do {
            seed = SEEDS.nextLong(1L << 31);
        } while (seed == old);
        scene.put("seed", seed);
        scenes.set(index, scene);
        commit(ctx, job, scenes, revision, index, "scene " + index + " to be made again with seed " + seed);
    }

    private void commit(Context ctx, Job job, ArrayNode scenes, int revision, int index, String what) {
        var principal = Authenticator.principal(ctx);
        if (!principal.role().includes(ApiKeyRole.ADMIN) && !principal.name().equals(job.createdBy())) {
            throw ApiException.forbidden("only the job's submitter (" + job.createdBy()
                    + ") or an admin key may edit its scenes; this key is " + principal.name());
        }
        if (revision != job.storyboardRevision()) {
            throw stale(job.id(), job.storyboardRevision());
        }
        requireEditable(job);
        ObjectNode storyboard = job.storyboard() != null && job.storyboard().isObject()
                ? ((ObjectNode) job.storyboard()).deepCopy()
                : JsonSupport.MAPPER.createObjectNode();
        storyboard.set("scenes", scenes);
        JsonNode checked;
        try {
            checked = JsonLimits.checked("storyboard", storyboard);
            validators.validate(job.type(), job.parameters(), checked);
        } catch (InvalidJobException e) {
            throw ApiException.unprocessable(e.field(), e.getMessage());
        }
        Job revised = switch (JobController.nextRevision(requests, job, principal.name(), checked, revision)) {
            case Moved m -> m.job();
            case NotFound n -> throw JobController.jobNotFound(n.id());
            case Refused r -> throw ApiException.forbidden("job " + r.id() + ": " + r.reason());
            case StaleRevision s -> throw stale(s.id(), s.current());
            case WrongState w -> {
                // Moved on between our read and the statement: say what it is doing now.
                requireEditable(queries.find(job.id()).orElseThrow(() -> JobController.jobNotFound(job.id())));
                throw ApiException.conflict(
                        "status", "job " + w.id() + " is " + w.actual().dbName() + ": " + w.reason());
            }
        };
        jobs.askForPreview(revised);
        metrics.jobAction("revised");
        ctx.header("ETag", JobController.etag(revised.storyboardRevision()));
        SceneResponse scene = index < 0 ? null : scene(revised, scenes(revised), index);
        String message = what + "; storyboard revision " + revised.storyboardRevision()
                + (job.status() == JobStatus.PENDING
                        ? " awaits review"
                        : " awaits review, then only what changed is made again");
        JsonSupport.write(ctx, 200, new EditResponse(message, scene, JobResponse.of(revised)));
    }

    /** 409 with what the job is doing when it is not pending at its plan nor finished. */
    private static void requireEditable(Job job) {
        String running = switch (job.status()) {
            case PENDING ->
                dev.gaffer.job.JobRequests.PLAN.equals(job.reviewGate())
                        ? null
                        : "revision " + job.storyboardRevision() + " has run and waits at gate '" + job.reviewGate()
                                + "'; decide that review first";
            case APPROVED -> "revision " + job.storyboardRevision() + " is approved and about to run";
            case PROCESSING, WAITING ->
                "revision " + job.storyboardRevision() + " is running"
                        + (job.currentStage() == null ? "" : " (stage: " + job.currentStage() + ")")
                        + (job.lockedBy() == null ? "" : " on " + job.lockedBy());
            case REJECTED -> "it was rejected and never runs; create a new job";
            case COMPLETED, FAILED, CANCELLED -> job.parentId() == null ? null : "it is a sub-job; edit its parent";
        };
        if (running != null) {
            throw ApiException.conflict(
                    "status",
                    "job " + job.id() + " is " + job.status().dbName() + ": " + running
                            + (job.status().isTerminal() ? "" : "; edit it once it has finished, or cancel it"));
        }
    }

    private static ApiException stale(long id, int current) {
        return ApiException.preconditionFailed(
                "If-Match",
                "job " + id + "'s storyboard is at revision " + current
                        + " now, not the one named in If-Match; read the scenes again (GET …/scenes)");
    }

    /** The job of the path, when its type keeps scenes (422 naming the type otherwise). */
    private Job sceneJob(Context ctx) {
        long id = Params.jobId(ctx);
        Job job = queries.find(id).orElseThrow(() -> JobController.jobNotFound(id));
        if (!validators.hasScenes(job.type())) {
            TreeSet<String> with = new TreeSet<>();
            validators.types().stream().filter(validators::hasScenes).forEach(with::add);
            throw ApiException.unprocessable(
                    "type",
                    "job " + id + " is of type '" + job.type() + "', which has no scenes"
                            + (with.isEmpty() ? "" : " (jobs of " + String.join(", ", with) + " have)"));
        }
        return job;
    }

    /** A copy of the job's scenes: its storyboard's, or its parameters' when it has no storyboard. */
    private static ArrayNode scenes(Job job) {
        JsonNode scenes = job.storyboard() == null ? null : job.storyboard().get("scenes");
        if (scenes == null && job.parameters() != null) {
            scenes = job.parameters().get("scenes");
        }
        if (scenes == null || !scenes.isArray()) {
            return JsonSupport.MAPPER.createArrayNode();
        }
        return ((ArrayNode) scenes).deepCopy();
    }

    private static int index(Context ctx, Job job, int count) {
        String text = ctx.pathParam("index");
        long index;
        try {
            index = Long.parseLong(text);
        } catch (NumberFormatException e) {
            throw ApiException.badRequest(
                    "index", "a scene index is a whole number, got '" + Params.printable(text) + "'");
        }
        if (index < 0 || index >= count) {
            throw ApiException.notFound("job " + job.id() + " has no scene " + index + " (it has " + count
                    + (count == 1 ? " scene, index 0)" : " scenes, 0 to " + (count - 1) + ")"));
        }
        return (int) index;
    }

    private static ObjectNode asObject(JsonNode scene) {
        return scene != null && scene.isObject() ? (ObjectNode) scene : JsonSupport.MAPPER.createObjectNode();
    }

    /**
     * A scene with what the job's current revision made of it, when the job completed and its
     * result lists what it made of each scene by index ({@code result.scene_outputs[n]}, as the
     * video pipeline's does: the clip, its input hash, and whether it was reused).
     */
    private static SceneResponse scene(Job job, ArrayNode scenes, int index) {
        JsonNode output = null;
        if (job.status() == JobStatus.COMPLETED && job.result() != null) {
            JsonNode made = job.result().path("scene_outputs");
            if (made.isArray() && index < made.size()) {
                output = made.get(index);
            }
        }
        return new SceneResponse(
                job.id(), index, job.storyboardRevision(), job.status().dbName(), scenes.get(index), output);
    }
}
