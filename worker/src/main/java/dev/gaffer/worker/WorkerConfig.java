package dev.gaffer.worker;

import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How a worker runs. Built from environment variables by {@link #fromEnvironment(Map)} (flags are
 * laid over the environment by the command); every bad value fails at start with a message that
 * names the variable and says what it should look like.
 */
public record WorkerConfig(
        String name,
        List<String> queues,
        int concurrency,
        Map<String, Integer> queueLimits,
        Duration pollInterval,
        boolean listen,
        Duration heartbeatInterval,
        Duration heartbeatTimeout,
        Duration reclaimInterval,
        Duration shutdownGrace,
        Duration retention,
        Duration auditRetention,
        Duration jobTimeout,
        Duration workerExpiry,
        Duration retryBase,
        Duration retryCap,
        boolean maintenance,
        int prefetch) {

    public static final List<String> DEFAULT_QUEUES = List.of("default");
    public static final int DEFAULT_CONCURRENCY = 16;
    public static final int MAX_CONCURRENCY = 1000;
    public static final Duration DEFAULT_POLL_INTERVAL = Duration.ofSeconds(1);
    public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(2);
    public static final Duration DEFAULT_HEARTBEAT_TIMEOUT = Duration.ofSeconds(15);
    public static final Duration DEFAULT_RECLAIM_INTERVAL = Duration.ofSeconds(2);
    public static final Duration DEFAULT_SHUTDOWN_GRACE = Duration.ofSeconds(30);
    public static final Duration DEFAULT_RETENTION = Duration.ofDays(7);
    /** How long review decisions (job_reviews) are kept after they were made; at least 30 days. */
    public static final Duration DEFAULT_AUDIT_RETENTION = Duration.ofDays(400);

    public static final Duration DEFAULT_JOB_TIMEOUT = Duration.ofHours(1);
    public static final Duration DEFAULT_WORKER_EXPIRY = Duration.ofMinutes(1);
    public static final Duration DEFAULT_RETRY_BASE = Duration.ofSeconds(1);
    public static final Duration DEFAULT_RETRY_CAP = Duration.ofMinutes(10);
    public static final int MAX_PREFETCH = 1000;
    /**
     * Jobs claimed ahead at most, while handlers are short; fewer as they get longer (about 100 ms
     * of work for the slots, see JobRunner.prefetch). Large enough that a claim is a batch of
     * several hundred, where a round's statement costs least per job: 1 000 against 512 (the
     * default until 2026-12-08), interleaved burn-downs, 2 x 32 faster in 4 pairs of 5 and 4 x 16
     * in 5 of 5, with less server CPU per job (docs/benchmarks.md). 2 000 was no faster.
     */
    public static final int DEFAULT_PREFETCH = 1000;

    private static final Pattern QUEUE = Pattern.compile("^[a-z][a-z0-9_.-]{0,62}$");
    private static final Pattern DURATION = Pattern.compile("^(\\d+)(ms|s|m|h|d)$");

    public WorkerConfig {
        Objects.requireNonNull(name, "name");
        queues = List.copyOf(queues);
        queueLimits = Map.copyOf(queueLimits);
        require(
                !name.isBlank() && name.length() <= 100 && !name.contains("/"),
                "GAFFER_WORKER_NAME",
                "must be 1 to 100 characters without '/'",
                name);
        require(!queues.isEmpty(), "GAFFER_QUEUES", "must name at least one queue", "");
        require(
                concurrency >= 1 && concurrency <= MAX_CONCURRENCY,
                "GAFFER_CONCURRENCY",
                "must be a whole number between 1 and " + MAX_CONCURRENCY,
                String.valueOf(concurrency));
        for (var e : queueLimits.entrySet()) {
            require(
                    queues.contains(e.getKey()),
                    "GAFFER_QUEUE_LIMITS",
                    "names queue '" + e.getKey() + "', which is not in GAFFER_QUEUES " + queues,
                    e.getKey());
            require(e.getValue() >= 1, "GAFFER_QUEUE_LIMITS", "limits must be at least 1", e.toString());
        }
        require(positive(pollInterval), "GAFFER_POLL_INTERVAL", "must be positive", String.valueOf(pollInterval));
        require(
                positive(heartbeatInterval),
                "GAFFER_HEARTBEAT_INTERVAL",
                "must be positive",
                String.valueOf(heartbeatInterval));
        require(
                positive(heartbeatTimeout) && heartbeatTimeout.compareTo(heartbeatInterval.multipliedBy(2)) >= 0,
                "GAFFER_HEARTBEAT_TIMEOUT",
                "must be at least twice GAFFER_HEARTBEAT_INTERVAL (" + heartbeatInterval.toMillis() + "ms)",
                String.valueOf(heartbeatTimeout));
        require(
                positive(reclaimInterval),
                "GAFFER_RECLAIM_INTERVAL",
                "must be positive",
                String.valueOf(reclaimInterval));
        require(
                shutdownGrace != null && !shutdownGrace.isNegative(),
                "GAFFER_SHUTDOWN_GRACE",
                "must not be negative",
                String.valueOf(shutdownGrace));
        require(positive(retention), "GAFFER_RETENTION", "must be positive", String.valueOf(retention));
        require(
                auditRetention != null && auditRetention.compareTo(dev.gaffer.job.ReviewTrail.MIN_RETENTION) >= 0,
                "GAFFER_AUDIT_RETENTION",
                "must be at least 30d (the audit trail's trigger keeps every decision that long)",
                String.valueOf(auditRetention));
        require(positive(jobTimeout), "GAFFER_JOB_TIMEOUT", "must be positive", String.valueOf(jobTimeout));
        require(
                positive(workerExpiry) && workerExpiry.compareTo(heartbeatInterval.multipliedBy(2)) >= 0,
                "GAFFER_WORKER_EXPIRY",
                "must be at least twice GAFFER_HEARTBEAT_INTERVAL",
                String.valueOf(workerExpiry));
        require(positive(retryBase), "GAFFER_RETRY_BASE", "must be positive", String.valueOf(retryBase));
        require(
                positive(retryCap) && retryCap.compareTo(retryBase) >= 0,
                "GAFFER_RETRY_CAP",
                "must be at least GAFFER_RETRY_BASE",
                String.valueOf(retryCap));
        require(
                prefetch >= 0 && prefetch <= MAX_PREFETCH,
                "GAFFER_PREFETCH",
                "must be a whole number between 0 and " + MAX_PREFETCH,
                String.valueOf(prefetch));
    }

    /** Defaults for everything; the name is {@link #defaultName()}. */
    public static WorkerConfig defaults() {
        return fromEnvironment(Map.of());
    }

    /**
     * Reads GAFFER_WORKER_NAME, GAFFER_QUEUES, GAFFER_CONCURRENCY, GAFFER_QUEUE_LIMITS,
     * GAFFER_POLL_INTERVAL, GAFFER_LISTEN, GAFFER_HEARTBEAT_INTERVAL, GAFFER_HEARTBEAT_TIMEOUT,
     * GAFFER_RECLAIM_INTERVAL, GAFFER_SHUTDOWN_GRACE, GAFFER_RETENTION, GAFFER_AUDIT_RETENTION, GAFFER_JOB_TIMEOUT,
     * GAFFER_WORKER_EXPIRY, GAFFER_RETRY_BASE, GAFFER_RETRY_CAP, GAFFER_MAINTENANCE and
     * GAFFER_PREFETCH (default: {@link #DEFAULT_PREFETCH}). Unset or blank variables take the defaults.
     * DATABASE_URL is read by the database's own config.
     */
    public static WorkerConfig fromEnvironment(Map<String, String> env) {
        String name = text(env, "GAFFER_WORKER_NAME");
        List<String> queues = queues(env);
        int concurrency = integer(env, "GAFFER_CONCURRENCY", DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY);
        return new WorkerConfig(
                name == null ? defaultName() : name,
                queues,
                concurrency,
                queueLimits(env),
                duration(env, "GAFFER_POLL_INTERVAL", DEFAULT_POLL_INTERVAL),
                bool(env, "GAFFER_LISTEN", true),
                duration(env, "GAFFER_HEARTBEAT_INTERVAL", DEFAULT_HEARTBEAT_INTERVAL),
                duration(env, "GAFFER_HEARTBEAT_TIMEOUT", DEFAULT_HEARTBEAT_TIMEOUT),
                duration(env, "GAFFER_RECLAIM_INTERVAL", DEFAULT_RECLAIM_INTERVAL),
                duration(env, "GAFFER_SHUTDOWN_GRACE", DEFAULT_SHUTDOWN_GRACE),
                duration(env, "GAFFER_RETENTION", DEFAULT_RETENTION),
                duration(env, "GAFFER_AUDIT_RETENTION", DEFAULT_AUDIT_RETENTION),
                duration(env, "GAFFER_JOB_TIMEOUT", DEFAULT_JOB_TIMEOUT),
                duration(env, "GAFFER_WORKER_EXPIRY", DEFAULT_WORKER_EXPIRY),
                duration(env, "GAFFER_RETRY_BASE", DEFAULT_RETRY_BASE),
                duration(env, "GAFFER_RETRY_CAP", DEFAULT_RETRY_CAP),
                bool(env, "GAFFER_MAINTENANCE", true),
                integer(env, "GAFFER_PREFETCH", DEFAULT_PREFETCH, 0, MAX_PREFETCH));
    }

    // ---- copies with one field changed (tests, embedding) -----------------------------------

    public WorkerConfig withName(String n) {
        return with(c -> c.name = n);
    }

    public WorkerConfig withQueues(List<String> q, Map<String, Integer> limits) {
        return with(c -> {
            c.queues = q;
            c.queueLimits = limits;
        });
    }

    public WorkerConfig withConcurrency(int n) {
        return with(c -> c.concurrency = n);
    }

    public WorkerConfig withPolling(Duration interval, boolean useListen) {
        return with(c -> {
            c.pollInterval = interval;
            c.listen = useListen;
        });
    }

    public WorkerConfig withHeartbeat(Duration interval, Duration timeout) {
        return with(c -> {
            c.heartbeatInterval = interval;
            c.heartbeatTimeout = timeout;
        });
    }

    public WorkerConfig withMaintenance(boolean enabled, Duration reclaim) {
        return with(c -> {
            c.maintenance = enabled;
            c.reclaimInterval = reclaim;
        });
    }

    public WorkerConfig withRetry(Duration base, Duration cap) {
        return with(c -> {
            c.retryBase = base;
            c.retryCap = cap;
        });
    }

    public WorkerConfig withJobTimeout(Duration timeout) {
        return with(c -> c.jobTimeout = timeout);
    }

    public WorkerConfig withShutdownGrace(Duration grace) {
        return with(c -> c.shutdownGrace = grace);
    }

    /** How many claimed jobs may wait for a free slot in this process (0: claim only for free slots). */
    public WorkerConfig withPrefetch(int n) {
        return with(c -> c.prefetch = n);
    }

    /** A copy with some fields changed, validated again by the canonical constructor. */
    private WorkerConfig with(java.util.function.Consumer<Copy> change) {
        Copy c = new Copy(this);
        change.accept(c);
        return c.build();
    }

    /** The fields of a config being copied; only {@link #with} uses it. */
    private static final class Copy {
        String name;
        List<String> queues;
        int concurrency;
        Map<String, Integer> queueLimits;
        Duration pollInterval;
        boolean listen;
        Duration heartbeatInterval;
        Duration heartbeatTimeout;
        Duration reclaimInterval;
        Duration shutdownGrace;
        Duration retention;
        Duration auditRetention;
        Duration jobTimeout;
        Duration workerExpiry;
        Duration retryBase;
        Duration retryCap;
        boolean maintenance;
        int prefetch;

        Copy(WorkerConfig w) {
            name = w.name;
            queues = w.queues;
            concurrency = w.concurrency;
            queueLimits = w.queueLimits;
            pollInterval = w.pollInterval;
            listen = w.listen;
            heartbeatInterval = w.heartbeatInterval;
            heartbeatTimeout = w.heartbeatTimeout;
            reclaimInterval = w.reclaimInterval;
            shutdownGrace = w.shutdownGrace;
            retention = w.retention;
            auditRetention = w.auditRetention;
            jobTimeout = w.jobTimeout;
            workerExpiry = w.workerExpiry;
            retryBase = w.retryBase;
            retryCap = w.retryCap;
            maintenance = w.maintenance;
            prefetch = w.prefetch;
        }

        WorkerConfig build() {
            return new WorkerConfig(
                    name,
                    queues,
                    concurrency,
                    queueLimits,
                    pollInterval,
                    listen,
                    heartbeatInterval,
                    heartbeatTimeout,
                    reclaimInterval,
                    shutdownGrace,
                    retention,
                    auditRetention,
                    jobTimeout,
                    workerExpiry,
                    retryBase,
                    retryCap,
                    maintenance,
                    prefetch);
        }
    }

    /** Parses {@code 500ms}, {@code 2s}, {@code 5m}, {@code 1h}, {@code 7d}. */
    public static Duration parseDuration(String variable, String text) {
        Matcher m = DURATION.matcher(text.strip().toLowerCase(Locale.ROOT));
        if (!m.matches()) {
            throw new IllegalArgumentException(
                    variable + " must be a duration such as 500ms, 2s, 5m, 1h or 7d, got '" + text + "'");
        }
        long n;
        try {
            n = Long.parseLong(m.group(1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(variable + " is too large, got '" + text + "'");
        }
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }

    private static String text(Map<String, String> env, String variable) {
        String v = env.get(variable);
        return v == null || v.isBlank() ? null : v.strip();
    }

    private static Duration duration(Map<String, String> env, String variable, Duration dflt) {
        String v = text(env, variable);
        return v == null ? dflt : parseDuration(variable, v);
    }

    private static int integer(Map<String, String> env, String variable, int dflt, int min, int max) {
        String v = text(env, variable);
        if (v == null) {
            return dflt;
        }
        try {
            int n = Integer.parseInt(v);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // reported below with the accepted range
        }
        throw new IllegalArgumentException(
                variable + " must be a whole number between " + min + " and " + max + ", got '" + v + "'");
    }

    private static boolean bool(Map<String, String> env, String variable, boolean dflt) {
        String v = text(env, variable);
        if (v == null) {
            return dflt;
        }
        return switch (v.toLowerCase(Locale.ROOT)) {
            case "true", "yes", "1", "on" -> true;
            case "false", "no", "0", "off" -> false;
            default -> throw new IllegalArgumentException(variable + " must be true or false, got '" + v + "'");
        };
    }

    private static List<String> queues(Map<String, String> env) {
        String v = text(env, "GAFFER_QUEUES");
        if (v == null) {
            return DEFAULT_QUEUES;
        }
        List<String> out = new ArrayList<>();
        for (String q : v.split(",")) {
            String queue = q.strip();
            if (!QUEUE.matcher(queue).matches()) {
                throw new IllegalArgumentException("GAFFER_QUEUES must be a comma-separated list of queue names "
                        + "(lower-case letter first, then a-z 0-9 _ . -), got '" + v + "'");
            }
            if (!out.contains(queue)) {
                out.add(queue);
            }
        }
        return out;
    }

    private static Map<String, Integer> queueLimits(Map<String, String> env) {
        String v = text(env, "GAFFER_QUEUE_LIMITS");
        Map<String, Integer> out = new LinkedHashMap<>();
        if (v == null) {
            return out;
        }
        for (String part : v.split(",")) {
            String[] kv = part.strip().split("=", 2);
            try {
                if (kv.length == 2 && QUEUE.matcher(kv[0].strip()).matches()) {
                    out.put(kv[0].strip(), Integer.parseInt(kv[1].strip()));
                    continue;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(
                    "GAFFER_QUEUE_LIMITS must look like 'video=2,default=8', got '" + v + "'");
        }
        return out;
    }

    private static boolean positive(Duration d) {
        return d != null && !d.isNegative() && !d.isZero();
    }

    private static void require(boolean ok, String variable, String rule, String got) {
        if (!ok) {
            throw new IllegalArgumentException(variable + " " + rule + ", got '" + got + "'");
        }
    }

    /**
     * The default worker name, {@code <host>-<pid>}: unique per process, so that two workers
     * started on one host never take each other for a restarted predecessor. The host part is cut
     * to keep the name within its 100 characters.
     */
    public static String defaultName() {
        String pid = Long.toString(ProcessHandle.current().pid());
        String host = hostName().replace('/', '-');
        return host.substring(0, Math.min(host.length(), 100 - 1 - pid.length())) + "-" + pid;
    }

    /** This machine's name as workers record it: $HOSTNAME (set in containers), else the resolver's. */
    static String hostName() {
        String h = System.getenv("HOSTNAME");
        if (h != null && !h.isBlank()) {
            return h.strip();
        }
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (Exception e) {
            return "worker";
        }
    }
}
