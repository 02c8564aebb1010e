-- Files a job produces (the reference pipeline's scene clips and final video), kept in PostgreSQL
-- so that workers on different hosts and the API share them with no shared disk or object store.
-- Each is capped in size (GAFFER_ARTIFACT_MAX_BYTES, default 64 MiB; 512 MiB at most here) and goes
-- with its job when the job is pruned.
CREATE TABLE job_artifacts (
    job_id       bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    name         text NOT NULL,
    content_type text NOT NULL,
    size_bytes   bigint NOT NULL,
    sha256       text NOT NULL,
    data         bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (job_id, name),
    CONSTRAINT job_artifacts_name_format CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$'),
    CONSTRAINT job_artifacts_size_matches CHECK (octet_length(data) = size_bytes),
    CONSTRAINT job_artifacts_size_cap CHECK (size_bytes <= 536870912),
    CONSTRAINT job_artifacts_sha256_format CHECK (sha256 ~ '^[0-9a-f]{64}$')
);
-- Video does not compress: store it out of line without trying.
ALTER TABLE job_artifacts ALTER COLUMN data SET STORAGE EXTERNAL;

COMMENT ON TABLE job_artifacts IS 'Files produced by jobs (e.g. video.mp4), written by the lease holder only, served by GET /api/v3/jobs/{id}/artifacts/{name}. Deleted with their job.';
COMMENT ON COLUMN job_artifacts.job_id IS 'The job that produced the file.';
COMMENT ON COLUMN job_artifacts.name IS 'File name within the job, e.g. video.mp4; letters, digits, . _ -.';
COMMENT ON COLUMN job_artifacts.content_type IS 'MIME type served with the file, e.g. video/mp4.';
COMMENT ON COLUMN job_artifacts.size_bytes IS 'Size of data in bytes.';
COMMENT ON COLUMN job_artifacts.sha256 IS 'SHA-256 of data, lower-case hex; also in the job''s result.';
COMMENT ON COLUMN job_artifacts.data IS 'The file''s bytes (TOAST, uncompressed).';
COMMENT ON COLUMN job_artifacts.created_at IS 'When the file was written.';
