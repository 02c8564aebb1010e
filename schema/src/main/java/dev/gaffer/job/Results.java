package dev.gaffer.job;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * The typed answers of the transitions ({@link JobRequests}, {@link LeaseStore}, {@link
 * OutcomeStore}, {@link ReclaimStore}). A transition that finds the row in another state (a lost
 * race, or a request that does not apply) says so as a value; only impossible situations throw.
 */
public final class Results {

    private Results() {}

    /** Outcome of {@link JobRequests#create}. */
    public sealed interface CreateResult {
        Job job();
    }

    /** A new row was inserted. */
    public record Created(Job job) implements CreateResult {}

    /** The idempotency key was known and the request matched it: the existing job. */
    public record AlreadyExists(Job job) implements CreateResult {}

    /** The idempotency key was known but with another type or other parameters. */
    public record IdempotencyConflict(Job job) implements CreateResult {}

    /** Outcome of a transition requested by a person: approve, reject, request changes, revise, cancel, retry. */
    public sealed interface Transition {}

    public record Moved(Job job) implements Transition {}

    public record NotFound(long id) implements Transition {}

    /** The job exists but is not in a state the transition applies to. */
    public record WrongState(long id, JobStatus actual, String reason) implements Transition {}

    /**
     * The job is in the right state, but its storyboard is no longer the revision the caller
     * named (someone revised it in between): nothing changed; {@code current} is the revision now.
     */
    public record StaleRevision(long id, int current) implements Transition {}

    /**
     * The database refused the decision: the job type's review policy (four eyes, the role that
     * decides; review_policies, V015) or a role's transition guard. Nothing changed; {@code reason}
     * is PostgreSQL's message.
     */
    public record Refused(long id, String reason) implements Transition {}

    /** Outcome of a fenced write by a worker. */
    public sealed interface Fenced {}

    /** The write happened; the job is now in {@code status}. */
    public record Written(long id, JobStatus status, Instant runAt) implements Fenced {}

    /** The lease was gone (reclaimed, cancelled, finished): nothing was written. */
    public record LeaseLost(Lease lease) implements Fenced {}

    /**
     * Outcome of {@link LeaseStore#heartbeat}: the leases that are still held, those that are not,
     * and which of the lost ones were cancelled (by a person, or with a parent that failed).
     */
    public record HeartbeatResult(Set<Long> held, Set<Long> lost, Set<Long> cancelled) {}

    /** Outcome of {@link OutcomeStore#waitForSubJobs}: the ids of the sub-jobs, in the order given. */
    public sealed interface SpawnResult {}

    public record Spawned(List<Long> subJobIds) implements SpawnResult {}

    public record SpawnLeaseLost(Lease lease) implements SpawnResult {}

    /** Outcome of {@link ReclaimStore#reclaimExpired} and {@link ReclaimStore#recoverPredecessors}. */
    public record ReclaimResult(int requeued, int failed) {
        public int total() {
            return requeued + failed;
        }
    }
}
