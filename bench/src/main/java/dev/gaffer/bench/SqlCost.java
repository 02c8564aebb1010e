package dev.gaffer.bench;

import dev.gaffer.db.Database;
import dev.gaffer.job.ClaimPosition;
import dev.gaffer.job.Job;
import dev.gaffer.job.LeaseStore;
import dev.gaffer.job.OutcomeStore;
import dev.gaffer.job.OutcomeStore.Completion;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * What one job costs the database server, without a worker around it: {@code clients} threads of
 * the bench each claim {@code batch} jobs with {@link LeaseStore#claim} and complete them with
 * {@link OutcomeStore#completeMany}, Gaffer's own statements, until {@code jobs} approved no-op jobs are
 * done; the CPU of all the server's processes over the drain, divided by the jobs, is the figure.
 * The bench's JVM works meanwhile, but only the server's CPU is counted.
 *
 * <p>Each variant changes one thing against the schema as migrated, to show what a design choice
 * costs or saved: claims from the head of the queue instead of after the last claimed job, the
 * regex CHECKs on type and queue that V006 replaced by domains, the per-row foreign key of
 * job_events that V007 replaced, V008's two CHECK constraints left out, and twice the jobs per
 * statement. Variants run in a rotated
 * order from run to run, so a slow minute of the machine does not always fall on the same one.
 */
final class SqlCost implements Scenario {

    /**
     * {@code rounds}: each client runs the worker's round statement ({@link
     * LeaseStore#claimAndComplete}: the previous batch's completions with the next claim, one
     * statement and one commit) instead of a claim statement and a completion statement.
     */
    record Variant(String label, boolean fromHead, int batch, List<String> schemaChanges, boolean rounds) {
        Variant(String label, boolean fromHead, int batch, List<String> schemaChanges) {
            this(label, fromHead, batch, schemaChanges, false);
        }
    }

    record Config(int jobs, int clients, List<Variant> variants, Duration deadline) {
        static Config of(boolean quick) {
            return new Config(
                    quick ? 20_000 : 60_000,
                    2,
                    List.of(
                            new Variant("as migrated", false, 25, List.of()),
                            new Variant("claims from the head", true, 25, List.of()),
                            new Variant("regex CHECKs on type and queue (before V006)", false, 25, BEFORE_V006),
                            new Variant("job_events foreign key (before V007)", false, 25, BEFORE_V007),
                            new Variant("without the CHECKs of V008", false, 25, WITHOUT_V008_CHECKS),
                            new Variant("without the gate CHECK of V023", false, 25, WITHOUT_GATE_CHECK),
                            new Variant("without the review CHECKs of V012-V018", false, 25, WITHOUT_REVIEW_CHECKS),
                            new Variant("50 jobs per statement", false, 50, List.of()),
                            new Variant("rounds of 256", false, 256, List.of(), true),
                            new Variant(
                                    "rounds of 256 without the review CHECKs of V012-V018",
                                    false,
                                    256,
                                    WITHOUT_REVIEW_CHECKS,
                                    true),
                            new Variant(
                                    "rounds of 256 without the foreign keys of V021-V022",
                                    false,
                                    256,
                                    WITHOUT_V021_FKS,
                                    true),
                            new Variant(
                                    "rounds of 256 with the five CHECKs of V018 (before V023)",
                                    false,
                                    256,
                                    WITH_V018_CHECKS,
                                    true),
                            new Variant(
                                    "rounds of 256 with NULL in review_gate and gate_round",
                                    false,
                                    256,
                                    NULL_GATE_COLUMNS,
                                    true)),
                    Duration.ofMinutes(quick ? 5 : 15));
        }
    }

    /** V006 undone: plain columns with the CHECKs of V001 (the view reads jobs.type). */
    static final List<String> BEFORE_V006 = List.of(
            "DROP VIEW job_trees",
            "ALTER TABLE jobs ALTER COLUMN type TYPE text, ALTER COLUMN queue TYPE text,"
                    + " ALTER COLUMN parameters TYPE jsonb",
            "ALTER TABLE jobs ADD CONSTRAINT jobs_type_format CHECK (type ~ '^[a-z][a-z0-9_.-]{0,62}$'),"
                    + " ADD CONSTRAINT jobs_queue_format CHECK (queue ~ '^[a-z][a-z0-9_.-]{0,62}$'),"
                    + " ADD CONSTRAINT jobs_parameters_object CHECK (jsonb_typeof(parameters) = 'object')");

    /** V007 undone: the foreign key, whose cascade also deletes the events. */
    static final List<String> BEFORE_V007 = List.of(
            "DROP TRIGGER jobs_delete_events ON jobs",
            "ALTER TABLE job_events ADD CONSTRAINT job_events_job_id_fkey FOREIGN KEY (job_id)"
                    + " REFERENCES jobs (id) ON DELETE CASCADE");

    /** V008's two constraints dropped (its column stays: the statements write it). */
    static final List<String> WITHOUT_V008_CHECKS =
            List.of("ALTER TABLE jobs DROP CONSTRAINT jobs_lease_expiry_iff_processing,"
                    + " DROP CONSTRAINT jobs_full_progress_iff_completed");

    /** The gate CHECK on jobs (V018's five, one since V023), which every claim and completion evaluates. */
    static final List<String> WITHOUT_GATE_CHECK = List.of("ALTER TABLE jobs DROP CONSTRAINT jobs_review_gate_rules");

    /** V023 undone for the CHECKs: V018's five separate ones instead of the one. */
    static final List<String> WITH_V018_CHECKS = List.of(
            "ALTER TABLE jobs DROP CONSTRAINT jobs_review_gate_rules",
            "ALTER TABLE jobs ADD CONSTRAINT jobs_review_gate_format"
                    + " CHECK (review_gate = 'plan' OR review_gate ~ '^[a-z][a-z0-9_.-]{0,62}$'),"
                    + " ADD CONSTRAINT jobs_gate_after_approval CHECK (review_gate = 'plan' OR approved_at IS NOT NULL),"
                    + " ADD CONSTRAINT jobs_gate_top_level CHECK (review_gate = 'plan' OR parent_id IS NULL),"
                    + " ADD CONSTRAINT jobs_gate_round_counts"
                    + " CHECK (gate_round >= 0 AND (review_gate = 'plan') = (gate_round = 0)),"
                    + " ADD CONSTRAINT jobs_review_summary_size"
                    + " CHECK (review_summary IS NULL OR octet_length(review_summary::text) <= 1048576)");

    /**
     * Every CHECK that review added to jobs (V012 to V018): what review's rules cost a job that is
     * never reviewed after its approval. (Its columns stay: the statements return them.)
     */
    static final List<String> WITHOUT_REVIEW_CHECKS = List.of(
            "ALTER TABLE jobs DROP CONSTRAINT jobs_review_gate_rules, DROP CONSTRAINT jobs_rejected_never_approved,"
                    + " DROP CONSTRAINT jobs_storyboard_revision_positive, DROP CONSTRAINT jobs_review_approvals_positive");

    /** The foreign keys of job_previews and job_storyboards, whose triggers every update of jobs passes. */
    static final List<String> WITHOUT_V021_FKS = List.of(
            "ALTER TABLE job_previews DROP CONSTRAINT job_previews_job_id_fkey",
            "ALTER TABLE job_storyboards DROP CONSTRAINT job_storyboards_job_id_fkey");

    /** New jobs without a stored review_gate and gate_round (NULL instead of 'plan' and 0): narrower rows. */
    static final List<String> NULL_GATE_COLUMNS = List.of(
            "ALTER TABLE jobs DROP CONSTRAINT jobs_review_gate_rules",
            "ALTER TABLE jobs ALTER COLUMN review_gate DROP NOT NULL, ALTER COLUMN review_gate DROP DEFAULT,"
                    + " ALTER COLUMN gate_round DROP NOT NULL, ALTER COLUMN gate_round DROP DEFAULT");

    private final Config config;

    SqlCost(Config config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "sqlcost";
    }

    @Override
    public Duration deadline() {
        return config.deadline();
    }

    @Override
    public void runOnce(Context ctx, Measurements out) throws Exception {
        out.note("sqlcost: " + config.jobs() + " jobs per variant, " + config.clients()
                + " client threads, claims on a connection with plan_cache_mode = force_generic_plan as a worker's");
        // -Dbench.sqlcost.only=rounds picks the variants whose label contains it (an A/B of one lever).
        String only = System.getProperty("bench.sqlcost.only", "");
        List<Variant> variants =
                config.variants().stream().filter(v -> v.label().contains(only)).toList();
        int shift = (ctx.run() - 1) % variants.size();
        for (int i = 0; i < variants.size(); i++) {
            Variant v = variants.get((i + shift) % variants.size());
            drain(ctx, v, out);
        }
    }

    private void drain(Context ctx, Variant v, Measurements out) throws Exception {
        String dbName = ctx.database("sqlcost");
        ctx.db().create(dbName);
        try (Connection c = ctx.db().connect(dbName)) {
            for (String sql : v.schemaChanges()) {
                Jobs.exec(c, sql);
            }
            Jobs.insertApproved(c, config.jobs(), "noop", "{}");
            Jobs.exec(c, "VACUUM ANALYZE jobs");
            Jobs.exec(c, "CHECKPOINT");
            try (Database db = ctx.db().open(dbName, config.clients());
                    Database claims =
                            db.sibling("claims", config.clients(), Map.of("plan_cache_mode", "force_generic_plan"))) {
                OutcomeStore completer = new OutcomeStore(db.dataSource());
                LeaseStore claimer = new LeaseStore(claims.dataSource());
                long pg = ctx.db().postmasterPid();
                double cpu0 = Procfs.serverCpuSeconds(pg);
                long t0 = System.nanoTime();
                ExecutorService pool = Executors.newFixedThreadPool(config.clients());
                try {
                    List<Future<Integer>> done = new ArrayList<>();
                    for (int i = 0; i < config.clients(); i++) {
                        String worker = "sqlcost/" + i;
                        done.add(pool.submit(() -> loop(worker, claimer, completer, v)));
                    }
                    int total = 0;
                    for (Future<Integer> f : done) {
                        total += f.get();
                    }
                    double seconds = (System.nanoTime() - t0) / 1e9;
                    double cpu = Procfs.serverCpuSeconds(pg) - cpu0;
                    if (total != config.jobs()) {
                        throw new IllegalStateException(v.label() + ": " + total + " of " + config.jobs() + " done");
                    }
                    out.put(v.label() + ": server CPU per job", cpu / total * 1e6, "µs");
                    out.put(v.label() + ": jobs/s", total / seconds, "jobs/s");
                } finally {
                    pool.shutdownNow();
                }
            }
        } finally {
            ctx.db().drop(dbName);
        }
    }

    /** Claims and completes until a claim comes back empty; returns how many it completed. */
    private static int loop(String worker, LeaseStore claimer, OutcomeStore completer, Variant v) {
        if (v.rounds()) {
            return rounds(worker, claimer, v);
        }
        int completed = 0;
        ClaimPosition at = null;
        while (true) {
            List<Job> jobs = claimer.claim(
                    worker,
                    List.of("default"),
                    Arrays.asList(v.fromHead() ? null : at),
                    null,
                    v.batch(),
                    List.of(),
                    LeaseStore.DEFAULT_LEASE);
            if (jobs.isEmpty()) {
                if (at == null) {
                    return completed;
                }
                at = null; // what is left may lie before the position: look from the head once
                continue;
            }
            at = jobs.size() == v.batch() ? ClaimPosition.of(jobs.getLast()) : null;
            List<Completion> outcomes = new ArrayList<>(jobs.size());
            for (Job j : jobs) {
                outcomes.add(new Completion(j.lease(), null));
            }
            completed += completer.completeMany(worker, outcomes).size();
        }
    }

    /** As a worker's rounds: each statement completes the previous batch and claims the next. */
    private static int rounds(String worker, LeaseStore claimer, Variant v) {
        int completed = 0;
        ClaimPosition at = null;
        List<Completion> outcomes = List.of();
        while (true) {
            LeaseStore.Round round = claimer.claimAndComplete(
                    worker,
                    List.of("default"),
                    Arrays.asList(at),
                    null,
                    v.batch(),
                    List.of(),
                    LeaseStore.DEFAULT_LEASE,
                    outcomes);
            completed += round.completed().size();
            List<Job> jobs = round.claimed();
            if (jobs.isEmpty() && at != null) {
                at = null; // what is left may lie before the position: look from the head once
                outcomes = List.of();
                continue;
            }
            if (jobs.isEmpty()) {
                return completed;
            }
            at = jobs.size() == v.batch() ? ClaimPosition.of(jobs.getLast()) : null;
            outcomes = new ArrayList<>(jobs.size());
            for (Job j : jobs) {
                outcomes.add(new Completion(j.lease(), null));
            }
        }
    }
}
