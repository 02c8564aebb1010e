package dev.gaffer.artifact;

import dev.gaffer.db.DatabaseException;
import dev.gaffer.db.Sql;
import dev.gaffer.job.Lease;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Files produced by jobs, in the {@code job_artifacts} table. Only the lease holder writes (the
 * insert is fenced like every other worker write); anyone may read.
 */
public final class ArtifactStore {

    /**
     * An artifact's description, without its bytes: one revision of a name (V024), made by the
     * job's storyboard revision {@code storyboardRevision}.
     */
    public record Artifact(
            long jobId,
            String name,
            int revision,
            int storyboardRevision,
            String contentType,
            long sizeBytes,
            String sha256,
            Instant createdAt) {}

    /** Outcome of {@link #put}. */
    public sealed interface PutResult {}

    public record Stored(Artifact artifact) implements PutResult {}

    public record LeaseLost(Lease lease) implements PutResult {}

    public static final long DEFAULT_MAX_BYTES = 64L * 1024 * 1024;
    public static final long HARD_MAX_BYTES = 512L * 1024 * 1024;
    private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$");

    private static final String RETURNED =
            "job_id, name, revision, storyboard_revision, content_type, size_bytes, sha256, created_at";

    /**
     * Stored by the lease holder. At a storyboard revision newer than the one that made the name's
     * newest revision, a new revision of the name (V024); at the same one (a retry, or the handler
     * storing it again), that revision is replaced. With a limit, revisions older than the newest
     * {@code keep} go in the same statement.
     */
    private static final String PUT = """
            WITH held AS (
                SELECT id, storyboard_revision FROM jobs
                 WHERE id = ? AND attempt = ? AND locked_by = ? AND status = 'processing'),
            args AS (SELECT ?::text AS name, ?::int AS keep),
            newest AS (
                SELECT a.revision, a.storyboard_revision FROM job_artifacts a, held, args
                 WHERE a.job_id = held.id AND a.name = args.name
                 ORDER BY a.revision DESC LIMIT 1),
            stored AS (
                INSERT INTO job_artifacts (job_id, name, revision, storyboard_revision, content_type, size_bytes, sha256, data)
                SELECT held.id, args.name,
                       CASE WHEN n.storyboard_revision = held.storyboard_revision THEN n.revision
                            ELSE COALESCE(n.revision, 0) + 1 END,
                       held.storyboard_revision, ?, ?, ?, ?
                  FROM held CROSS JOIN args LEFT JOIN newest n ON true
                ON CONFLICT (job_id, name, revision) DO UPDATE
                   SET content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes,
                       sha256 = EXCLUDED.sha256, data = EXCLUDED.data, created_at = now()
                RETURNING %1$s),
            pruned AS (
                DELETE FROM job_artifacts d USING stored s, args
                 WHERE args.keep IS NOT NULL AND d.job_id = s.job_id AND d.name = s.name
                   AND d.revision <= s.revision - args.keep
                RETURNING d.revision)
            SELECT %1$s, (SELECT count(*) FROM pruned) AS pruned FROM stored
            """.formatted(RETURNED);

    /**
     * A file of a preview (V021), under the preview's own lease: the job is pending and has no
     * lease of its own. The name starts with the preview's prefix ({@code preview-r<revision>-}).
     */
    private static final String PUT_PREVIEW = """
            INSERT INTO job_artifacts (job_id, name, storyboard_revision, content_type, size_bytes, sha256, data)
            SELECT job_id, ?, revision, ?, ?, ?, ?
              FROM job_previews
             WHERE job_id = ? AND revision = ? AND attempt = ? AND locked_by = ? AND status = 'running'
            ON CONFLICT (job_id, name, revision) DO UPDATE
               SET content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes,
                   sha256 = EXCLUDED.sha256, data = EXCLUDED.data, created_at = now()
            RETURNING %s
            """.formatted(RETURNED);

    /** The newest revision of each name. */
    private static final String LIST = "SELECT DISTINCT ON (name) " + RETURNED
            + " FROM job_artifacts WHERE job_id = ? ORDER BY name, revision DESC";

