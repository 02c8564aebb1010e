package dev.gaffer.bench;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The peer, in a process of its own like a Gaffer worker: one db-scheduler instance draining
 * {@code n} no-op one-time executions that the bench inserted into scheduled_tasks, with the
 * lock-and-fetch polling strategy (SELECT … FOR UPDATE SKIP LOCKED that marks a batch picked in
 * one statement). Prints one RESULT line: executions, seconds from the first execution's start to
 * the last one's end, JVM CPU seconds over the drain, peak RSS.
 *
 * <p>Arguments: jdbcUrl user password|- n threads lowerFraction upperFraction deadlineSeconds.
 */
public final class DbSchedulerDrain {

    private DbSchedulerDrain() {}

    public static void main(String[] args) throws Exception {
        String jdbcUrl = args[0];
        String user = args[1];
        String password = "-".equals(args[2]) ? null : args[2];
        int n = Integer.parseInt(args[3]);
        int threads = Integer.parseInt(args[4]);
        double lower = Double.parseDouble(args[5]);
        double upper = Double.parseDouble(args[6]);
        long deadlineSeconds = Long.parseLong(args[7]);

        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(jdbcUrl);
        hc.setUsername(user);
        if (password != null) {
            hc.setPassword(password);
        }
        hc.setMaximumPoolSize(threads + 4);
        AtomicInteger executed = new AtomicInteger();
        AtomicLong first = new AtomicLong();
        AtomicLong firstCpu = new AtomicLong();
        AtomicLong last = new AtomicLong();
        CountDownLatch all = new CountDownLatch(1);
        OneTimeTask<Void> noop = Tasks.oneTime("noop").execute((instance, ctx) -> {
            if (first.get() == 0 && first.compareAndSet(0, System.nanoTime())) {
                firstCpu.set(
                        Math.round(Procfs.cpuSeconds(ProcessHandle.current().pid()) * 1000));
            }
            if (executed.incrementAndGet() == n) {
                last.set(System.nanoTime());
                all.countDown();
            }
        });
        try (HikariDataSource ds = new HikariDataSource(hc)) {
            Scheduler scheduler = Scheduler.create(ds, noop)
                    .threads(threads)
                    .pollUsingLockAndFetch(lower, upper)
                    .pollingInterval(Duration.ofSeconds(1))
                    .build();
            scheduler.start();
            boolean finished = all.await(deadlineSeconds, TimeUnit.SECONDS);
            double cpu = Procfs.cpuSeconds(ProcessHandle.current().pid()) - firstCpu.get() / 1000.0;
            double rss = Procfs.peakRssMiB(ProcessHandle.current().pid());
            // Let the last completions (deletes) commit before stopping.
            Thread.sleep(500);
            scheduler.stop();
            System.out.printf(
                    java.util.Locale.ROOT,
                    "RESULT executed=%d seconds=%.3f cpu=%.2f rss=%.1f finished=%b%n",
                    executed.get(),
                    (last.get() - first.get()) / 1e9,
                    cpu,
                    rss,
                    finished);
        }
        System.exit(0);
    }
}
