package dev.gaffer.worker.maintenance;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.SchedulerName;
import com.github.kagkarlsson.scheduler.task.helper.RecurringTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.github.kagkarlsson.scheduler.task.schedule.FixedDelay;
import dev.gaffer.job.Results.ReclaimResult;
import java.time.Duration;
import java.util.List;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The cluster's maintenance as db-scheduler recurring tasks. Every worker runs a scheduler on
 * the shared {@code scheduled_tasks} table; each recurring task has one row there, which one
 * scheduler at a time picks, so exactly one worker runs each task at a time.
 *
 * <p>db-scheduler's own heartbeat is tuned down from its defaults (5 min × 6 missed = 30 min to
 * declare an execution dead) to 1 s × 4 missed, so that a worker that dies mid-task does not stall
 * reclaiming for half an hour.
 */
public final class Maintenance implements AutoCloseable {

    public record Config(
            Duration reclaimInterval,
            Duration pruneInterval,
            Duration expiryInterval,
            Duration schedulerHeartbeat,
            int missedHeartbeatsLimit) {

        public static final Duration DEFAULT_PRUNE_INTERVAL = Duration.ofMinutes(1);
        public static final Duration DEFAULT_EXPIRY_INTERVAL = Duration.ofSeconds(15);
        public static final Duration DEFAULT_SCHEDULER_HEARTBEAT = Duration.ofSeconds(1);
        /** db-scheduler's minimum; with a 1 s heartbeat a dead execution is detected after about 4 s. */
        public static final int DEFAULT_MISSED_HEARTBEATS_LIMIT = 4;

        public static Config of(Duration reclaimInterval) {
            return new Config(
                    reclaimInterval,
                    DEFAULT_PRUNE_INTERVAL,
                    DEFAULT_EXPIRY_INTERVAL,
                    DEFAULT_SCHEDULER_HEARTBEAT,
                    DEFAULT_MISSED_HEARTBEATS_LIMIT);
        }
    }

    public static final String RECLAIM_TASK = "gaffer-reclaim";
    public static final String PRUNE_TASK = "gaffer-prune";
    public static final String EXPIRE_WORKERS_TASK = "gaffer-expire-workers";

    private static final Logger log = LoggerFactory.getLogger(Maintenance.class);

    private final Scheduler scheduler;

    public Maintenance(
            DataSource dataSource,
            String schedulerName,
            Config config,
            Reclaimer reclaimer,
            Pruner pruner,
            WorkerExpiry expiry) {
        List<RecurringTask<Void>> tasks = List.of(
                task(RECLAIM_TASK, config.reclaimInterval(), () -> {
                    ReclaimResult r = reclaimer.runOnce();
                    return r.total() == 0 ? null : "reclaimed " + r.requeued() + " stale job(s), failed " + r.failed();
                }),
                task(PRUNE_TASK, config.pruneInterval(), () -> {
                    int n = pruner.runOnce();
                    return n == 0 ? null : "pruned " + n + " finished job(s)";
                }),
                task(EXPIRE_WORKERS_TASK, config.expiryInterval(), () -> {
                    int n = expiry.runOnce();
                    return n == 0 ? null : "expired " + n + " silent worker(s)";
                }));
        Duration polling = config.reclaimInterval().dividedBy(2);
        if (polling.compareTo(Duration.ofMillis(250)) < 0) {
            polling = Duration.ofMillis(250);
        }
        this.scheduler = Scheduler.create(dataSource)
                // An embedding application's pool may hand out connections without autocommit.
                .commitWhenAutocommitDisabled(true)
                .schedulerName(new SchedulerName.Fixed(schedulerName))
                .startTasks(tasks)
                .threads(tasks.size())
                .pollingInterval(polling)
                .heartbeatInterval(config.schedulerHeartbeat())
                .missedHeartbeatsLimit(config.missedHeartbeatsLimit())
                .shutdownMaxWait(Duration.ofSeconds(5))
                .build();
    }

    private static RecurringTask<Void> task(String name, Duration every, Supplier<String> work) {
        return Tasks.recurring(name, FixedDelay.of(every)).execute((instance, ctx) -> {
            // db-scheduler records a failure and runs the task again at its next time; the log
            // line is ours.
            try {
                String did = work.get();
                if (did != null) {
                    log.info("{}: {}", name, did);
                }
            } catch (RuntimeException e) {
                log.error("{} failed; next run in {} ms", name, every.toMillis(), e);
                throw e;
            }
        });
    }

    public void start() {
        scheduler.start();
    }

    @Override
    public void close() {
        scheduler.stop();
    }
}
