package dev.gaffer.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gaffer.db.Database;
import dev.gaffer.testing.TestPostgres;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ApiKeyStoreTest {

    static Database db;
    static ApiKeyStore keys;

    @BeforeAll
    static void setUp() {
        db = TestPostgres.freshDatabase("api_keys", 4);
        keys = new ApiKeyStore(db.dataSource());
    }

    @AfterAll
    static void tearDown() {
        db.close();
    }

    @Test
    void createdKeyAuthenticatesAndOnlyItsHashIsStored() throws SQLException {
        var created = keys.create("alice", ApiKeyRole.APPROVE);
        assertThat(created.key()).startsWith("gfr_").hasSize(4 + 43);
        assertThat(created.apiKey().keyPrefix()).isEqualTo(created.key().substring(0, 10));

        var found = keys.authenticate(created.key());
        assertThat(found).isPresent();
        assertThat(found.get().name()).isEqualTo("alice");
        assertThat(found.get().role()).isEqualTo(ApiKeyRole.APPROVE);

        assertThat(strings("SELECT encode(key_hash, 'hex') FROM api_keys WHERE name = 'alice'"))
                .containsExactly(java.util.HexFormat.of().formatHex(ApiKeyStore.sha256(created.key())));
        assertThat(strings("SELECT count(*) FROM api_keys WHERE position(convert_to('" + created.key()
                        + "', 'UTF8') in key_hash) > 0"))
                .containsExactly("0");
        assertThat(strings("SELECT last_used_at IS NOT NULL FROM api_keys WHERE name = 'alice'"))
                .containsExactly("t");
    }

    @Test
    void wrongOrMalformedKeysAuthenticateNothing() {
        var created = keys.create("bob", ApiKeyRole.READ);
        String tampered = created.key().substring(0, created.key().length() - 1)
                + (created.key().endsWith("A") ? "B" : "A");
        assertThat(keys.authenticate(tampered)).isEmpty();
        assertThat(keys.authenticate("Bearer " + created.key())).isEmpty();
        assertThat(keys.authenticate("")).isEmpty();
        assertThat(keys.authenticate(null)).isEmpty();
    }

    @Test
    void revokedKeyNoLongerAuthenticatesAndKeepsItsName() {
        var created = keys.create("carol", ApiKeyRole.ADMIN);
        assertThat(keys.revoke("carol")).isPresent();
        assertThat(keys.revoke("carol")).isEmpty();
        assertThat(keys.authenticate(created.key())).isEmpty();
        assertThat(keys.list()).anyMatch(k -> k.name().equals("carol") && k.revoked());
        assertThatThrownBy(() -> keys.create("carol", ApiKeyRole.READ))
                .isInstanceOf(ApiKeyStore.NameTakenException.class)
                .hasMessageContaining("carol");
    }

    @Test
    void badNamesAreRefusedWithAMessage() {
        assertThatThrownBy(() -> keys.create("", ApiKeyRole.READ)).hasMessageContaining("key name");
        assertThatThrownBy(() -> keys.create("a b", ApiKeyRole.READ)).hasMessageContaining("key name");
    }

    @Test
    void rolesIncludeTheOnesBelowThem() {
        assertThat(ApiKeyRole.ADMIN.includes(ApiKeyRole.APPROVE)).isTrue();
        assertThat(ApiKeyRole.APPROVE.includes(ApiKeyRole.SUBMIT)).isTrue();
        assertThat(ApiKeyRole.SUBMIT.includes(ApiKeyRole.APPROVE)).isFalse();
        assertThat(ApiKeyRole.READ.includes(ApiKeyRole.SUBMIT)).isFalse();
        assertThatThrownBy(() -> ApiKeyRole.parse("owner")).hasMessageContaining("read, submit, approve, admin");
    }

    @Test
    void everyColumnOfApiKeysHasAComment() throws SQLException {
        assertThat(strings("""
                        SELECT a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
                         WHERE c.relname = 'api_keys' AND a.attnum > 0 AND NOT a.attisdropped
                           AND col_description(c.oid, a.attnum) IS NULL
                        UNION ALL
                        SELECT 'table' WHERE obj_description('api_keys'::regclass, 'pg_class') IS NULL""")).isEmpty();
    }

    private static List<String> strings(String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }
}
