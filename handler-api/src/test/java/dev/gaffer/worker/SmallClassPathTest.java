package dev.gaffer.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A handler jar compiles against this module alone, so it must stay small: none of the server's
 * libraries may reach its class path through a dependency.
 */
class SmallClassPathTest {

    @Test
    void noServerLibraryIsOnTheClassPath() {
        List<String> serverClasses = List.of(
                "org.flywaydb.core.Flyway",
                "io.javalin.Javalin",
                "com.zaxxer.hikari.HikariDataSource",
                "com.github.kagkarlsson.scheduler.Scheduler",
                "org.postgresql.Driver",
                "dev.gaffer.db.Database");
        for (String name : serverClasses) {
            assertThat(loadable(name)).as(name).isFalse();
        }
        assertThat(loadable("com.fasterxml.jackson.databind.JsonNode")).isTrue();
    }

    private static boolean loadable(String name) {
        try {
            Class.forName(name, false, SmallClassPathTest.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
