package dev.gaffer.cli;

import dev.gaffer.job.JobTypeValidator;
import dev.gaffer.worker.JobHandler;
import dev.gaffer.worker.JobHandlerProvider;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Users' job types from a folder ({@code GAFFER_HANDLERS}, {@code --handlers}), for the stock
 * launcher and image, which run {@code java -jar} and so ignore any class path. Each jar directly
 * in the folder is one handler (its dependencies shaded in), and each sub-folder is one handler
 * with its dependencies as jars beside it. Each gets a class loader of its own, whose parent is
 * Gaffer's: the handler API and Jackson are Gaffer's, everything else is the handler's.
 *
 * <p>A handler declares its job types with {@link JobHandlerProvider}s and may declare validators
 * ({@link JobTypeValidator}) for them, both in {@code META-INF/services}. Workers run the handlers;
 * the API loads the same folder for the types it accepts and their validators, so a new type
 * needs no second setting. Refused at start, naming the jar: a handler without a provider, a type
 * with two handlers (here or on Gaffer's class path), a validator for a type that its handler does
 * not run.
 */
final class HandlerJars {

    private static final Logger log = LoggerFactory.getLogger(HandlerJars.class);

    /** One handler of the folder: where it came from, and what it declares. */
    record Loaded(String source, Map<String, JobHandler> handlers, List<JobTypeValidator> validators) {}

    private HandlerJars() {}

    /** The handlers of the folder GAFFER_HANDLERS names; none when it is unset. */
    static List<Loaded> fromSettings(Map<String, String> settings) {
        String folder = settings.get("GAFFER_HANDLERS");
        if (folder == null || folder.isBlank()) {
            return List.of();
        }
        return load(Path.of(folder.strip()), HandlerJars.class.getClassLoader());
    }

    /** The types the API accepts by default: those its validators and the handler jars declare. */
    static java.util.Set<String> acceptedTypes(dev.gaffer.job.JobTypeValidators validators, List<Loaded> loaded) {
        java.util.Set<String> types = new TreeSet<>(validators.types());
        types.addAll(handlers(loaded).keySet());
        return types;
    }

    /** The handlers of {@code folder}; an empty folder has none. */
    static List<Loaded> load(Path folder, ClassLoader parent) {
        if (!Files.isDirectory(folder)) {
            throw new IllegalArgumentException("GAFFER_HANDLERS must be a folder of handler jars, got '" + folder
                    + "' (" + (Files.exists(folder) ? "not a folder" : "no such folder") + ")");
        }
        List<Loaded> loaded = new ArrayList<>();
        Map<String, String> owner = new TreeMap<>();
        for (Path entry : list(folder)) {
            List<Path> jars;
            if (Files.isDirectory(entry)) {
                jars = list(entry).stream().filter(HandlerJars::isJar).toList();
                if (jars.isEmpty()) {
                    throw new IllegalArgumentException("handler folder " + entry + " holds no jar");
                }
            } else if (isJar(entry)) {
                jars = List.of(entry);
            } else {
                continue;
            }
            Loaded one = loadOne(folder.relativize(entry).toString(), jars, parent);
            for (String type : one.handlers().keySet()) {
                String before = owner.putIfAbsent(type, one.source());
                if (before != null) {
                    throw new IllegalArgumentException("two handlers for job type '" + type + "': " + before + " and "
                            + one.source() + " (in " + folder + ")");
                }
            }
            log.info(
                    "handlers from {}: {}",
                    one.source(),
                    new TreeSet<>(one.handlers().keySet()));
            loaded.add(one);
        }
        return List.copyOf(loaded);
    }

    /** Every handler of {@code loaded}, by type. */
    static Map<String, JobHandler> handlers(List<Loaded> loaded) {
        Map<String, JobHandler> all = new LinkedHashMap<>();
        loaded.forEach(l -> all.putAll(l.handlers()));
        return all;
    }

    /** Every validator of {@code loaded}. */
    static List<JobTypeValidator> validators(List<Loaded> loaded) {
        return loaded.stream().flatMap(l -> l.validators().stream()).toList();
    }

    private static Loaded loadOne(String source, List<Path> jars, ClassLoader parent) {
        URL[] urls = jars.stream().map(HandlerJars::url).toArray(URL[]::new);
        // Never closed: the handlers' classes live as long as the process.
        URLClassLoader loader = new URLClassLoader("handler " + source, urls, parent);
        Map<String, JobHandler> handlers = new TreeMap<>();
        for (JobHandlerProvider p : own(ServiceLoader.load(JobHandlerProvider.class, loader), loader, source)) {
            Map<String, JobHandler> declared;
            try {
                declared = p.handlers();
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(
                        "handler " + source + ": " + p.getClass().getName() + ".handlers() failed: " + e, e);
            }
            declared.forEach((type, handler) -> {
                if (handler == null) {
                    throw new IllegalArgumentException(
                            "handler " + source + ": " + p.getClass().getName() + " has no handler for '" + type + "'");
                }
                if (handlers.putIfAbsent(type, handler) != null) {
                    throw new IllegalArgumentException("handler " + source + " declares job type '" + type + "' twice");
                }
            });
        }
        if (handlers.isEmpty()) {
            throw new IllegalArgumentException("handler " + source + " declares no job type: it needs a"
                    + " META-INF/services/" + JobHandlerProvider.class.getName()
                    + " naming a class that implements it, with a handler for at least one type");
        }
        List<JobTypeValidator> validators = own(ServiceLoader.load(JobTypeValidator.class, loader), loader, source);
        for (JobTypeValidator v : validators) {
            for (String type : v.types()) {
                if (!handlers.containsKey(type)) {
                    throw new IllegalArgumentException(
                            "handler " + source + ": validator " + v.getClass().getName()
                                    + " checks job type '" + type + "', which its handlers do not run (they run "
                                    + handlers.keySet() + ")");
                }
            }
        }
        return new Loaded(source, Map.copyOf(handlers), validators);
    }

    /**
     * The services that {@code loader} itself defines. ServiceLoader also finds those of the parent
     * (Gaffer's built-ins), which are not this handler's.
     */
    private static <S> List<S> own(ServiceLoader<S> services, ClassLoader loader, String source) {
        List<S> own = new ArrayList<>();
        try {
            services.stream().filter(p -> p.type().getClassLoader() == loader).forEach(p -> own.add(p.get()));
        } catch (java.util.ServiceConfigurationError e) {
            throw new IllegalArgumentException("handler " + source + ": " + e.getMessage(), e);
        }
        return own;
    }

    private static boolean isJar(Path p) {
        return Files.isRegularFile(p) && p.getFileName().toString().endsWith(".jar");
    }

    private static List<Path> list(Path folder) {
        try (Stream<Path> s = Files.list(folder)) {
            return s.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + folder, e);
        }
    }

    private static URL url(Path jar) {
        try {
            return jar.toUri().toURL();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("not a jar path: " + jar, e);
        }
    }
}
