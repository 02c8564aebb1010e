package dev.gaffer.cli;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/** Real jars for tests: Java sources compiled with the JDK's compiler, packed with their resources. */
final class TestJars {

    private TestJars() {}

    /**
     * Compiles {@code sources} (class name → source) against the test's class path plus {@code
     * extraClassPath}, and writes them with {@code resources} (path → text) to {@code jar}.
     */
    static Path build(Path jar, Map<String, String> sources, Map<String, String> resources, List<Path> extraClassPath)
            throws IOException {
        Path work = Files.createTempDirectory("gaffer-testjar-");
        Path src = work.resolve("src");
        Path classes = work.resolve("classes");
        Files.createDirectories(classes);
        List<String> args =
                new ArrayList<>(List.of("-d", classes.toString(), "-proc:none", "-cp", classPath(extraClassPath)));
        for (var e : sources.entrySet()) {
            Path file = src.resolve(e.getKey().replace('.', '/') + ".java");
            Files.createDirectories(file.getParent());
            Files.writeString(file, e.getValue());
            args.add(file.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        int status = javac.run(null, null, null, args.toArray(String[]::new));
        if (status != 0) {
            throw new IllegalStateException("compiling " + sources.keySet() + " failed");
        }
        for (var e : resources.entrySet()) {
            Path file = classes.resolve(e.getKey());
            Files.createDirectories(file.getParent());
            Files.writeString(file, e.getValue());
        }
        Files.createDirectories(jar.toAbsolutePath().getParent());
        try (OutputStream out = Files.newOutputStream(jar);
                JarOutputStream jos = new JarOutputStream(out);
                Stream<Path> files = Files.walk(classes)) {
            for (Path f : files.filter(Files::isRegularFile).sorted().toList()) {
                jos.putNextEntry(new JarEntry(classes.relativize(f).toString().replace('\\', '/')));
                jos.write(Files.readAllBytes(f));
                jos.closeEntry();
            }
        }
        return jar;
    }

    /** The text of a {@code META-INF/services} file. */
    static Map.Entry<String, String> service(Class<?> api, String... implementations) {
        return Map.entry("META-INF/services/" + api.getName(), String.join("\n", implementations) + "\n");
    }

    private static String classPath(List<Path> extra) {
        StringBuilder cp = new StringBuilder(System.getProperty("java.class.path"));
        for (Path p : extra) {
            cp.append(java.io.File.pathSeparator).append(p);
        }
        return cp.toString();
    }

    static String utf8(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }
}
