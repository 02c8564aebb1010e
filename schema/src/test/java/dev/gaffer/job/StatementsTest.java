package dev.gaffer.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.artifact.ArtifactStore;
import dev.gaffer.auth.ApiKeyStore;
import dev.gaffer.db.WorkerStore;
import java.io.IOException;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Every SQL statement of the stores, as PostgreSQL receives it (its fragments spliced in), is
 * committed as a file of its own: {@code schema/src/test/resources/sql/<Class>.<CONSTANT>.sql}. A
 * reviewer or a DBA reads a transition's whole statement there, and a change to a statement shows
 * in review as a change of its file: this test fails when the text and the file differ. After a
 * deliberate change, write the files anew with {@code ./mvnw -pl schema test -Dtest=StatementsTest
 * -Dgaffer.sql.write=true} and commit them with it.
 */
class StatementsTest {

    static final Path DIR = Path.of("src", "test", "resources", "sql");

    static final List<Class<?>> STORES = List.of(
            CreateCall.class,
            JobRequests.class,
            LeaseStore.class,
            OutcomeStore.class,
            ReclaimStore.class,
            ReviewTrail.class,
            JobQueries.class,
            WorkerStore.class,
            ApiKeyStore.class,
            ArtifactStore.class,
            PreviewStore.class,
            CallbackStore.class,
            CallbackTokens.class);

    /**
     * The statements: every static final String constant of a store that is a whole statement
     * (templates and fragments are methods or start otherwise).
     */
    static Map<String, String> statements() throws IllegalAccessException {
        Map<String, String> out = new TreeMap<>();
        for (Class<?> store : STORES) {
            for (Field f : store.getDeclaredFields()) {
                int m = f.getModifiers();
                if (!Modifier.isStatic(m) || !Modifier.isFinal(m) || f.getType() != String.class) {
                    continue;
                }
                f.setAccessible(true);
                String text = (String) f.get(null);
                String head = text.strip().split("\\s+", 2)[0].toUpperCase(Locale.ROOT);
                if (List.of("WITH", "SELECT", "INSERT", "UPDATE", "DELETE").contains(head)) {
                    out.put(store.getSimpleName() + "." + f.getName() + ".sql", text.strip() + "\n");
                }
            }
        }
        return out;
    }

    @Test
    void everyStatementIsCommittedAsTheTextPostgresReceives() throws Exception {
        Map<String, String> statements = statements();
        assertThat(statements).hasSizeGreaterThan(30);
        if (Boolean.getBoolean("gaffer.sql.write")) {
            write(statements);
        }
        List<String> differ = new ArrayList<>();
        for (var e : statements.entrySet()) {
            Path file = DIR.resolve(e.getKey());
            if (!Files.exists(file)
                    || !Files.readString(file, StandardCharsets.UTF_8).equals(e.getValue())) {
                differ.add(e.getKey());
            }
        }
        List<String> stale;
        try (Stream<Path> files = Files.list(DIR)) {
            stale = files.map(p -> p.getFileName().toString())
                    .filter(n -> n.endsWith(".sql") && !statements.containsKey(n))
                    .sorted()
                    .toList();
        }
        assertThat(differ)
                .as("statements whose committed file is missing or differs; write them with -Dgaffer.sql.write=true")
                .isEmpty();
        assertThat(stale).as("files of statements that no longer exist").isEmpty();
    }

    private static void write(Map<String, String> statements) throws IOException {
        Files.createDirectories(DIR);
        try (Stream<Path> files = Files.list(DIR)) {
            for (Path p : files.filter(p -> p.toString().endsWith(".sql")).toList()) {
                Files.delete(p);
            }
        }
        for (var e : statements.entrySet()) {
            Files.writeString(DIR.resolve(e.getKey()), e.getValue(), StandardCharsets.UTF_8);
        }
    }
}
