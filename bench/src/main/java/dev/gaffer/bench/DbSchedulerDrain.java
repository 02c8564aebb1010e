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
 * one statement). The first {@code warm} executions warm the JVM up and are not measured (one
 * WARM line: their count and seconds); then one RESULT line for the next {@code n}: executions,
 * seconds from the first one's start to the last one's, JVM CPU seconds over them, peak RSS.
 *
 * <p>Arguments: jdbcUrl user password|- n warm threads lowerFraction upperFraction deadlineSeconds.
 */
public final class DbSchedulerDrain {

    private DbSchedulerDrain() {}

    public static void main(String[] args) throws Exception {
        String jdbcUrl = args[0];
        String user = args[1];
        String password = "-".equals(args[2]) ? null : args[2];
        int n = Integer.parseInt(args[3]);
        int warm = Integer.parseInt(args[4]);
        int threads = Integer.parseInt(args[5]);
        double lower = Double.parseDouble(args[6]);
        double upper = Double.parseDouble(args[7]);
        long deadlineSeconds = Long.parseLong(args[8]);

        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(jdbcUrl);
        hc.setUsername(user);
        if (password != null) {
            hc.setPassword(password);
        }
        hc.setMaximumPoolSize(threads + 4);
        AtomicInteger executed = new AtomicInteger();
        AtomicLong warmFirst = new AtomicLong();
        AtomicLong first = new AtomicLong();
        AtomicLong firstCpu = new AtomicLong();
        AtomicLong last = new AtomicLong();
        CountDownLatch all = new CountDownLatch(1);
        OneTimeTask<Void> noop = Tasks.oneTime("noop").execute((instance, ctx) -> {
            int i = executed.incrementAndGet();
            if (i == 1) {
                warmFirst.set(System.nanoTime());
            }
            if (i == warm) {
                System.out.printf(
                        java.util.Locale.ROOT,
                        "WARM executed=%d seconds=%.3f%n",
                        warm,
                        (System.nanoTime() - warmFirst.get()) / 1e9);
            }
            if (i == warm + 1) {
                first.set(System.nanoTime());
                firstCpu.set(
                        Math.round(Procfs.cpuSeconds(ProcessHandle.current().pid()) * 1000));
            }
            if (i == warm + n) {
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
                    executed.get() - warm,
                    (last.get() - first.get()) / 1e9,
                    cpu,
                    rss,
                    finished);
        }
        System.exit(0);
    }
}
