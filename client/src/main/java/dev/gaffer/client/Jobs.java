package dev.gaffer.client;

import dev.gaffer.job.CreateCall;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.JobTypeValidators;
import dev.gaffer.job.NewJob;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.postgresql.util.PSQLException;

/**
 * Jobs created in the caller's own transaction, on the caller's JDBC connection:
 *
 * <pre>{@code
 * connection.setAutoCommit(false);
 * insertOrder(connection, order);
 * jobs.insert(connection, JobRequest.of("invoice", params).approvedBy("shop"));
 * connection.commit(); // the order and its job, or neither
 * }</pre>
 *
 * Nothing is visible, claimable or announced (NOTIFY) until the caller commits, and a rollback
 * leaves no trace. The call is the create function of migration V009, the same the API calls; the
 * connection's role needs EXECUTE on it ({@code gaffer_client} in db/roles.sql, or the owner).
 * {@link #insertAll} creates many jobs in one statement (10 000 in a fraction of a second, see
 * docs/benchmarks.md).
 *
 * <p>A request is checked before any SQL runs, with the API's messages: its fields by {@link
 * JobRequest} when it is built, here the job type's validator when one is on the class path, and
 * an idempotency key used twice in one call. Refused: {@link InvalidJobException}, and the
 * transaction is still usable. A refusal by PostgreSQL (a rule the function checks again)
 * becomes the same exception, but leaves the transaction aborted, as any failed statement does.
 */
public final class Jobs {

    /** What became of a request: its job, whether this call created it, and its status now. */
    public record Inserted(long id, JobStatus status, boolean created) {}

    private final JobTypeValidators validators;

    /** With the validators of the job types on this class path. */
    public Jobs() {
        this(JobTypeValidators.discover());
    }

    public Jobs(JobTypeValidators validators) {
        this.validators = Objects.requireNonNull(validators, "validators");
    }

    /** One job; see {@link #insertAll}. */
    public Inserted insert(Connection connection, JobRequest request) {
        return insertAll(connection, List.of(request)).getFirst();
    }

    /**
     * Every request, in one statement, in the connection's current transaction; the answers in the
     * requests' order. A request whose idempotency key is known creates nothing and answers with
     * the existing job ({@code created} false); a known key with another type or other parameters
     * is refused with {@link IdempotencyConflictException}.
     */
    public List<Inserted> insertAll(Connection connection, List<JobRequest> requests) {
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(requests, "requests");
        requireTransaction(connection);
        if (requests.isEmpty()) {
            return List.of();
        }
        List<NewJob> jobs = new ArrayList<>(requests.size());
        List<String> approvers = new ArrayList<>(requests.size());
        Set<String> keys = new HashSet<>();
        for (JobRequest r : requests) {
            Objects.requireNonNull(r, "request");
            NewJob job = r.job();
            validators.validate(job.type(), job.parameters(), job.storyboard());
            if (job.idempotencyKey() != null && !keys.add(job.idempotencyKey())) {
                throw new InvalidJobException(
                        "idempotency_key", "'" + job.idempotencyKey() + "' is given to more than one job of this call");
            }
            jobs.add(job);
            approvers.add(r.approvedBy());
        }
        List<CreateCall.Row> rows;
        try {
            rows = CreateCall.run(connection, jobs, approvers);
        } catch (PSQLException e) {
            throw refusal(e);
        } catch (SQLException e) {
            throw new IllegalStateException("creating " + jobs.size() + " job(s) failed: " + e.getMessage(), e);
        }
        List<Inserted> out = new ArrayList<>(rows.size());
        for (CreateCall.Row row : rows) {
            if (row.outcome().equals("conflict")) {
                throw new IdempotencyConflictException(jobs.get(row.ord() - 1).idempotencyKey(), row.jobId());
            }
            out.add(new Inserted(row.jobId(), row.status(), row.outcome().equals("created")));
        }
        return List.copyOf(out);
    }

    private static void requireTransaction(Connection connection) {
        try {
            if (connection.isClosed()) {
                throw new IllegalStateException("the connection is closed");
            }
            if (connection.getAutoCommit()) {
                throw new IllegalStateException("the connection is in autocommit, so the job would not be part of"
                        + " your transaction: call setAutoCommit(false) first, and commit when your own rows are"
                        + " written (or create the job over REST with GafferClient)");
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot use the connection: " + e.getMessage(), e);
        }
    }

    /** PostgreSQL's refusal (SQLSTATE 22023 with the field in COLUMN) as the API's exception. */
    private static RuntimeException refusal(PSQLException e) {
        var server = e.getServerErrorMessage();
        if ("22023".equals(e.getSQLState()) && server != null && server.getColumn() != null) {
            String message = server.getMessage();
            String field = server.getColumn();
            int at = message.indexOf(field + " ");
            if (at < 0) {
                return new InvalidJobException(field, message);
            }
            String problem = message.substring(at + field.length() + 1);
            // "job 3: parameters ..." for a call of many: keep which one.
            return new InvalidJobException(
                    field, at > 2 ? problem + " (" + message.substring(0, at - 2) + " of the call)" : problem);
        }
        return new IllegalStateException("creating the job(s) failed: " + e.getMessage(), e);
    }
}
