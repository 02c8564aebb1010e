package dev.gaffer.worker;

import java.util.Map;
import java.util.Objects;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/** Job type → handler. Filled programmatically and/or from {@link JobHandlerProvider}s on the class path. */
public final class HandlerRegistry {

    private static final Pattern TYPE = Pattern.compile("^[a-z][a-z0-9_.-]{0,62}$");

    private final Map<String, JobHandler> handlers = new ConcurrentHashMap<>();
    private final Map<String, PreviewHandler> previews = new ConcurrentHashMap<>();
    // The sorted types, computed again only after a change: the claim loop asks every round.
    private volatile Set<String> types;

    /** An empty registry. */
    public HandlerRegistry() {}

    /** A registry with every provider found by {@link ServiceLoader} (the built-ins included). */
    public static HandlerRegistry discover() {
        return new HandlerRegistry().discover(Thread.currentThread().getContextClassLoader());
    }

    public HandlerRegistry discover(ClassLoader loader) {
        for (JobHandlerProvider p : ServiceLoader.load(JobHandlerProvider.class, loader)) {
            p.handlers().forEach(this::register);
        }
        return this;
    }

    /** Registers {@code handler} for {@code type}; a type can have one handler only. */
    public synchronized HandlerRegistry register(String type, JobHandler handler) {
        if (type == null || !TYPE.matcher(type).matches()) {
            throw new IllegalArgumentException("job type must look like a job's type column, got '" + type + "'");
        }
        Objects.requireNonNull(handler, "handler");
        JobHandler before = handlers.putIfAbsent(type, handler);
        types = null;
        if (before != null && before != handler) {
            throw new IllegalArgumentException("two handlers for job type '" + type + "': "
                    + before.getClass().getName() + " and " + handler.getClass().getName());
        }
        return this;
    }

    /** Replaces whatever handles {@code type} (tests, overriding a built-in). */
    public synchronized HandlerRegistry replace(String type, JobHandler handler) {
        handlers.remove(type);
        types = null;
        return register(type, handler);
    }

    /** Registers the preview of {@code type}'s pending jobs; a type can have one only. */
    public synchronized HandlerRegistry registerPreview(String type, PreviewHandler preview) {
        if (type == null || !TYPE.matcher(type).matches()) {
            throw new IllegalArgumentException("job type must look like a job's type column, got '" + type + "'");
        }
        Objects.requireNonNull(preview, "preview");
        PreviewHandler before = previews.putIfAbsent(type, preview);
        if (before != null && before != preview) {
            throw new IllegalArgumentException("two previews for job type '" + type + "'");
        }
        return this;
    }

    public PreviewHandler preview(String type) {
        return previews.get(type);
    }

    /** The types with a preview, sorted. */
    public Set<String> previewTypes() {
        return java.util.Collections.unmodifiableSet(new java.util.TreeSet<>(previews.keySet()));
    }

    public JobHandler get(String type) {
        return handlers.get(type);
    }

    /** The registered types, sorted. */
    public Set<String> types() {
        Set<String> t = types;
        if (t != null) {
            return t;
        }
        synchronized (this) {
            if (types == null) {
                types = java.util.Collections.unmodifiableSet(new java.util.TreeSet<>(handlers.keySet()));
            }
            return types;
        }
    }
}
