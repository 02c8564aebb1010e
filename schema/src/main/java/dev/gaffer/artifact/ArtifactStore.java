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

    /** An artifact's description, without its bytes. */
    public record Artifact(
            long jobId, String name, String contentType, long sizeBytes, String sha256, Instant createdAt) {}

    /** Outcome of {@link #put}. */
    public sealed interface PutResult {}

    public record Stored(Artifact artifact) implements PutResult {}

    public record LeaseLost(Lease lease) implements PutResult {}

    public static final long DEFAULT_MAX_BYTES = 64L * 1024 * 1024;
    public static final long HARD_MAX_BYTES = 512L * 1024 * 1024;
    private static final Pattern NAME = Pattern.compile("^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$");

    private static final String PUT = """
            INSERT INTO job_artifacts (job_id, name, content_type, size_bytes, sha256, data)
            SELECT id, ?, ?, ?, ?, ?
              FROM jobs
             WHERE id = ? AND attempt = ? AND locked_by = ? AND status = 'processing'
            ON CONFLICT (job_id, name) DO UPDATE
               SET content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes,
                   sha256 = EXCLUDED.sha256, data = EXCLUDED.data, created_at = now()
            RETURNING job_id, name, content_type, size_bytes, sha256, created_at
            """;

    /**
     * A file of a preview (V021), under the preview's own lease: the job is pending and has no
     * lease of its own. The name starts with the preview's prefix ({@code preview-r<revision>-}).
     */
    private static final String PUT_PREVIEW = """
            INSERT INTO job_artifacts (job_id, name, content_type, size_bytes, sha256, data)
            SELECT job_id, ?, ?, ?, ?, ?
              FROM job_previews
             WHERE job_id = ? AND revision = ? AND attempt = ? AND locked_by = ? AND status = 'running'
            ON CONFLICT (job_id, name) DO UPDATE
               SET content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes,
                   sha256 = EXCLUDED.sha256, data = EXCLUDED.data, created_at = now()
            RETURNING job_id, name, content_type, size_bytes, sha256, created_at
            """;

    private static final String LIST =
            "SELECT job_id, name, content_type, size_bytes, sha256, created_at FROM job_artifacts WHERE job_id = ? ORDER BY name";

    private static final String READ = "SELECT data FROM job_artifacts WHERE job_id = ? AND name = ?";

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

    /** Stores {@code file} as {@code name} of the leased job, replacing an earlier one of that name. */
    public PutResult put(Lease lease, String name, String contentType, Path file) {
        requireName(name);
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
                ps.setString(1, name);
                ps.setString(2, contentType);
                ps.setLong(3, size);
                ps.setString(4, sha256);
                ps.setBinaryStream(5, in, size);
                ps.setLong(6, lease.jobId());
                ps.setInt(7, lease.attempt());
                ps.setString(8, lease.workerId());
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

    public Optional<Artifact> find(long jobId, String name) {
        return list(jobId).stream().filter(a -> a.name().equals(name)).findFirst();
    }

    /** Copies the artifact's bytes to {@code out}; false when there is no such artifact. */
    public boolean copyTo(long jobId, String name, OutputStream out) {
        try (Connection c = Sql.autocommitted(dataSource);
                PreparedStatement ps = c.prepareStatement(READ)) {
            ps.setLong(1, jobId);
            ps.setString(2, name);
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
                rs.getString("content_type"),
                rs.getLong("size_bytes"),
                rs.getString("sha256"),
                Sql.instant(rs, "created_at"));
    }
}
