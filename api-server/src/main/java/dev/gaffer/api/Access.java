package dev.gaffer.api;

import dev.gaffer.auth.ApiKeyRole;
import io.javalin.security.RouteRole;

/** What a route requires: nothing, or a key with at least a role. Attached to each route in {@link ApiServer}. */
public enum Access implements RouteRole {
    PUBLIC(null),
    READ(ApiKeyRole.READ),
    SUBMIT(ApiKeyRole.SUBMIT),
    APPROVE(ApiKeyRole.APPROVE),
    ADMIN(ApiKeyRole.ADMIN);

    private final ApiKeyRole role;

    Access(ApiKeyRole role) {
        this.role = role;
    }

    /** The least role a key needs; null for public routes. */
    public ApiKeyRole role() {
        return role;
    }
}
