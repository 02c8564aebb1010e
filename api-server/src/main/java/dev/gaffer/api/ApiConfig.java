package dev.gaffer.api;

import dev.gaffer.job.JobTypeValidator;
import dev.gaffer.job.JobTypeValidators;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The API server's settings, read from environment variables (flags are laid over them by the
 * CLI). Every bad value fails at start-up with the variable's name and the expected shape.
 *
 * @param jobTypes the job types a client may create (GAFFER_JOB_TYPES); by default those that a
 *     {@link JobTypeValidator} on the class path declares ({@link #defaultJobTypes()}). The API
 *     knows no job type of its own and cannot see which handlers the workers have.
 * @param metricsAuth whether {@code /metrics} needs a key with the read role (GAFFER_METRICS_AUTH)
 * @param metricsHost where {@code /metrics} listens when it has a port of its own (GAFFER_METRICS_HOST)
 * @param metricsPort a port of its own for {@code /metrics}, which then leaves the API's port
 *     (GAFFER_METRICS_PORT); null: served on the API's port
 */
public record ApiConfig(
        String host,
        int port,
        boolean auth,
        boolean dev,
        long maxBodyBytes,
        Set<String> jobTypes,
        int defaultMaxAttempts,
        boolean metricsAuth,
        String metricsHost,
        Integer metricsPort) {

    public static final int DEFAULT_PORT = 4000;
    public static final String DEFAULT_HOST = "0.0.0.0";
    public static final String DEV_HOST = "127.0.0.1";
    public static final long DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
    public static final int DEFAULT_MAX_ATTEMPTS = 3;

    private static final Pattern TYPE = Pattern.compile("^[a-z][a-z0-9_.-]{0,62}$");

    public ApiConfig {
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("GAFFER_API_PORT must be between 0 and 65535, got " + port);
        }
        if (host == null || host.isBlank()) {
            throw new IllegalArgumentException("GAFFER_API_HOST must be a host name or address, got ''");
        }
        if (maxBodyBytes < 1024 || maxBodyBytes > 64L * 1024 * 1024) {
            throw new IllegalArgumentException(
                    "GAFFER_MAX_BODY_BYTES must be between 1024 and 67108864, got " + maxBodyBytes);
        }
        jobTypes = Set.copyOf(jobTypes);
        if (jobTypes.isEmpty()) {
            throw new IllegalArgumentException("GAFFER_JOB_TYPES must list at least one job type, e.g. noop,video");
        }
        for (String t : jobTypes) {
            if (!TYPE.matcher(t).matches()) {
                throw new IllegalArgumentException("GAFFER_JOB_TYPES has an invalid type '" + t
                        + "'; a type starts with a lower-case letter and contains only a-z, 0-9, '_', '.', '-'");
            }
        }
        if (defaultMaxAttempts < 1 || defaultMaxAttempts > 1000) {
            throw new IllegalArgumentException(
                    "GAFFER_DEFAULT_MAX_ATTEMPTS must be between 1 and 1000, got " + defaultMaxAttempts);
        }
        metricsHost = metricsHost == null || metricsHost.isBlank() ? host : metricsHost;
        if (metricsPort != null && (metricsPort < 0 || metricsPort > 65535)) {
            throw new IllegalArgumentException("GAFFER_METRICS_PORT must be between 0 and 65535, got " + metricsPort);
        }
        if (metricsPort != null && metricsPort != 0 && metricsPort == port) {
            throw new IllegalArgumentException("GAFFER_METRICS_PORT must differ from GAFFER_API_PORT (" + port
                    + "); leave it unset to serve /metrics on the API's port");
        }
    }

    /** The settings of earlier versions: /metrics public, on the API's port. */
    public ApiConfig(
            String host,
            int port,
            boolean auth,
            boolean dev,
            long maxBodyBytes,
            Set<String> jobTypes,
            int defaultMaxAttempts) {
        this(host, port, auth, dev, maxBodyBytes, jobTypes, defaultMaxAttempts, false, null, null);
    }

    /** Settings for tests and embedding: auth on, defaults otherwise, a random port. */
    public static ApiConfig defaults() {
        return new ApiConfig(DEV_HOST, 0, true, false, DEFAULT_MAX_BODY_BYTES, defaultJobTypes(), DEFAULT_MAX_ATTEMPTS);
    }

    /**
     * The job types that a {@link JobTypeValidator} on the class path declares: in the gaffer jar
     * the built-in ones ({@code noop}, {@code sleep}) and the reference video pipeline's. A jar of
     * handlers that also declares a validator adds its types.
     */
    public static Set<String> defaultJobTypes() {
        Set<String> types = JobTypeValidators.discover().types();
        if (types.isEmpty()) {
            throw new IllegalArgumentException("no job type is declared on the class path (no"
                    + " META-INF/services/dev.gaffer.job.JobTypeValidator); set GAFFER_JOB_TYPES, e.g. noop,video");
        }
        return types;
    }

    /**
     * Reads GAFFER_API_HOST, GAFFER_API_PORT, GAFFER_AUTH, GAFFER_DEV, GAFFER_MAX_BODY_BYTES,
     * GAFFER_JOB_TYPES, GAFFER_DEFAULT_MAX_ATTEMPTS, GAFFER_METRICS_AUTH, GAFFER_METRICS_HOST and
     * GAFFER_METRICS_PORT. In dev mode the host defaults to loopback and auth to off; {@link
     * #requireSafe()} then decides whether the result may start.
     */
    public static ApiConfig fromEnvironment(Map<String, String> env) {
        return fromEnvironment(env, null);
    }

    /**
     * As {@link #fromEnvironment(Map)}, accepting {@code defaultTypes} when GAFFER_JOB_TYPES is
     * unset (null: {@link #defaultJobTypes()}): those of the handler jars the API loaded as well.
     */
    public static ApiConfig fromEnvironment(Map<String, String> env, Set<String> defaultTypes) {
        boolean dev = bool(env, "GAFFER_DEV", false);
        String host = text(env, "GAFFER_API_HOST", dev ? DEV_HOST : DEFAULT_HOST);
        int port = (int) number(env, "GAFFER_API_PORT", DEFAULT_PORT, "a port number between 0 and 65535");
        boolean auth = bool(env, "GAFFER_AUTH", !dev);
        long maxBody = number(env, "GAFFER_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES, "a size in bytes, e.g. 1048576");
        Set<String> types = null;
        String typesText = env.get("GAFFER_JOB_TYPES");
        if (typesText != null && !typesText.isBlank()) {
            types = new LinkedHashSet<>();
            for (String t : Arrays.asList(typesText.split(","))) {
                if (!t.isBlank()) {
                    types.add(t.strip());
                }
            }
        }
        if (types == null) {
            types = defaultTypes != null ? defaultTypes : defaultJobTypes();
        }
        int attempts =
                (int) number(env, "GAFFER_DEFAULT_MAX_ATTEMPTS", DEFAULT_MAX_ATTEMPTS, "a whole number from 1 to 1000");
        boolean metricsAuth = bool(env, "GAFFER_METRICS_AUTH", false);
        String metricsHost = text(env, "GAFFER_METRICS_HOST", host);
        String metricsPortText = env.get("GAFFER_METRICS_PORT");
        Integer metricsPort = metricsPortText == null || metricsPortText.isBlank()
                ? null
                : (int) number(env, "GAFFER_METRICS_PORT", 0, "a port number between 0 and 65535");
        return new ApiConfig(host, port, auth, dev, maxBody, types, attempts, metricsAuth, metricsHost, metricsPort);
    }

    /**
     * Refuses a server without authentication unless it is explicitly a dev server on loopback:
     * an open API on a reachable interface lets anyone approve and cancel jobs.
     */
    public ApiConfig requireSafe() {
        if (!auth && !(dev && isLoopback(host))) {
            throw new IllegalArgumentException("refusing to start with GAFFER_AUTH=false: running without API keys is"
                    + " allowed only in dev mode (--dev or GAFFER_DEV=true) on a loopback address"
                    + " (GAFFER_API_HOST=127.0.0.1, ::1 or localhost); got dev=" + dev + ", GAFFER_API_HOST=" + host
                    + ". Create a key with: gaffer keys create --name NAME --role admin");
        }
        return this;
    }

    public ApiConfig withPort(int p) {
        return new ApiConfig(
                host, p, auth, dev, maxBodyBytes, jobTypes, defaultMaxAttempts, metricsAuth, metricsHost, metricsPort);
    }

    public ApiConfig withAuth(boolean a) {
        return new ApiConfig(
                host, port, a, dev, maxBodyBytes, jobTypes, defaultMaxAttempts, metricsAuth, metricsHost, metricsPort);
    }

    /** The job types a client may create (GAFFER_JOB_TYPES). */
    public ApiConfig withJobTypes(Set<String> types) {
        return new ApiConfig(
                host, port, auth, dev, maxBodyBytes, types, defaultMaxAttempts, metricsAuth, metricsHost, metricsPort);
    }

    public ApiConfig withMaxBodyBytes(long m) {
        return new ApiConfig(
                host, port, auth, dev, m, jobTypes, defaultMaxAttempts, metricsAuth, metricsHost, metricsPort);
    }

    public ApiConfig withMetrics(boolean needsKey, String onHost, Integer onPort) {
        return new ApiConfig(
                host, port, auth, dev, maxBodyBytes, jobTypes, defaultMaxAttempts, needsKey, onHost, onPort);
    }

    static boolean isLoopback(String host) {
        if (host.equals("localhost")) {
            return true;
        }
        // Only literal addresses are judged: a name could resolve differently later.
        if (!host.matches("[0-9.]+|[0-9a-fA-F:]+|\\[[0-9a-fA-F:]+]")) {
            return false;
        }
        try {
            return InetAddress.getByName(host.replace("[", "").replace("]", "")).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }

    private static String text(Map<String, String> env, String name, String fallback) {
        String v = env.get(name);
        return v == null || v.isBlank() ? fallback : v.strip();
    }

    private static boolean bool(Map<String, String> env, String name, boolean fallback) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        return switch (v.strip().toLowerCase(java.util.Locale.ROOT)) {
            case "true", "1", "yes", "on" -> true;
            case "false", "0", "no", "off" -> false;
            default -> throw new IllegalArgumentException(name + " must be true or false, got '" + v + "'");
        };
    }

    private static long number(Map<String, String> env, String name, long fallback, String shape) {
        String v = env.get(name);
        if (v == null || v.isBlank()) {
            return fallback;
        }
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be " + shape + ", got '" + v + "'");
        }
    }
}
