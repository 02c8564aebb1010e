package dev.gaffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.db.Database;
import dev.gaffer.job.Job;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.JobStatus;
import dev.gaffer.job.NewJob;
import dev.gaffer.job.Results;
import dev.gaffer.testing.TestPostgres;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** {@code gaffer worker} as a real process against a real PostgreSQL, stopped with SIGTERM. */
class WorkerCommandTest {

    @Test
    void runsJobsFromDatabaseUrlAndExitsZeroOnSigtermAfterReleasingItsJobs() throws Exception {
        try (Database db = TestPostgres.freshDatabase("worker_command")) {
            String name = db.config()
                    .url()
                    .jdbcUrl()
                    .substring(db.config().url().jdbcUrl().lastIndexOf('/') + 1);
            JobRequests requests = new JobRequests(db.dataSource());
            JobQueries queries = new JobQueries(db.dataSource());
            JobFixtures fixtures = new JobFixtures(db);
            Path log = Files.createTempFile("gaffer-worker", ".log");
            // DATABASE_URL reaches the process through its environment, as in a container.
            ProcessBuilder pb = new ProcessBuilder(
                            Path.of(System.getProperty("java.home"), "bin", "java")
                                    .toString(),
                            "-cp",
                            System.getProperty("java.class.path"),
                            "dev.gaffer.cli.Gaffer",
                            "worker",
                            "--name",
                            "cli-test",
                            "--concurrency",
                            "4",
                            "--shutdown-grace",
                            "500ms")
                    .redirectErrorStream(true)
                    .redirectOutput(log.toFile());
            pb.environment().put("DATABASE_URL", TestPostgres.postgresUrl(name));
            Process worker = pb.start();
            try {
                Job noop = approve(requests, NewJob.of("noop", null));
                Job longSleep = approve(requests, NewJob.of("sleep", JobFixtures.params("ms", 600_000)));
                awaitStatus(queries, noop, JobStatus.COMPLETED);
                awaitStatus(queries, longSleep, JobStatus.PROCESSING);
                assertThat(fixtures.count("SELECT count(*) FROM workers WHERE name = 'cli-test'"))
                        .isEqualTo(1);

                worker.destroy(); // SIGTERM
                assertThat(worker.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(worker.exitValue()).as(Files.readString(log)).isZero();

                Job released = queries.find(longSleep.id()).orElseThrow();
                assertThat(released.status()).isEqualTo(JobStatus.APPROVED);
                assertThat(released.attempt()).isZero();
                assertThat(fixtures.count("SELECT count(*) FROM workers WHERE name = 'cli-test'"))
                        .isZero();
                requests.cancel(longSleep.id(), "tester");
            } finally {
                worker.destroyForcibly();
            }
        }
    }

    @Test
    void aWrongValueFailsAtStartNamingTheVariable() {
        StringWriter err = new StringWriter();
        int code = Gaffer.commandLine()
                .setErr(new PrintWriter(err))
                .execute("worker", "--database-url", "postgres://u@127.0.0.1:1/x", "--concurrency", "abc");
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("GAFFER_CONCURRENCY must be a whole number between 1 and 1000, got 'abc'");
    }

    private static Job approve(JobRequests requests, NewJob job) {
        Job created = requests.create(job).job();
        return ((Results.Moved) requests.approve(created.id(), "tester")).job();
    }

    private static void awaitStatus(JobQueries queries, Job job, JobStatus status) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (queries.find(job.id()).orElseThrow().status() != status) {
            if (System.nanoTime() > end) {
                throw new AssertionError("job " + job.id() + " did not become " + status);
            }
            Thread.sleep(50);
        }
    }
}
