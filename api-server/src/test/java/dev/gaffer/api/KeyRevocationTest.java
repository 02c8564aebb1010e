package dev.gaffer.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Revoking a key ends its use on every API process: cached lookups are dropped and its open
 * event streams are closed, at once when the revocation is announced, and within the cache's
 * lifetime when a process missed the announcement.
 */
class KeyRevocationTest {

    static TestApi api;
    static ApiServer second;

    @BeforeAll
    static void start() {
        api = new TestApi("key_revocation");
        // Another API process on the same database.
        second = new ApiServer(
                        api.db,
                        new JobRequests(api.db.dataSource()),
                        new JobQueries(api.db.dataSource()),
                        api.keys,
                        ApiConfig.defaults())
                .start(0);
    }

    @AfterAll
    static void stop() {
        second.stop();
        api.close();
    }

    private static HttpResponse<InputStream> openStream(int port, String key) throws Exception {
        return api.http.send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v3/events"))
                        .header("Authorization", "Bearer " + key)
                        .header("Accept", "text/event-stream")
                        .GET()
                        .build(),
                HttpResponse.BodyHandlers.ofInputStream());
    }

    private static int status(int port, String key) throws Exception {
        return api.http
                .send(
                        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/api/v3/jobs"))
                                .header("Authorization", "Bearer " + key)
                                .GET()
                                .build(),
                        HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }

    /** Reads a stream until it ends; returns when it did, or fails after {@code limit}. */
    private static Thread drain(HttpResponse<InputStream> stream) {
        return Thread.ofVirtual().start(() -> {
            try (InputStream in = stream.body()) {
                in.transferTo(java.io.OutputStream.nullOutputStream());
            } catch (Exception ignored) {
                // ended
            }
        });
    }

    @Test
    void aRevokedKeysStreamsEndOnEveryApiProcessAndItsNextRequestIs401() throws Exception {
        String key = api.keys.create("leaving", ApiKeyRole.READ).key();
        List<Thread> readers = new ArrayList<>();
        for (int port : new int[] {api.server.port(), second.port()}) {
            // A request first, so that the key sits in each process's cache.
            assertThat(status(port, key)).isEqualTo(200);
            var s = openStream(port, key);
            assertThat(s.statusCode()).isEqualTo(200);
            readers.add(drain(s));
        }
        Thread.sleep(200);
        assertThat(readers).allMatch(Thread::isAlive);

        long revokedAt = System.nanoTime();
        assertThat(api.keys.revoke("leaving")).isPresent();
        for (Thread r : readers) {
            r.join(Duration.ofSeconds(5));
            assertThat(r.isAlive()).as("stream ended after the revocation").isFalse();
        }
        long endedMs = (System.nanoTime() - revokedAt) / 1_000_000;
        assertThat(status(api.server.port(), key)).isEqualTo(401);
        assertThat(status(second.port(), key)).isEqualTo(401);
        System.out.println("KEY-REVOCATION streams ended " + endedMs + " ms after the revocation");
    }

    @Test
    void aRevocationThatWasNotAnnouncedStillEndsTheKeysStreams() throws Exception {
        String key = api.keys.create("quietly-gone", ApiKeyRole.READ).key();
        var s = openStream(api.server.port(), key);
        Thread reader = drain(s);
        Thread.sleep(200);
        // Past the API, without the NOTIFY: the stream notices at its next check of the key.
        api.fixtures.exec("UPDATE api_keys SET revoked_at = now() WHERE name = 'quietly-gone'");
        reader.join(Duration.ofSeconds(5));
        assertThat(reader.isAlive()).isFalse();
        assertThat(status(api.server.port(), key)).isEqualTo(401);
    }
}
