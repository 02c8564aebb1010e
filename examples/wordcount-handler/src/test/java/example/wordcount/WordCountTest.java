package example.wordcount;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gaffer.client.JobRequest;
import dev.gaffer.client.Jobs;
import dev.gaffer.job.InvalidJobException;
import dev.gaffer.testing.TestDatabase;
import dev.gaffer.worker.Worker;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The handler run the way production runs it: by a Gaffer worker, claiming from a real PostgreSQL
 * (Gaffer's test database: embedded, Testcontainers, or GAFFER_TEST_DATABASE_URL).
 */
class WordCountTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("wordcount");

    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aWorkerCountsTheWordsOfAnApprovedJob() throws Exception {
        try (Worker worker = Worker.builder(db.dataSource())
                .discoverHandlers(WordCount.class.getClassLoader()) // as --handlers finds it
                .concurrency(2)
                .polling(Duration.ofMillis(100), true)
                .start()) {
            long id;
            try (Connection c = db.dataSource().getConnection()) {
                c.setAutoCommit(false);
                JobRequest request = JobRequest.of(
                                WordCount.TYPE, json("{\"text\": \"the cat saw the other cat, the end\"}"))
                        .approvedBy("test");
                id = new Jobs().insert(c, request).id();
                c.commit();
            }
            JsonNode result = awaitResult(id);
            assertEquals(8, result.path("words").asInt());
            assertEquals(5, result.path("distinct").asInt());
            assertEquals("the", result.path("top").path(0).path("word").asText());
            assertEquals(3, result.path("top").path(0).path("count").asInt());
            assertEquals("cat", result.path("top").path(1).path("word").asText());
        }
    }

    @Test
    void badParametersAreRefusedBeforeAnySqlRuns() throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            c.setAutoCommit(false);
            InvalidJobException e = assertThrows(
                    InvalidJobException.class,
                    () -> new Jobs().insert(c, JobRequest.of(WordCount.TYPE, json("{\"text\": \"a\", \"top\": 0}"))));
            assertEquals("parameters.top", e.field());
            assertThrows(
                    InvalidJobException.class,
                    () -> new Jobs().insert(c, JobRequest.of(WordCount.TYPE, json("{\"words\": 3}"))));
            // Refused before SQL: the transaction is still usable, and neither job exists.
            try (ResultSet rs = c.createStatement()
                    .executeQuery("SELECT count(*) FROM jobs WHERE parameters ? 'words' OR parameters->>'top' = '0'")) {
                assertTrue(rs.next());
                assertEquals(0, rs.getLong(1));
            }
            c.rollback();
        }
    }

    /** Polls the jobs table, as a DBA would query it, until the job is finished. */
    private static JsonNode awaitResult(long id) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        try (Connection c = db.dataSource().getConnection();
                PreparedStatement ps = c.prepareStatement("SELECT status, result, last_error FROM jobs WHERE id = ?")) {
            ps.setLong(1, id);
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    String status = rs.getString("status");
                    if (status.equals("completed")) {
                        return JSON.readTree(rs.getString("result"));
                    }
                    if (status.equals("failed") || status.equals("cancelled")) {
                        throw new AssertionError("job " + id + " " + status + ": " + rs.getString("last_error"));
                    }
                }
                Thread.sleep(50);
            }
        }
        throw new AssertionError("job " + id + " did not finish within 30 s");
    }

    private static JsonNode json(String text) throws Exception {
        return JSON.readTree(text);
    }
}
