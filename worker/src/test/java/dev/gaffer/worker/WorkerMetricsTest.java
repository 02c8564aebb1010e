package dev.gaffer.worker;

import static dev.gaffer.worker.TestSupport.await;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.db.Database;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.testing.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class WorkerMetricsTest {

    @Test
    void aWorkerServesPrometheusMetricsOfWhatItDid() throws Exception {
        try (Database db = TestPostgres.freshDatabase("worker_metrics", 8)) {
            JobFixtures fx = new JobFixtures(db);
            fx.approvedBulk("noop", 3);
            Worker worker = new Worker(TestSupport.config("metrics-1"), db, HandlerRegistry.discover());
            try (WorkerMetrics metrics = new WorkerMetrics(worker, db.dataSource())) {
                worker.start();
                await(
                        "3 jobs completed",
                        Duration.ofSeconds(30),
                        () -> fx.count("SELECT count(*) FROM jobs WHERE status = 'completed'") == 3);
                int port = metrics.serve("127.0.0.1", 0);
                HttpResponse<String> r = HttpClient.newHttpClient()
                        .send(
                                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                                        .build(),
                                HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.headers().firstValue("content-type").orElse("")).startsWith("text/plain");
                String w = worker.id();
                assertThat(r.body())
                        .contains("gaffer_worker_jobs_finished_total{outcome=\"completed\",worker=\"" + w + "\"} 3.0")
                        .contains("gaffer_worker_jobs_claimed_total{worker=\"" + w + "\"} 3.0")
                        .contains("gaffer_worker_concurrency{worker=\"" + w + "\"}")
                        .contains("jvm_memory_used_bytes")
                        .contains("hikaricp_connections");
            } finally {
                worker.shutdown(Duration.ofSeconds(5));
            }
        }
    }
}
