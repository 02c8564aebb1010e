package dev.gaffer.auth;

import java.time.Instant;

/** One row of {@code api_keys}, without its hash. */
public record ApiKey(
        long id,
        String name,
        ApiKeyRole role,
        String keyPrefix,
        Instant createdAt,
        Instant lastUsedAt,
        Instant revokedAt) {

    public boolean revoked() {
        return revokedAt != null;
    }
}