    /** Every revision of every name, by name, newest first. */
    private static final String ALL =
            "SELECT " + RETURNED + " FROM job_artifacts WHERE job_id = ? ORDER BY name, revision DESC";

    /** Every revision of one name, newest first. */
    private static final String REVISIONS =
            "SELECT " + RETURNED + " FROM job_artifacts WHERE job_id = ? AND name = ? ORDER BY revision DESC";

    /** One revision's bytes: the one asked for, or (NULL) the newest. */
    private static final String READ = """
            SELECT data FROM job_artifacts WHERE job_id = ? AND name = ? AND (?::int IS NULL OR revision = ?::int)
             ORDER BY revision DESC LIMIT 1""";

    private final DataSource dataSource;
    private final long maxBytes;

    public ArtifactStore(DataSource dataSource, long maxBytes) {
        if (maxBytes < 1 || maxBytes > HARD_MAX_BYTES) {
            throw new IllegalArgumentException(
                    "GAFFER_ARTIFACT_MAX_BYTES must be between 1 and " + HARD_MAX_BYTES + ", got " + maxBytes);
        }
        this.dataSource = dataSource;
        this.maxBytes = maxBytes;
    }

    public long maxBytes() {
        return maxBytes;
    }

    /**
     * Stores {@code file} as {@code name} of the leased job: a new revision of that name when the
     * job's storyboard revision is newer than the one that made the newest, else in its place.
     * Every revision is kept.
     */
    public PutResult put(Lease lease, String name, String contentType, Path file) {
        return put(lease, name, contentType, file, null);
    }

    /**
     * As {@link #put(Lease, String, String, Path)}, keeping only the newest {@code keep} revisions
     * of {@code name} (null: all of them).
     */
    public PutResult put(Lease lease, String name, String contentType, Path file, Integer keep) {
        requireName(name);
        if (keep != null && keep < 1) {
            throw new IllegalArgumentException("keep at least 1 revision of an artifact, got " + keep);
        }
        try {
            long size = Files.size(file);
            if (size > maxBytes) {
                throw new IllegalArgumentException("artifact " + name + " is " + size + " bytes, over the limit of "
                        + maxBytes + " (GAFFER_ARTIFACT_MAX_BYTES)");
            }
            String sha256 = sha256(file);
            try (Connection c = Sql.autocommitted(dataSource);
                    PreparedStatement ps = c.prepareStatement(PUT);
                    InputStream in = Files.newInputStream(file)) {
                ps.setLong(1, lease.jobId());
                ps.setInt(2, lease.attempt());
                ps.setString(3, lease.workerId());
                ps.setString(4, name);
                if (keep == null) {
                    ps.setNull(5, java.sql.Types.INTEGER);
                } else {
                    ps.setInt(5, keep);
                }
                ps.setString(6, contentType);
                ps.setLong(7, size);
                ps.setString(8, sha256);
                ps.setBinaryStream(9, in, size);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? new Stored(artifact(rs)) : new LeaseLost(lease);
                }
            }
        } catch (SQLException e) {
            throw new DatabaseException("store artifact " + name + " of job " + lease.jobId(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("read artifact file " + file, e);
        }
    }

    /**
     * Stores {@code file} as {@code name} (which must start with the preview's prefix) among the
     * job's artifacts, under the preview's lease; empty when the lease was lost.
     */
    public Optional<Artifact> putPreview(
            dev.gaffer.job.PreviewLease lease, String name, String contentType, Path file) {
        requireName(name);
        if (!name.startsWith(lease.artifactPrefix())) {
            throw new IllegalArgumentException(
                    "a preview's file is named " + lease.artifactPrefix() + "…, got " + name);
        }
        try {
            long size = Files.size(file);
            if (size > maxBytes) {
                throw new IllegalArgumentException("artifact " + name + " is " + size + " bytes, over the limit of "
                        + maxBytes + " (GAFFER_ARTIFACT_MAX_BYTES)");
            }
            String sha256 = sha256(file);
            try (Connection c = Sql.autocommitted(dataSource);
                    PreparedStatement ps = c.prepareStatement(PUT_PREVIEW);
                    InputStream in = Files.newInputStream(file)) {
                ps.setString(1, name);
                ps.setString(2, contentType);
                ps.setLong(3, size);
                ps.setString(4, sha256);
                ps.setBinaryStream(5, in, size);
                ps.setLong(6, lease.jobId());
                ps.setInt(7, lease.revision());
                ps.setInt(8, lease.attempt());
                ps.setString(9, lease.workerId());
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? Optional.of(artifact(rs)) : Optional.empty();
                }
            }
        } catch (SQLException e) {
            throw new DatabaseException("store preview file " + name + " of job " + lease.jobId(), e);
        } catch (IOException e) {
            throw new UncheckedIOException("read preview file " + file, e);
        }
    }

