package dev.gaffer.job;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gaffer.db.Database;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Shortcuts for tests: jobs in a given state, and direct SQL where a test must reach past the stores. */
public final class JobFixtures {

    private final Database db;
    private final JobRequests requests;
    private final LeaseStore leases;
    private final JobQueries queries;

    public JobFixtures(Database db) {
        this.db = db;
        this.requests = new JobRequests(db.dataSource());
        this.leases = new LeaseStore(db.dataSource());
        this.queries = new JobQueries(db.dataSource());
    }

    public static ObjectNode params(String key, Object value) {
        ObjectNode n = Json.MAPPER.createObjectNode();
        n.set(key, Json.MAPPER.valueToTree(value));
        return n;
    }

    public static JsonNode json(String text) {
        return Json.parse(text);
    }

    /** A pending job of {@code type}. */
    public Job pending(String type) {
        return requests.create(NewJob.of(type, params("n", 1))).job();
    }

    /** An approved job of {@code type}. */
    public Job approved(String type) {
        Job job = pending(type);
        return ((Results.Moved) requests.approve(job.id(), "tester")).job();
    }

    /** Inserts {@code n} approved jobs in one statement (for races and load); returns their ids. */
    public List<Long> approvedBulk(String type, int n) {
        List<Long> ids = new ArrayList<>(n);
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement("""
                        INSERT INTO jobs (type, status, approved_by, approved_at)
                        SELECT ?, 'approved', 'tester', now() FROM generate_series(1, ?)
                        RETURNING id""")) {
            ps.setString(1, type);
            ps.setInt(2, n);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getLong(1));
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return ids;
    }

    /** A processing job claimed by {@code workerId}. */
    public Job processing(String type, String workerId) {
        Job job = approved(type);
        List<Job> claimed = leases.claim(workerId, List.of(job.queue()), 1, List.of());
        if (claimed.size() != 1 || claimed.getFirst().id() != job.id()) {
            throw new IllegalStateException("expected to claim job " + job.id() + ", got " + claimed);
        }
        return claimed.getFirst();
    }

    /**
     * Ends every unfinished job, so that the next test's claims see only its own jobs (test
     * classes share a database between their tests).
     */
    public void cancelUnfinished() {
        exec(
                "UPDATE jobs SET status = 'cancelled', finished_at = now(), finished_event_id = nextval('job_events_id_seq'),"
                        + " locked_by = NULL, heartbeat_at = NULL,"
                        + " lease_expires_at = NULL, subjobs_open = 0"
                        + " WHERE status IN ('pending', 'approved', 'processing', 'waiting')");
    }

    /**
     * Ages a job's heartbeat, as a worker that stopped beating {@code seconds} ago would leave it:
     * its last beat then, and its lease ending the default 15 s after that.
     */
    public void ageHeartbeat(long jobId, int seconds) {
        exec("UPDATE jobs SET heartbeat_at = now() - make_interval(secs => " + seconds + "),"
                + " lease_expires_at = now() - make_interval(secs => " + seconds + ") + interval '15 seconds'"
                + " WHERE id = " + jobId);
    }

    public long count(String sql) {
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            rs.next();
            return rs.getLong(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public List<String> strings(String sql) {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(sql);
                ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return out;
    }

    public void exec(String sql) {
        try (Connection c = db.connection();
                PreparedStatement ps = c.prepareStatement(sql)) {
            ps.execute();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    public List<String> eventKinds(long jobId) {
        return queries.events(jobId, 0, 1000).stream().map(JobEvent::kind).toList();
    }
}
