package dev.gaffer.auth;

import java.util.Locale;

/**
 * What an API key may do, mirrored by the PostgreSQL enum {@code api_key_role}. Each role includes
 * every role declared before it.
 */
public enum ApiKeyRole {
    /** Read jobs, events, streams, stats and workers. */
    READ,
    /** Also create jobs. */
    SUBMIT,
    /** Also approve, cancel and retry jobs. */
    APPROVE,
    /** Everything. */
    ADMIN;

    public boolean includes(ApiKeyRole other) {
        return ordinal() >= other.ordinal();
    }

    public String dbName() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses the database/CLI spelling; throws IllegalArgumentException naming the valid ones. */
    public static ApiKeyRole parse(String value) {
        for (ApiKeyRole r : values()) {
            if (r.dbName().equals(value)) {
                return r;
            }
        }
        throw new IllegalArgumentException(
                "unknown role '" + value + "'; expected one of read, submit, approve, admin");
    }
}
