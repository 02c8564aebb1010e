package dev.gaffer.testing;

import dev.gaffer.db.Database;
import dev.gaffer.job.JobFixtures;
import dev.gaffer.job.JobQueries;
import dev.gaffer.job.JobRequests;
import dev.gaffer.job.LeaseStore;
import dev.gaffer.job.OutcomeStore;
import dev.gaffer.job.ReclaimStore;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A fresh, migrated database on the test PostgreSQL ({@link TestPostgres}) for one test class, with
 * the stores over it: {@code @RegisterExtension static final TestDatabase db = new
 * TestDatabase("name");}. It is opened before the class's first test and closed after its last,
 * nested classes included; {@link #perTest} gives every test a database of its own instead.
 */
public final class TestDatabase implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

    private final String name;
    private final int poolSize;
    private final boolean perTest;
    private String owner;
    private Database database;
    private JobRequests requests;
    private LeaseStore leases;
    private OutcomeStore outcomes;
    private ReclaimStore reclaims;
    private JobQueries queries;
    private JobFixtures fixtures;

    public TestDatabase(String name) {
        this(name, 20, false);
    }

    private TestDatabase(String name, int poolSize, boolean perTest) {
        this.name = name;
        this.poolSize = poolSize;
        this.perTest = perTest;
    }

    /** A database of its own for every test of the class. */
    public static TestDatabase perTest(String name) {
        return new TestDatabase(name, 20, true);
    }

    /** The same, with a pool of {@code poolSize} connections. */
    public TestDatabase withPoolSize(int size) {
        return new TestDatabase(name, size, perTest);
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        if (!perTest && owner == null) {
            owner = context.getUniqueId();
            open();
        }
    }

    @Override
    public void afterAll(ExtensionContext context) {
        if (!perTest && context.getUniqueId().equals(owner)) {
            owner = null;
            close();
        }
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        if (perTest) {
            open();
        }
    }

    @Override
    public void afterEach(ExtensionContext context) {
        if (perTest) {
            close();
        }
    }

    private void open() {
        database = TestPostgres.freshDatabase(name, poolSize);
        DataSource ds = database.dataSource();
        requests = new JobRequests(ds);
        leases = new LeaseStore(ds);
        outcomes = new OutcomeStore(ds);
        reclaims = new ReclaimStore(ds);
        queries = new JobQueries(ds);
        fixtures = new JobFixtures(database);
    }

    private void close() {
        if (database != null) {
            database.close();
            database = null;
        }
    }

    public Database database() {
        return database;
    }

    public DataSource dataSource() {
        return database.dataSource();
    }

    public JobRequests requests() {
        return requests;
    }

    public LeaseStore leases() {
        return leases;
    }

    public OutcomeStore outcomes() {
        return outcomes;
    }

    public ReclaimStore reclaims() {
        return reclaims;
    }

    public JobQueries queries() {
        return queries;
    }

    public JobFixtures fixtures() {
        return fixtures;
    }
}
