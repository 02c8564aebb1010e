package dev.gaffer.db;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * A PostgreSQL location as JDBC needs it. {@code DATABASE_URL} comes in two spellings: the one
 * every hosting platform hands out ({@code postgres://user:pass@host:5432/db?sslmode=require}) and
 * pgjdbc's own ({@code jdbc:postgresql://host:5432/db?user=u&password=p}). Both end up here.
 */
public record DatabaseUrl(String jdbcUrl, String user, String password) {

    static final String EXPECTED_SHAPE =
            "postgres://user:password@host:5432/dbname or jdbc:postgresql://host:5432/dbname";

    public DatabaseUrl {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    }

    /**
     * Parses either spelling. The message of the exception names the variable and the expected
     * shape but never echoes the value, which may hold a password.
     */
    public static DatabaseUrl parse(String variable, String value) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(variable + " is not set; expected " + EXPECTED_SHAPE);
        }
        String url = value.strip();
        if (url.startsWith("jdbc:postgresql:")) {
            return new DatabaseUrl(url, null, null);
        }
        if (!url.startsWith("postgres://") && !url.startsWith("postgresql://")) {
            throw new IllegalArgumentException(variable + " has an unknown scheme; expected " + EXPECTED_SHAPE);
        }
        URI uri;
        try {
            uri = new URI(url);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException(
                    variable + " is not a valid URL (" + e.getReason() + "); expected " + EXPECTED_SHAPE);
        }
        if (uri.getHost() == null || uri.getHost().isEmpty()) {
            throw new IllegalArgumentException(variable + " has no host; expected " + EXPECTED_SHAPE);
        }
        String path = uri.getRawPath();
        if (path == null || path.length() <= 1) {
            throw new IllegalArgumentException(variable + " has no database name; expected " + EXPECTED_SHAPE);
        }
        String user = null;
        String password = null;
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null && !userInfo.isEmpty()) {
            int colon = userInfo.indexOf(':');
            user = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
            password = colon < 0 ? null : decode(userInfo.substring(colon + 1));
        }
        String host = uri.getHost().contains(":") && !uri.getHost().startsWith("[")
                ? "[" + uri.getHost() + "]"
                : uri.getHost();
        StringBuilder jdbc = new StringBuilder("jdbc:postgresql://").append(host);
        if (uri.getPort() > 0) {
            jdbc.append(':').append(uri.getPort());
        }
        jdbc.append(path);
        if (uri.getRawQuery() != null && !uri.getRawQuery().isEmpty()) {
            jdbc.append('?').append(uri.getRawQuery());
        }
        return new DatabaseUrl(jdbc.toString(), user, password);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "DatabaseUrl[" + jdbcUrl.replaceAll("password=[^&]*", "password=***") + ", user=" + user + "]";
    }
}
