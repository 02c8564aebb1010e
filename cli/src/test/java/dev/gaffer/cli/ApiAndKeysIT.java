package dev.gaffer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.testing.TestPostgres;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code gaffer keys} and {@code gaffer api} as real processes against a real PostgreSQL. */
class ApiAndKeysIT {

    static final Duration LIMIT = Duration.ofSeconds(60);

    @TempDir
    Path dir;

    @Test
    void migrateThenKeysAreCreatedOnceListedUsedAndRevoked() throws Exception {
        String name = TestPostgres.newEmptyDatabase("api_and_keys");
        Map<String, String> env = Map.of("DATABASE_URL", TestPostgres.postgresUrl(name));

        var migrated = GafferProcess.run(env, LIMIT, "migrate");
        assertThat(migrated.exitCode()).as(migrated.err()).isZero();
        assertThat(migrated.out()).containsPattern("applied \\d+ migration");
        assertThat(GafferProcess.run(env, LIMIT, "migrate").out()).contains("schema is up to date");

        var created = GafferProcess.run(env, LIMIT, "keys", "create", "--name", "ops-team", "--role", "approve");
        assertThat(created.exitCode()).as(created.err()).isZero();
        String key = created.out().strip();
        assertThat(key).startsWith("gfr_").doesNotContain(" ");
        assertThat(created.err()).contains("ops-team");

        var duplicate = GafferProcess.run(env, LIMIT, "keys", "create", "--name", "ops-team", "--role", "read");
        assertThat(duplicate.exitCode()).isNotZero();
        assertThat(duplicate.err()).contains("ops-team");

        var badRole = GafferProcess.run(env, LIMIT, "keys", "create", "--name", "x", "--role", "superuser");
        assertThat(badRole.exitCode()).isNotZero();

        var listed = GafferProcess.run(env, LIMIT, "keys", "list");
        assertThat(listed.out()).contains("ops-team").contains("approve").doesNotContain(key);

        var unsafe = GafferProcess.run(env, LIMIT, "api", "--auth", "false");
        assertThat(unsafe.exitCode()).isNotZero();
        assertThat(unsafe.err()).contains("refusing to start with GAFFER_AUTH=false");

        int port = GafferProcess.freePort();
        Path log = dir.resolve("api.log");
        Process api = GafferProcess.builder(env, "api", "--port", String.valueOf(port), "--host", "127.0.0.1")
                .redirectErrorStream(true)
                .redirectOutput(log.toFile())
                .start();
        try {
            String base = "http://127.0.0.1:" + port;
            GafferProcess.awaitReady(base + "/health/ready", api, log, Duration.ofSeconds(60));
            assertThat(status(base + "/api/v3/me", key)).isEqualTo(200);
            assertThat(status(base + "/api/v3/me", null)).isEqualTo(401);
            assertThat(status(base + "/api/v3/me", key + "x")).isEqualTo(401);

            var revoked = GafferProcess.run(env, LIMIT, "keys", "revoke", "ops-team");
            assertThat(revoked.exitCode()).as(revoked.err()).isZero();
            // The API caches a good key for a few seconds; after that the revoked key is refused.
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (status(base + "/api/v3/me", key) != 401) {
                assertThat(System.nanoTime())
                        .as("revoked key still accepted after 20 s")
                        .isLessThan(deadline);
                Thread.sleep(250);
            }
        } finally {
            api.destroy();
            if (!api.waitFor(30, TimeUnit.SECONDS)) {
                api.destroyForcibly();
                throw new AssertionError("gaffer api did not stop on SIGTERM");
            }
        }
        assertThat(api.exitValue()).isZero();
    }

    private static int status(String url, String key) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(url));
        if (key != null) {
            b.header("Authorization", "Bearer " + key);
        }
        return HttpClient.newHttpClient()
                .send(b.build(), HttpResponse.BodyHandlers.discarding())
                .statusCode();
    }
}
