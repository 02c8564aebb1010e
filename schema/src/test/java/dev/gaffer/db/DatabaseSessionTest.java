package dev.gaffer.db;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gaffer.testing.TestPostgres;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.Map;
import org.junit.jupiter.api.Test;

class DatabaseSessionTest {

    @Test
    void everyPoolGafferOpensRunsWithoutJitAndASiblingAddsItsOwnSettings() throws Exception {
        try (Database db = TestPostgres.freshDatabase("session_settings");
                Database claims = db.sibling("claims", 1, Map.of("plan_cache_mode", "force_generic_plan"))) {
            assertThat(setting(db, "jit")).isEqualTo("off");
            assertThat(setting(claims, "jit")).isEqualTo("off");
            assertThat(setting(claims, "plan_cache_mode")).isEqualTo("force_generic_plan");
            assertThat(setting(db, "plan_cache_mode")).isEqualTo("auto");
        }
    }

    @Test
    void aSiblingMayTurnJitBackOn() throws Exception {
        try (Database db = TestPostgres.freshDatabase("session_jit");
                Database reports = db.sibling("reports", 1, Map.of("jit", "on"))) {
            assertThat(setting(reports, "jit")).isEqualTo("on");
        }
    }

    private static String setting(Database db, String name) throws Exception {
        try (Connection c = db.connection();
                Statement st = c.createStatement();
                ResultSet rs = st.executeQuery("SELECT current_setting('" + name + "')")) {
            rs.next();
            return rs.getString(1);
        }
    }
}
