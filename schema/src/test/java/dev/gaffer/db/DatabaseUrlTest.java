package dev.gaffer.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import org.junit.jupiter.api.Test;

class DatabaseUrlTest {

    @Test
    void postgresUrlBecomesJdbcWithDecodedCredentials() {
        DatabaseUrl u = DatabaseUrl.parse(
                "DATABASE_URL", "postgres://gaffer:p%40ss%3Aword@db.example:6543/jobs?sslmode=require");
        assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example:6543/jobs?sslmode=require");
        assertThat(u.user()).isEqualTo("gaffer");
        assertThat(u.password()).isEqualTo("p@ss:word");
    }

    @Test
    void postgresqlSchemeWithoutPortOrPasswordIsAccepted() {
        DatabaseUrl u = DatabaseUrl.parse("DATABASE_URL", "postgresql://me@localhost/db");
        assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost/db");
        assertThat(u.user()).isEqualTo("me");
        assertThat(u.password()).isNull();
    }

    @Test
    void jdbcUrlIsTakenAsItIs() {
        DatabaseUrl u = DatabaseUrl.parse("DATABASE_URL", "jdbc:postgresql://h:5432/d?user=u&password=p");
        assertThat(u.jdbcUrl()).isEqualTo("jdbc:postgresql://h:5432/d?user=u&password=p");
        assertThat(u.toString()).doesNotContain("password=p");
    }

    @Test
    void badValuesNameTheVariableAndNeverEchoTheSecret() {
        assertThatThrownBy(() -> DatabaseUrl.parse("DATABASE_URL", null))
                .hasMessageContaining("DATABASE_URL is not set");
        assertThatThrownBy(() -> DatabaseUrl.parse("DATABASE_URL", "mysql://u:secret@h/d"))
                .hasMessageContaining("DATABASE_URL has an unknown scheme")
                .hasMessageNotContaining("secret");
        assertThatThrownBy(() -> DatabaseUrl.parse("DATABASE_URL", "postgres://u:secret@h"))
                .hasMessageContaining("no database name")
                .hasMessageNotContaining("secret");
    }

    @Test
    void poolSizeFromTheEnvironmentIsValidated() {
        assertThatThrownBy(() -> DatabaseConfig.fromEnvironment(
                        Map.of("DATABASE_URL", "postgres://u@h/d", "GAFFER_DB_POOL_SIZE", "lots"), "t"))
                .hasMessage("GAFFER_DB_POOL_SIZE must be a whole number between 1 and 1000, got 'lots'");
        assertThat(DatabaseConfig.fromEnvironment(
                                Map.of("DATABASE_URL", "postgres://u@h/d", "GAFFER_DB_POOL_SIZE", "4"), "t")
                        .maxPoolSize())
                .isEqualTo(4);
    }
}
