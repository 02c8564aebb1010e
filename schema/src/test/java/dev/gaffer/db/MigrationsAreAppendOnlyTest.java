package dev.gaffer.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Migrations are append-only: each landed migration's Flyway checksum, as Flyway computed it while
 * migrating a fresh database, must equal the one committed in {@code
 * schema/src/test/resources/db/migration-checksums.txt}. An edit of a landed migration fails here
 * (put the change in a new migration); a new migration fails until its line is added.
 */
class MigrationsAreAppendOnlyTest {

    static final Path CHECKSUMS = Path.of("src", "test", "resources", "db", "migration-checksums.txt");

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("migration_checksums");

    @Test
    void everyMigrationHasTheChecksumItLandedWith() throws Exception {
        Map<String, Integer> committed = new LinkedHashMap<>();
        for (String line : Files.readAllLines(CHECKSUMS)) {
            if (!line.isBlank() && !line.startsWith("#")) {
                String[] parts = line.strip().split("\\s+");
                committed.put(parts[0], Integer.parseInt(parts[1]));
            }
        }
        Map<String, Integer> applied = new LinkedHashMap<>();
        try (Connection c = db.database().connection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery(
                        "SELECT script, checksum FROM flyway_schema_history WHERE success ORDER BY installed_rank")) {
            while (rs.next()) {
                applied.put(rs.getString("script"), rs.getInt("checksum"));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        assertThat(applied).as("migrations applied to a fresh database").isNotEmpty();
        StringBuilder missing = new StringBuilder();
        applied.forEach((script, checksum) -> {
            if (!committed.containsKey(script)) {
                missing.append(script).append(' ').append(checksum).append('\n');
            }
        });
        assertThat(missing.toString())
                .as("migrations without a committed checksum: add these lines to " + CHECKSUMS)
                .isEmpty();
        for (var e : committed.entrySet()) {
            assertThat(applied.get(e.getKey()))
                    .as(e.getKey() + " was edited after it landed (or removed): put the change in a new migration")
                    .isEqualTo(e.getValue());
        }
    }
}
