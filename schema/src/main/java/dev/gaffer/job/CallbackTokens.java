package dev.gaffer.job;

import dev.gaffer.db.Sql;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import javax.sql.DataSource;

/**
 * The tokens of callback URLs ({@code /api/v3/callbacks/{token}}, V026): the job id and the wait's
 * nonce, signed with HMAC-SHA256 under the {@code callback_tokens} secret that the API and the
 * workers read from {@code gaffer_secrets}. Only they can make a token; the database decides
 * whether a good one is still usable ({@link CallbackStore#receive}).
 *
 * <pre>{job id}.{nonce, 32 hex digits}.{HMAC, base64url}</pre>
 */
public final class CallbackTokens {

    /** A token whose signature holds: the job and the wait it names. */
    public record Parsed(long jobId, UUID nonce) {}

    static final String SECRET = "SELECT secret FROM gaffer_secrets WHERE name = 'callback_tokens'";
    private static final HexFormat HEX = HexFormat.of();
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    private final DataSource dataSource;
    private volatile byte[] secret;

    public CallbackTokens(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The token of job {@code jobId}'s wait {@code nonce}. */
    public String token(long jobId, UUID nonce) {
        String body = jobId + "." + HEX.formatHex(bytes(nonce));
        return body + "." + B64.encodeToString(mac(body));
    }

    /** The job and wait a token names, when it is well-formed and its signature holds; else empty. */
    public Optional<Parsed> verify(String token) {
        if (token == null || token.length() > 200) {
            return Optional.empty();
        }
        String[] parts = token.split("\\.", -1);
        if (parts.length != 3 || !parts[1].matches("[0-9a-f]{32}") || !parts[0].matches("[1-9][0-9]{0,18}")) {
            return Optional.empty();
        }
        String body = parts[0] + "." + parts[1];
        // Compared as text: base64url has several spellings of the same bytes (the last
        // character's unused bits), and a token has exactly one.
        if (!MessageDigest.isEqual(
                parts[2].getBytes(StandardCharsets.US_ASCII),
                B64.encodeToString(mac(body)).getBytes(StandardCharsets.US_ASCII))) {
            return Optional.empty();
        }
        long jobId;
        try {
            jobId = Long.parseLong(parts[0]);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        ByteBuffer nonce = ByteBuffer.wrap(HEX.parseHex(parts[1]));
        return Optional.of(new Parsed(jobId, new UUID(nonce.getLong(), nonce.getLong())));
    }

    private byte[] mac(String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret(), "HmacSHA256"));
            return mac.doFinal(("gaffer-callback:" + body).getBytes(StandardCharsets.US_ASCII));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HMAC-SHA256 is part of every JDK", e);
        }
    }

    private byte[] secret() {
        byte[] s = secret;
        if (s == null) {
            s = Sql.query(dataSource, "read the callback token secret", SECRET, ps -> {}, rs -> rs.getBytes(1)).stream()
                    .findFirst()
                    .orElseThrow(() -> new IllegalStateException(
                            "gaffer_secrets has no callback_tokens secret; run the migrations (V026)"));
            secret = s;
        }
        return s;
    }

    private static byte[] bytes(UUID u) {
        return ByteBuffer.allocate(16)
                .putLong(u.getMostSignificantBits())
                .putLong(u.getLeastSignificantBits())
                .array();
    }
}
