package dev.gaffer.db;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/**
 * How to reach PostgreSQL and how big the pool is. Built from environment variables by
 * {@link #fromEnvironment(Map, String)}; every bad value fails with the variable's name.
 */
public record DatabaseConfig(DatabaseUrl url, int maxPoolSize, Duration connectionTimeout, String applicationName) {

    public static final int DEFAULT_MAX_POOL_SIZE = 10;
    public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(5);

    public DatabaseConfig {
        Objects.requireNonNull(url, "url");
        if (maxPoolSize < 1 || maxPoolSize > 1000) {
            throw new IllegalArgumentException("pool size must be between 1 and 1000, got " + maxPoolSize);
        }
        if (connectionTimeout.toMillis() < 250) {
            throw new IllegalArgumentException(
                    "connection timeout must be at least 250ms, got " + connectionTimeout.toMillis() + "ms");
        }
        applicationName = applicationName == null ? "gaffer" : applicationName;
    }

    public static DatabaseConfig of(DatabaseUrl url, String applicationName) {
        return new DatabaseConfig(url, DEFAULT_MAX_POOL_SIZE, DEFAULT_CONNECTION_TIMEOUT, applicationName);
    }

    /** Reads {@code DATABASE_URL} and {@code GAFFER_DB_POOL_SIZE}. */
    public static DatabaseConfig fromEnvironment(Map<String, String> env, String applicationName) {
        DatabaseUrl url = DatabaseUrl.parse("DATABASE_URL", env.get("DATABASE_URL"));
        int pool = DEFAULT_MAX_POOL_SIZE;
        String poolText = env.get("GAFFER_DB_POOL_SIZE");
        if (poolText != null && !poolText.isBlank()) {
            try {
                pool = Integer.parseInt(poolText.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "GAFFER_DB_POOL_SIZE must be a whole number between 1 and 1000, got '" + poolText + "'");
            }
            if (pool < 1 || pool > 1000) {
                throw new IllegalArgumentException("GAFFER_DB_POOL_SIZE must be between 1 and 1000, got " + pool);
            }
        }
        return new DatabaseConfig(url, pool, DEFAULT_CONNECTION_TIMEOUT, applicationName);
    }

    public DatabaseConfig withMaxPoolSize(int size) {
        return new DatabaseConfig(url, size, connectionTimeout, applicationName);
    }
}
