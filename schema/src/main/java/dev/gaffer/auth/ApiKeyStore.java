package dev.gaffer.auth;

import dev.gaffer.db.DatabaseException;
import dev.gaffer.db.Sql;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Base64;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The SQL of {@code api_keys}: create, list, revoke, authenticate.
 *
 * <p>A key is {@code gfr_} followed by 32 random bytes in unpadded base64url. Only its SHA-256 is
 * stored. A fast hash is correct here because the secret has 256 bits of entropy: there is no
 * dictionary to try, so a slow password hash (bcrypt, argon2) would only cost every request
 * time. Lookup is by the hash (unique index), and the found hash is compared again with
 * {@link MessageDigest#isEqual}, which takes the same time whatever the bytes.
 */
public final class ApiKeyStore {

    public static final String KEY_PREFIX = "gfr_";

    /** The NOTIFY channel of key revocations, which the API processes LISTEN on. */
    public static final String KEYS_CHANNEL = "gaffer_keys";

    static final int KEY_BYTES = 32;
    static final int DISPLAY_PREFIX_LENGTH = KEY_PREFIX.length() + 6;
    static final Pattern NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9_.@-]{0,62}$");

    /** A key just created: {@code key} is the secret, shown once and never stored. */
    public record CreatedKey(ApiKey apiKey, String key) {
        @Override
        public String toString() {
            return "CreatedKey[" + apiKey + ", key=***]";
        }
    }

    /** A name that is already taken by another key (revoked keys keep their names). */
    public static final class NameTakenException extends IllegalArgumentException {
        public NameTakenException(String name) {
            super("an API key named '" + name + "' already exists");
        }
    }

    private static final String KEY_COLUMNS = "id, name, role, key_prefix, created_at, last_used_at, revoked_at";

    private static final String CREATE = """
            INSERT INTO api_keys (name, role, key_hash, key_prefix)
            VALUES (?, ?::api_key_role, ?, ?)
            RETURNING %s""".formatted(KEY_COLUMNS);

    private static final String LIST = "SELECT " + KEY_COLUMNS + " FROM api_keys ORDER BY name";

    /**
     * Revokes and, in the same statement, announces it: every API process drops the key from its
     * cache and ends the key's open streams when it hears of it (payload {@code
     * {"event":"key_revoked","id":…}}).
     */
    private static final String REVOKE = """
            WITH revoked AS (
                UPDATE api_keys SET revoked_at = now()
                 WHERE name = ? AND revoked_at IS NULL
                RETURNING %1$s),
            notified AS (
                SELECT pg_notify('%2$s', json_build_object('event', 'key_revoked', 'id', id)::text) FROM revoked)
            SELECT %1$s, (SELECT count(*) FROM notified) AS notified FROM revoked""".formatted(KEY_COLUMNS, KEYS_CHANNEL);

    /**
     * Finds a live key by its hash and, in the same statement, records the use at most about
     * once a minute per key, so that authenticating stays a read on the hot path.
     */
    private static final String AUTHENTICATE = """
            WITH found AS (
                SELECT id, key_hash FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL),
            touched AS (
                UPDATE api_keys k SET last_used_at = now()
                  FROM found f
                 WHERE k.id = f.id AND (k.last_used_at IS NULL OR k.last_used_at < now() - interval '1 minute')
                RETURNING k.id)
            SELECT k.id, k.name, k.role, k.key_prefix, k.created_at, k.last_used_at, k.revoked_at, f.key_hash,
                   (SELECT count(*) FROM touched) AS touched
              FROM api_keys k JOIN found f ON f.id = k.id""";

    private final DataSource dataSource;
    private final SecureRandom random = new SecureRandom();

    public ApiKeyStore(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /** Creates a key; the returned {@link CreatedKey#key()} is the only copy of the secret. */
    public CreatedKey create(String name, ApiKeyRole role) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "key name must be 1 to 63 characters of letters, digits, '_', '.', '@', '-', starting with a letter or digit");
        }
        Objects.requireNonNull(role, "role");
        byte[] secret = new byte[KEY_BYTES];
        random.nextBytes(secret);
        String key = KEY_PREFIX + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        try {
            ApiKey created = Sql.query(
                            dataSource,
                            "create API key " + name,
                            CREATE,
                            ps -> {
                                ps.setString(1, name);
                                ps.setString(2, role.dbName());
                                ps.setBytes(3, sha256(key));
                                ps.setString(4, key.substring(0, DISPLAY_PREFIX_LENGTH));
                            },
                            ApiKeyStore::apiKey)
                    .getFirst();
            return new CreatedKey(created, key);
        } catch (DatabaseException e) {
            if (e.isUniqueViolation()) {
                // The hash is 256 random bits: a collision there is not a practical outcome.
                throw new NameTakenException(name);
            }
            throw e;
        }
    }

    public List<ApiKey> list() {
        return Sql.query(dataSource, "list API keys", LIST, ps -> {}, ApiKeyStore::apiKey);
    }

    /** Revokes the live key of that name; empty when there is none (unknown or already revoked). */
    public Optional<ApiKey> revoke(String name) {
        List<ApiKey> rows = Sql.query(
                dataSource, "revoke API key " + name, REVOKE, ps -> ps.setString(1, name), ApiKeyStore::apiKey);
        if (rows.size() > 1) {
            throw new IllegalStateException("revoking '" + name + "' changed " + rows.size() + " rows");
        }
        return rows.stream().findFirst();
    }

    /** The live key whose secret is {@code presented}, if any. */
    public Optional<ApiKey> authenticate(String presented) {
        if (presented == null || !presented.startsWith(KEY_PREFIX) || presented.length() > 100) {
            return Optional.empty();
        }
        byte[] hash = sha256(presented);
        List<Object[]> rows =
                Sql.query(dataSource, "authenticate API key", AUTHENTICATE, ps -> ps.setBytes(1, hash), rs ->
                        new Object[] {apiKey(rs), rs.getBytes("key_hash")});
        for (Object[] row : rows) {
            if (MessageDigest.isEqual(hash, (byte[]) row[1])) {
                return Optional.of((ApiKey) row[0]);
            }
        }
        return Optional.empty();
    }

    static byte[] sha256(String key) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private static ApiKey apiKey(ResultSet rs) throws SQLException {
        return new ApiKey(
                rs.getLong("id"),
                rs.getString("name"),
                ApiKeyRole.parse(rs.getString("role")),
                rs.getString("key_prefix"),
                Sql.instant(rs, "created_at"),
                Sql.instant(rs, "last_used_at"),
                Sql.instant(rs, "revoked_at"));
    }
}
