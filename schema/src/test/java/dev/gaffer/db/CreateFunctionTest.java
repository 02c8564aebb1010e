package dev.gaffer.db;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.gaffer.testing.TestDatabase;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.util.PSQLException;

/**
 * {@code gaffer_create_job}, the create transition for any language, called as {@code
 * gaffer_client}: a role with no right on the tables, whose jobs commit with its transaction and
 * whose mistakes are refused with the API's rules, SQLSTATE 22023 and the field in COLUMN.
 */
class CreateFunctionTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase("create_function");

    static final String LOGIN = "shop_app_" + ProcessHandle.current().pid();
    static final String READER = "reader_" + ProcessHandle.current().pid();

    @BeforeAll
    static void roles() throws Exception {
        try (Connection c = db.database().connection();
                Statement st = c.createStatement()) {
            st.execute(Files.readString(RoleGuardsTest.ROLES_SQL));
            for (String[] login : new String[][] {{LOGIN, "gaffer_client"}, {READER, "gaffer_readonly"}}) {
                st.execute("DROP ROLE IF EXISTS " + login[0]);
                st.execute("CREATE ROLE " + login[0] + " LOGIN IN ROLE " + login[1]);
            }
        }
    }

    @AfterAll
    static void dropRoles() throws SQLException {
        try (Connection c = db.database().connection();
                Statement st = c.createStatement()) {
            st.execute("DROP ROLE IF EXISTS " + LOGIN);
            st.execute("DROP ROLE IF EXISTS " + READER);
        }
    }

    static Connection as(String login) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", login);
        return DriverManager.getConnection(db.database().config().url().jdbcUrl(), p);
    }

    @Test
    void aClientRoleCreatesJobsInItsOwnTransactionWithNoRightOnTheTables() throws Exception {
        try (Connection app = as(LOGIN)) {
            app.setAutoCommit(false);
            long kept = create(
                    app, "SELECT gaffer_create_job(type => 'email', parameters => '{\"to\": \"a@example.com\"}')");
            app.commit();
            long dropped = create(app, "SELECT gaffer_create_job('email', approved_by => 'shop')");
            app.rollback();
            long approved = create(app, "SELECT gaffer_create_job('email', queue => 'mail', approved_by => 'shop')");
            app.commit();

            assertThat(db.fixtures()
                            .count("SELECT count(*) FROM jobs WHERE id = " + kept + " AND status = 'pending'"
                                    + " AND created_by = '" + LOGIN + "' AND parameters->>'to' = 'a@example.com'"))
                    .isEqualTo(1);
            assertThat(db.fixtures().count("SELECT count(*) FROM jobs WHERE id = " + dropped))
                    .isZero();
            assertThat(db.fixtures().count("SELECT count(*) FROM job_history WHERE job_id = " + dropped))
                    .isZero();
            assertThat(db.fixtures()
                            .count("SELECT count(*) FROM jobs WHERE id = " + approved
                                    + " AND status = 'approved' AND approved_by = 'shop' AND queue = 'mail'"))
                    .isEqualTo(1);

            for (String forbidden : new String[] {
                "SELECT count(*) FROM jobs",
                "INSERT INTO jobs (type) VALUES ('email')",
                "UPDATE jobs SET status = 'approved' WHERE id = " + kept
            }) {
                app.rollback();
                SQLException e = catchThrowableOfType(SQLException.class, () -> exec(app, forbidden));
                assertThat((Object) e).as(forbidden).isNotNull();
                assertThat(e.getSQLState()).as(forbidden).isEqualTo("42501");
            }
            app.rollback();
        }
    }

    @Test
    void mistakesAreRefusedWithTheApisRulesNamingTheField() throws Exception {
        String[][] cases = {
            {"SELECT gaffer_create_job('Email')", "type", "must start with a lower-case letter"},
            {"SELECT gaffer_create_job('email', priority => 101)", "priority", "from -100 to 100, got 101"},
            {"SELECT gaffer_create_job('email', '[1, 2]')", "parameters", "must be a JSON object"},
            {"SELECT gaffer_create_job('email', '{\"timeout_ms\": 0}')", "parameters.timeout_ms", "from 1 to 2592000000"
            },
            {"SELECT gaffer_create_job('email', '{\"x\": 1e400}')", "parameters", "outside the range of a 64-bit"},
            {
                "SELECT gaffer_create_job('email', ('{\"a\":' || repeat('[', 64) || repeat(']', 64) || '}')::jsonb)",
                "parameters",
                "nests deeper than 64 levels"
            },
            {
                "SELECT gaffer_create_job('email', json_build_object(repeat('k', 257), 1)::jsonb)",
                "parameters",
                "a key of more than 256 characters"
            },
            {"SELECT gaffer_create_job('email', max_attempts => 0)", "max_attempts", "from 1 to 1000, got 0"},
            {"SELECT gaffer_create_job('email', run_at => '0500-01-01')", "run_at", "between 1970-01-01"},
            {
                "SELECT gaffer_create_job('email', storyboard => '{\"scenes\": []}', approved_by => 'shop')",
                "approved_by",
                "waits for a person"
            },
        };
        try (Connection app = as(LOGIN)) {
            long before = db.fixtures().count("SELECT count(*) FROM jobs");
            for (String[] c : cases) {
                PSQLException e = catchThrowableOfType(PSQLException.class, () -> exec(app, c[0]));
                assertThat((Object) e).as(c[0]).isNotNull();
                assertThat(e.getSQLState()).as(c[0]).isEqualTo("22023");
                assertThat(e.getServerErrorMessage().getColumn()).as(c[0]).isEqualTo(c[1]);
                assertThat(e.getServerErrorMessage().getMessage())
                        .as(c[0])
                        .startsWith(c[1] + " ")
                        .contains(c[2]);
            }
            // The largest document that passes: 63 levels of arrays in the object.
            exec(
                    app,
                    "SELECT gaffer_create_job('email', ('{\"a\":' || repeat('[', 63) || repeat(']', 63) || '}')::jsonb)");
            assertThat(db.fixtures().count("SELECT count(*) FROM jobs")).isEqualTo(before + 1);
        }
    }

    @Test
    void anIdempotencyKeyCreatesOnceAndAnotherJobUnderItIsRefused() throws Exception {
        try (Connection app = as(LOGIN)) {
            long first = create(app, "SELECT gaffer_create_job('email', '{\"n\": 1}', idempotency_key => 'order-1')");
            long again = create(app, "SELECT gaffer_create_job('email', '{\"n\": 1}', idempotency_key => 'order-1')");
            assertThat(again).isEqualTo(first);
            PSQLException e = catchThrowableOfType(
                    PSQLException.class,
                    () -> exec(app, "SELECT gaffer_create_job('email', '{\"n\": 2}', idempotency_key => 'order-1')"));
            assertThat(e.getSQLState()).isEqualTo("23505");
            assertThat(e.getMessage()).contains("belongs to job " + first);
        }
    }

    @Test
    void otherRolesMayNotCreate() throws Exception {
        try (Connection reader = as(READER)) {
            SQLException e =
                    catchThrowableOfType(SQLException.class, () -> exec(reader, "SELECT gaffer_create_job('email')"));
            assertThat(e.getSQLState()).isEqualTo("42501");
        }
    }

    private static long create(Connection c, String sql) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static void exec(Connection c, String sql) throws SQLException {
        try (Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }
}
