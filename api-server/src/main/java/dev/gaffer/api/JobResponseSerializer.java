package dev.gaffer.api;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.ser.std.StdSerializer;
import dev.gaffer.api.Responses.JobResponse;
import java.io.IOException;
import java.time.Instant;

/**
 * Writes a {@link JobResponse} field by field, exactly as Jackson's record serializer does with
 * {@link JsonSupport}'s settings (names, order, nulls, ISO-8601 instants; JobResponseSerializerTest
 * compares the two on every field), but without a reflective call per field and a serializer
 * lookup per value: a job is what most requests answer with. A field added to JobResponse must
 * be added here too; the test fails until it is.
 */
final class JobResponseSerializer extends StdSerializer<JobResponse> {

    private static final SerializedString JOB_ID = new SerializedString("job_id");
    private static final SerializedString TYPE = new SerializedString("type");
    private static final SerializedString STATUS = new SerializedString("status");
    private static final SerializedString PROGRESS_PERCENTAGE = new SerializedString("progress_percentage");
    private static final SerializedString CURRENT_STAGE = new SerializedString("current_stage");
    private static final SerializedString PARAMETERS = new SerializedString("parameters");
    private static final SerializedString STORYBOARD = new SerializedString("storyboard");
    private static final SerializedString INSERTED_AT = new SerializedString("inserted_at");
    private static final SerializedString UPDATED_AT = new SerializedString("updated_at");
    private static final SerializedString PARENT_ID = new SerializedString("parent_id");
    private static final SerializedString QUEUE = new SerializedString("queue");
    private static final SerializedString PRIORITY = new SerializedString("priority");
    private static final SerializedString ATTEMPT = new SerializedString("attempt");
    private static final SerializedString MAX_ATTEMPTS = new SerializedString("max_attempts");
    private static final SerializedString RUN_AT = new SerializedString("run_at");
    private static final SerializedString CREATED_BY = new SerializedString("created_by");
    private static final SerializedString APPROVED_BY = new SerializedString("approved_by");
    private static final SerializedString APPROVED_AT = new SerializedString("approved_at");
    private static final SerializedString STARTED_AT = new SerializedString("started_at");
    private static final SerializedString FINISHED_AT = new SerializedString("finished_at");
    private static final SerializedString LOCKED_BY = new SerializedString("locked_by");
    private static final SerializedString HEARTBEAT_AT = new SerializedString("heartbeat_at");
    private static final SerializedString LEASE_EXPIRES_AT = new SerializedString("lease_expires_at");
    private static final SerializedString LAST_ERROR = new SerializedString("last_error");
    private static final SerializedString RESULT = new SerializedString("result");
    private static final SerializedString SUBJOBS = new SerializedString("subjobs");
    private static final SerializedString TOTAL = new SerializedString("total");
    private static final SerializedString OPEN = new SerializedString("open");
    private static final SerializedString FINISHED = new SerializedString("finished");
    private static final SerializedString STORYBOARD_REVISION = new SerializedString("storyboard_revision");
    private static final SerializedString REVIEW = new SerializedString("review");
    private static final SerializedString GATE = new SerializedString("gate");
    private static final SerializedString REVISION = new SerializedString("revision");
    private static final SerializedString SUMMARY = new SerializedString("summary");

    JobResponseSerializer() {
        super(JobResponse.class);
    }

    @Override
    public void serialize(JobResponse j, JsonGenerator g, SerializerProvider p) throws IOException {
        g.writeStartObject(j);
        g.writeFieldName(JOB_ID);
        g.writeNumber(j.jobId());
        g.writeFieldName(TYPE);
        g.writeString(j.type());
        g.writeFieldName(STATUS);
        g.writeString(j.status());
        g.writeFieldName(PROGRESS_PERCENTAGE);
        g.writeNumber(j.progressPercentage());
        g.writeFieldName(CURRENT_STAGE);
        g.writeString(j.currentStage());
        g.writeFieldName(PARAMETERS);
        tree(g, p, j.parameters());
        g.writeFieldName(STORYBOARD);
        tree(g, p, j.storyboard());
        g.writeFieldName(INSERTED_AT);
        instant(g, j.insertedAt());
        g.writeFieldName(UPDATED_AT);
        instant(g, j.updatedAt());
        g.writeFieldName(PARENT_ID);
        if (j.parentId() == null) {
            g.writeNull();
        } else {
            g.writeNumber(j.parentId().longValue());
        }
        g.writeFieldName(QUEUE);
        g.writeString(j.queue());
        g.writeFieldName(PRIORITY);
        g.writeNumber(j.priority());
        g.writeFieldName(ATTEMPT);
        g.writeNumber(j.attempt());
        g.writeFieldName(MAX_ATTEMPTS);
        g.writeNumber(j.maxAttempts());
        g.writeFieldName(RUN_AT);
        instant(g, j.runAt());
        g.writeFieldName(CREATED_BY);
        g.writeString(j.createdBy());
        g.writeFieldName(APPROVED_BY);
        g.writeString(j.approvedBy());
        g.writeFieldName(APPROVED_AT);
        instant(g, j.approvedAt());
        g.writeFieldName(STARTED_AT);
        instant(g, j.startedAt());
        g.writeFieldName(FINISHED_AT);
        instant(g, j.finishedAt());
        g.writeFieldName(LOCKED_BY);
        g.writeString(j.lockedBy());
        g.writeFieldName(HEARTBEAT_AT);
        instant(g, j.heartbeatAt());
        g.writeFieldName(LEASE_EXPIRES_AT);
        instant(g, j.leaseExpiresAt());
        g.writeFieldName(LAST_ERROR);
        g.writeString(j.lastError());
        g.writeFieldName(RESULT);
        tree(g, p, j.result());
        g.writeFieldName(SUBJOBS);
        if (j.subjobs() == null) {
            g.writeNull();
        } else {
            g.writeStartObject(j.subjobs());
            g.writeFieldName(TOTAL);
            g.writeNumber(j.subjobs().total());
            g.writeFieldName(OPEN);
            g.writeNumber(j.subjobs().open());
            g.writeFieldName(FINISHED);
            g.writeNumber(j.subjobs().finished());
            g.writeEndObject();
        }
        g.writeFieldName(STORYBOARD_REVISION);
        g.writeNumber(j.storyboardRevision());
        g.writeFieldName(REVIEW);
        if (j.review() == null) {
            g.writeNull();
        } else {
            g.writeStartObject(j.review());
            g.writeFieldName(GATE);
            g.writeString(j.review().gate());
            g.writeFieldName(REVISION);
            g.writeNumber(j.review().revision());
            g.writeFieldName(OPEN);
            g.writeBoolean(j.review().open());
            g.writeFieldName(SUMMARY);
            tree(g, p, j.review().summary());
            g.writeEndObject();
        }
        g.writeEndObject();
    }

    /** A JSON document as the record serializer writes a JsonNode: the node writes itself. */
    private static void tree(JsonGenerator g, SerializerProvider p, JsonNode node) throws IOException {
        if (node == null) {
            g.writeNull();
        } else {
            node.serialize(g, p);
        }
    }

    /**
     * As jsr310's InstantSerializer writes one when dates are not written as timestamps: {@link
     * Instant#toString()}, ISO-8601 in UTC with the fraction of a second only as long as needed.
     */
    private static void instant(JsonGenerator g, Instant t) throws IOException {
        if (t == null) {
            g.writeNull();
        } else {
            g.writeString(t.toString());
        }
    }
}
