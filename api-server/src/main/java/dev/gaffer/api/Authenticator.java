package dev.gaffer.api;

import dev.gaffer.auth.ApiKey;
import dev.gaffer.auth.ApiKeyRole;
import dev.gaffer.auth.ApiKeyStore;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Checks the bearer key of each request against the route's {@link Access}. With auth disabled
 * (dev mode on loopback only, see {@link ApiConfig#requireSafe}) every request acts as "dev" with
 * every right.
 *
 * <p>Successful lookups are cached for {@link #CACHE_TTL} so that a busy client does not cost a
 * query per request. Revoking a key ends its use at once: the revocation is announced with NOTIFY
 * ({@link ApiKeyStore#KEYS_CHANNEL}), and each API process drops the key from this cache and
 * closes the key's open event streams ({@link #revoked}). Should a process miss the notification
 * (its LISTEN connection down at that moment; it clears the whole cache when it is back), the key
 * still stops working there within {@link #CACHE_TTL} for requests, and within twice that for
 * open streams, which check their key again as often. The cache key is the presented text
 * itself, held only in memory.
 */
final class Authenticator {

    static final Duration CACHE_TTL = Duration.ofMillis(500);
    static final String PRINCIPAL = "gaffer.principal";
    private static final int MAX_CACHED = 10_000;

    /** Who is calling, and what they may do; {@code keyId} is null in dev mode without keys. */
    record Principal(Long keyId, String name, ApiKeyRole role) {}

    private record Cached(Principal principal, long expiresAtNanos) {}

    private static final Principal DEV = new Principal(null, "dev", ApiKeyRole.ADMIN);

    private final ApiKeyStore keys;
    private final boolean enabled;
    private final Map<String, Cached> cache = new ConcurrentHashMap<>();

    Authenticator(ApiKeyStore keys, boolean enabled) {
        this.keys = keys;
        this.enabled = enabled;
    }

    /** Runs before every matched route: authenticates and authorizes, or throws 401/403. */
    void check(Context ctx) {
        Set<?> roles = ctx.routeRoles();
        Access access =
                roles.isEmpty() ? Access.PUBLIC : (Access) roles.iterator().next();
        if (access == Access.PUBLIC) {
            return;
        }
        Principal principal = enabled ? authenticate(ctx) : DEV;
        if (!principal.role().includes(access.role())) {
            throw ApiException.forbidden("the key '" + principal.name() + "' has role "
                    + principal.role().dbName() + "; this route needs "
                    + access.role().dbName() + " or higher");
        }
        ctx.attribute(PRINCIPAL, principal);
    }

    /**
     * Whether the key that authenticated {@code ctx} still does (for a stream that outlives its
     * request's check): false once it was revoked. Cached like every lookup.
     */
    boolean stillValid(Context ctx) {
        if (!enabled) {
            return true;
        }
        try {
            authenticate(ctx);
            return true;
        } catch (ApiException e) {
            return false;
        }
    }

    /** Forgets every cached lookup of the key {@code keyId}: it was revoked. */
    void revoked(long keyId) {
        cache.values()
                .removeIf(c -> c.principal().keyId() != null && c.principal().keyId() == keyId);
    }

    /** Forgets every cached lookup (revocations may have been missed). */
    void forgetAll() {
        cache.clear();
    }

    static Principal principal(Context ctx) {
        Principal p = ctx.attribute(PRINCIPAL);
        if (p == null) {
            throw new IllegalStateException("route " + ctx.path() + " has no Access role");
        }
        return p;
    }

    private Principal authenticate(Context ctx) {
        String header = ctx.header("Authorization");
        if (header == null || header.isBlank()) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw ApiException.unauthorized("missing API key: send 'Authorization: Bearer gfr_...'"
                    + " (create one with gaffer keys create --name NAME --role ROLE)");
        }
        if (!header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            ctx.header("WWW-Authenticate", "Bearer");
            throw ApiException.unauthorized("the Authorization header must be 'Bearer <API key>'");
        }
        String presented = header.substring(7).strip();
        long now = System.nanoTime();
        Cached cached = cache.get(presented);
        if (cached != null && cached.expiresAtNanos() - now > 0) {
            return cached.principal();
        }
        ApiKey key = keys.authenticate(presented).orElseThrow(() -> {
            ctx.header("WWW-Authenticate", "Bearer error=\"invalid_token\"");
            return ApiException.unauthorized("the API key is unknown or revoked");
        });
        Principal p = new Principal(key.id(), key.name(), key.role());
        if (cache.size() >= MAX_CACHED) {
            cache.clear();
        }
        cache.put(presented, new Cached(p, now + CACHE_TTL.toNanos()));
        return p;
    }
}