    public List<Artifact> list(long jobId) {
        return Sql.query(
                dataSource,
                "list artifacts of job " + jobId,
                LIST,
                ps -> ps.setLong(1, jobId),
                ArtifactStore::artifact);
    }

    /** Every revision of every file of the job, by name, newest first. */
    public List<Artifact> allRevisions(long jobId) {
        return Sql.query(
                dataSource,
                "list every artifact revision of job " + jobId,
                ALL,
                ps -> ps.setLong(1, jobId),
                ArtifactStore::artifact);
    }

    /** Every revision of {@code name}, newest first; empty when the job has no such file. */
    public List<Artifact> revisions(long jobId, String name) {
        return Sql.query(
                dataSource,
                "list revisions of artifact " + name + " of job " + jobId,
                REVISIONS,
                ps -> {
                    ps.setLong(1, jobId);
                    ps.setString(2, name);
                },
                ArtifactStore::artifact);
    }

    /** The newest revision of {@code name}. */
    public Optional<Artifact> find(long jobId, String name) {
        return find(jobId, name, null);
    }

    /** Revision {@code revision} of {@code name} (null: the newest). */
    public Optional<Artifact> find(long jobId, String name, Integer revision) {
        return revisions(jobId, name).stream()
                .filter(a -> revision == null || a.revision() == revision)
                .findFirst();
    }

    /** Copies the newest revision's bytes to {@code out}; false when there is no such artifact. */
    public boolean copyTo(long jobId, String name, OutputStream out) {
        return copyTo(jobId, name, null, out);
    }

    /** Copies revision {@code revision} (null: the newest) to {@code out}; false when there is none. */
    public boolean copyTo(long jobId, String name, Integer revision, OutputStream out) {
        try (Connection c = Sql.autocommitted(dataSource);
                PreparedStatement ps = c.prepareStatement(READ)) {
            ps.setLong(1, jobId);
            ps.setString(2, name);
            if (revision == null) {
                ps.setNull(3, java.sql.Types.INTEGER);
                ps.setNull(4, java.sql.Types.INTEGER);
            } else {
                ps.setInt(3, revision);
                ps.setInt(4, revision);
            }
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    return false;
                }
                try (InputStream in = rs.getBinaryStream(1)) {
                    in.transferTo(out);
                }
                return true;
            }
        } catch (SQLException e) {
            throw new DatabaseException("read artifact " + name + " of job " + jobId, e);
        } catch (IOException e) {
            throw new UncheckedIOException("write artifact " + name + " of job " + jobId, e);
        }
    }

    /** Writes the artifact to {@code file}; false when there is no such artifact. */
    public boolean download(long jobId, String name, Path file) {
        try (OutputStream out = Files.newOutputStream(file)) {
            return copyTo(jobId, name, out);
        } catch (IOException e) {
            throw new UncheckedIOException("write " + file, e);
        }
    }

    public static void requireName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(
                    "artifact name must be 1-128 characters of letters, digits, '.', '_', '-', starting with a letter or digit");
        }
    }

    public static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(OutputStream.nullOutputStream());
            return HexFormat.of()
                    .formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JDK", e);
        }
    }

    private static Artifact artifact(ResultSet rs) throws SQLException {
        return new Artifact(
                rs.getLong("job_id"),
                rs.getString("name"),
                rs.getInt("revision"),
                rs.getInt("storyboard_revision"),
                rs.getString("content_type"),
                rs.getLong("size_bytes"),
                rs.getString("sha256"),
                Sql.instant(rs, "created_at"));
    }
}
