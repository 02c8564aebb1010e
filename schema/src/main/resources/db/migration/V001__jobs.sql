-- Gaffer's coordination schema. Append-only: once landed, a migration is never edited; change the
-- schema with a new V###__*.sql file.
--
-- The jobs table is the queue. Every state change is one statement (or one transaction) in
-- JobStore that names the state it expects, and the invariants below hold even for a DBA who
-- edits rows by hand.

CREATE TYPE job_status AS ENUM (
    'pending',     -- created, waiting for a person to approve its storyboard
    'approved',    -- claimable once run_at has passed
    'processing',  -- leased by one worker (locked_by), heartbeating
    'waiting',     -- its sub-jobs are running; resumes as approved when the last one finishes
    'completed',   -- terminal: the handler returned a result
    'failed',      -- terminal: attempts exhausted or a non-retryable error
    'cancelled'    -- terminal: cancelled by a person (or with its parent)
);
COMMENT ON TYPE job_status IS 'Lifecycle of a job: pending -> approved -> processing -> completed | failed, with waiting (sub-jobs) and cancelled. See DESIGN.md.';

CREATE TYPE job_event_kind AS ENUM (
    'created', 'approved', 'claimed', 'progress', 'waiting', 'resumed', 'retried', 'reclaimed',
    'released', 'completed', 'failed', 'cancelled'
);
COMMENT ON TYPE job_event_kind IS 'What happened to a job, one job_events row per happening.';

-- fillfactor 80: heartbeats rewrite heartbeat_at, progress_percentage, current_stage and
-- updated_at many times per job. None of those columns is indexed, so with free space left on
-- each page those updates stay HOT (heap-only tuples): no index entries are written and the old
-- versions are pruned in place instead of waiting for vacuum.
CREATE TABLE jobs (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    parent_id           bigint REFERENCES jobs (id) ON DELETE CASCADE,
    type                text NOT NULL,
    queue               text NOT NULL DEFAULT 'default',
    priority            smallint NOT NULL DEFAULT 0,

    parameters          jsonb NOT NULL DEFAULT '{}',
    storyboard          jsonb,
    result              jsonb,

    status              job_status NOT NULL DEFAULT 'pending',
    current_stage       text,
    progress_percentage smallint NOT NULL DEFAULT 0,
    attempt             integer NOT NULL DEFAULT 0,
    max_attempts        integer NOT NULL DEFAULT 3,
    run_at              timestamptz NOT NULL DEFAULT now(),
    last_error          text,

    locked_by           text,
    heartbeat_at        timestamptz,

    subjobs_total       integer NOT NULL DEFAULT 0,
    subjobs_open        integer NOT NULL DEFAULT 0,
    fanout_stage        text,
    resume_stage        text,

    idempotency_key     text,
    created_by          text,
    approved_by         text,
    created_at          timestamptz NOT NULL DEFAULT now(),
    approved_at         timestamptz,
    started_at          timestamptz,
    finished_at         timestamptz,
    updated_at          timestamptz NOT NULL DEFAULT now(),

    CONSTRAINT jobs_type_format CHECK (type ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    CONSTRAINT jobs_queue_format CHECK (queue ~ '^[a-z][a-z0-9_.-]{0,62}$'),
    CONSTRAINT jobs_priority_range CHECK (priority BETWEEN -100 AND 100),
    CONSTRAINT jobs_parameters_object CHECK (jsonb_typeof(parameters) = 'object'),
    CONSTRAINT jobs_progress_range CHECK (progress_percentage BETWEEN 0 AND 100),
    CONSTRAINT jobs_attempt_range CHECK (attempt >= 0 AND attempt <= max_attempts),
    -- A claimable job always has an attempt left: claiming it must not exceed max_attempts.
    CONSTRAINT jobs_approved_has_attempt_left CHECK (status <> 'approved' OR attempt < max_attempts),
    CONSTRAINT jobs_max_attempts_range CHECK (max_attempts BETWEEN 1 AND 1000),
    CONSTRAINT jobs_not_own_parent CHECK (parent_id <> id),
    -- finished_at is set exactly for the terminal states.
    CONSTRAINT jobs_finished_iff_terminal
        CHECK ((status IN ('completed', 'failed', 'cancelled')) = (finished_at IS NOT NULL)),
    -- The lease exists exactly while a worker holds the job.
    CONSTRAINT jobs_locked_iff_processing CHECK ((status = 'processing') = (locked_by IS NOT NULL)),
    CONSTRAINT jobs_heartbeat_iff_processing CHECK ((status = 'processing') = (heartbeat_at IS NOT NULL)),
    -- Nothing runs before a person approved it (sub-jobs are approved with their parent).
    CONSTRAINT jobs_approved_before_running
        CHECK (status IN ('pending', 'cancelled') OR approved_at IS NOT NULL),
    CONSTRAINT jobs_approval_recorded CHECK ((approved_at IS NULL) = (approved_by IS NULL)),
    -- Fan-in counters: a job waits exactly while it has unfinished sub-jobs.
    CONSTRAINT jobs_subjob_counts CHECK (subjobs_open BETWEEN 0 AND subjobs_total),
    CONSTRAINT jobs_waiting_iff_open_subjobs CHECK ((status = 'waiting') = (subjobs_open > 0)),
    CONSTRAINT jobs_result_only_when_completed CHECK (result IS NULL OR status = 'completed'),
    CONSTRAINT jobs_idempotency_key_unique UNIQUE (idempotency_key)
) WITH (fillfactor = 80);

COMMENT ON TABLE jobs IS 'The queue: one row per job or sub-job. Workers claim approved rows with FOR UPDATE SKIP LOCKED; every write by a worker is fenced by (id, attempt, locked_by, status = processing). History is in job_events.';
COMMENT ON COLUMN jobs.id IS 'Job id, assigned by the database; the job_id of the API.';
COMMENT ON COLUMN jobs.parent_id IS 'The job that spawned this sub-job, or NULL for a top-level job. Deleting a parent deletes its sub-jobs.';
COMMENT ON COLUMN jobs.type IS 'Handler name, e.g. video or sleep: the worker runs the handler registered for this type. Lower case, digits, _ . -; at most 63 characters.';
COMMENT ON COLUMN jobs.queue IS 'Queue name; a worker claims only from the queues it is configured for. Same format as type.';
COMMENT ON COLUMN jobs.priority IS 'From -100 to 100; higher runs first among claimable jobs of a queue, then earlier run_at, then lower id.';
COMMENT ON COLUMN jobs.parameters IS 'The input of the job as a JSON object, as given by the client.';
COMMENT ON COLUMN jobs.storyboard IS 'The plan a person reviews before approving (any JSON); NULL when the job has none.';
COMMENT ON COLUMN jobs.result IS 'What the handler returned (JSON), set only when status = completed. Large outputs are stored as artifacts and referenced from here.';
COMMENT ON COLUMN jobs.status IS 'Lifecycle state (enum job_status). Terminal: completed, failed, cancelled.';
COMMENT ON COLUMN jobs.current_stage IS 'Free-text stage reported by the handler (e.g. rendering 7/12); while waiting, the fan-out stage with finished/total sub-jobs.';
COMMENT ON COLUMN jobs.progress_percentage IS 'Progress from 0 to 100 as reported by the handler (written with the heartbeat, so at most one heartbeat interval old); while waiting, the share of finished sub-jobs.';
COMMENT ON COLUMN jobs.attempt IS 'How many times the job has been claimed in its current budget of attempts. A claim adds one; a graceful release and a move to waiting give the attempt back; a manual retry starts again from 0. Part of the write fence.';
COMMENT ON COLUMN jobs.max_attempts IS 'A failure on this attempt is final; earlier failures are retried with exponential backoff. Between 1 and 1000.';
COMMENT ON COLUMN jobs.run_at IS 'The job is not claimable before this time (database clock). Set to now() + backoff when a failure is retried.';
COMMENT ON COLUMN jobs.last_error IS 'Message and stack summary of the most recent failure or reclaim; the full history is in job_events.';
COMMENT ON COLUMN jobs.locked_by IS 'Worker id (workers.id) holding the lease; set exactly while status = processing. Part of the write fence.';
COMMENT ON COLUMN jobs.heartbeat_at IS 'Last heartbeat of the lease holder (database clock); set exactly while processing. Older than the heartbeat timeout means the worker is presumed dead and the job is reclaimed.';
COMMENT ON COLUMN jobs.subjobs_total IS 'How many sub-jobs this job has spawned (all waves).';
COMMENT ON COLUMN jobs.subjobs_open IS 'How many of its sub-jobs have not reached a terminal state. Kept in the same transaction as each child''s terminal transition; the child that brings it to 0 resumes the parent.';
COMMENT ON COLUMN jobs.fanout_stage IS 'Label of the stage that is waiting on sub-jobs (e.g. rendering); current_stage shows it with finished/total.';
COMMENT ON COLUMN jobs.resume_stage IS 'Stage at which the handler is invoked again once the last sub-job has finished (e.g. stitching).';
COMMENT ON COLUMN jobs.idempotency_key IS 'Client-chosen key (Idempotency-Key header); creating a job with a key that exists returns the existing job instead of a duplicate. Unique when set.';
COMMENT ON COLUMN jobs.created_by IS 'Name of the API key that created the job (NULL for sub-jobs and unauthenticated dev mode).';
COMMENT ON COLUMN jobs.approved_by IS 'Name of the API key (person) that approved the job; for sub-jobs, who approved the parent.';
COMMENT ON COLUMN jobs.created_at IS 'When the job was created (the API''s inserted_at).';
COMMENT ON COLUMN jobs.approved_at IS 'When the job was approved; NULL while pending.';
COMMENT ON COLUMN jobs.started_at IS 'When a worker first claimed the job.';
COMMENT ON COLUMN jobs.finished_at IS 'When the job reached a terminal state; set exactly for completed, failed and cancelled.';
COMMENT ON COLUMN jobs.updated_at IS 'Last write to the row, heartbeats included.';

-- Indexes: only for the hot paths. Each one costs every non-HOT update.
--
-- Claim: the worker asks for the best claimable rows of its queues. A partial index holds only
-- approved rows, so it stays small however many finished jobs the table keeps, and its order is
-- the claim order, so the claim reads the first N entries of each queue and stops.
CREATE INDEX jobs_claimable_idx ON jobs (queue, priority DESC, run_at, id) WHERE status = 'approved';
COMMENT ON INDEX jobs_claimable_idx IS 'Claim order of approved jobs per queue; partial, so finished rows cost nothing.';

-- Reclaim and startup recovery scan the processing rows. The key is locked_by, not heartbeat_at:
-- heartbeat_at changes on every heartbeat and indexing it would make every heartbeat a non-HOT
-- update. The set of processing rows is bounded by the workers' total concurrency, so filtering
-- heartbeat_at over it is cheap.
CREATE INDEX jobs_processing_idx ON jobs (locked_by) WHERE status = 'processing';
COMMENT ON INDEX jobs_processing_idx IS 'Processing rows by lease holder, for the reclaimer and startup recovery.';

-- Fan-in, cancellation of a tree and the sub-jobs view look children up by parent.
CREATE INDEX jobs_parent_idx ON jobs (parent_id) WHERE parent_id IS NOT NULL;
COMMENT ON INDEX jobs_parent_idx IS 'Sub-jobs of a parent.';

-- Pruning deletes terminal jobs older than the retention period; finished_at is written once,
-- in the terminal transition, which is not a HOT update anyway (status leaves a partial index).
CREATE INDEX jobs_finished_idx ON jobs (finished_at) WHERE finished_at IS NOT NULL;
COMMENT ON INDEX jobs_finished_idx IS 'Terminal jobs by age, for pruning.';


CREATE TABLE job_events (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    job_id     bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    kind       job_event_kind NOT NULL,
    status     job_status NOT NULL,
    attempt    integer NOT NULL,
    worker_id  text,
    actor      text,
    progress_percentage smallint,
    stage      text,
    message    text,
    created_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE job_events IS 'Append-only history of every job transition. Ids increase monotonically, so a client resumes a feed with since=<last id seen>. Deleted with their job when it is pruned.';
COMMENT ON COLUMN job_events.id IS 'Event id, increasing; the SSE event id.';
COMMENT ON COLUMN job_events.job_id IS 'The job this happened to.';
COMMENT ON COLUMN job_events.kind IS 'What happened (enum job_event_kind).';
COMMENT ON COLUMN job_events.status IS 'The job''s status right after the event.';
COMMENT ON COLUMN job_events.attempt IS 'The job''s attempt number right after the event.';
COMMENT ON COLUMN job_events.worker_id IS 'The worker involved (claimer, lease holder), if any.';
COMMENT ON COLUMN job_events.actor IS 'The API key name of the person who caused it (create, approve, cancel, retry), if any.';
COMMENT ON COLUMN job_events.progress_percentage IS 'Progress at the time of the event.';
COMMENT ON COLUMN job_events.stage IS 'Stage at the time of the event.';
COMMENT ON COLUMN job_events.message IS 'Error text for failed/retried/reclaimed, otherwise a short note.';
COMMENT ON COLUMN job_events.created_at IS 'When it happened (database clock).';

CREATE INDEX job_events_job_idx ON job_events (job_id, id);
COMMENT ON INDEX job_events_job_idx IS 'A job''s history in order; also serves the cascade delete when jobs are pruned.';


CREATE TABLE workers (
    id           text PRIMARY KEY,
    name         text NOT NULL,
    host         text NOT NULL,
    pid          bigint NOT NULL,
    queues       text[] NOT NULL,
    concurrency  integer NOT NULL CHECK (concurrency > 0),
    running      integer NOT NULL DEFAULT 0 CHECK (running >= 0),
    started_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE workers IS 'Live worker processes. Each one updates last_seen_at with its heartbeat; rows not seen for longer than the expiry are deleted by maintenance.';
COMMENT ON COLUMN workers.id IS 'Unique per process start: <name>/<random suffix>. This is what jobs.locked_by holds.';
COMMENT ON COLUMN workers.name IS 'Configured worker name (GAFFER_WORKER_NAME). A worker that starts under the name of a dead predecessor frees the predecessor''s jobs at once.';
COMMENT ON COLUMN workers.host IS 'Host name of the process.';
COMMENT ON COLUMN workers.pid IS 'Operating-system process id.';
COMMENT ON COLUMN workers.queues IS 'Queues the worker claims from.';
COMMENT ON COLUMN workers.concurrency IS 'How many jobs it runs at once at most.';
COMMENT ON COLUMN workers.running IS 'How many jobs it ran at its last heartbeat.';
COMMENT ON COLUMN workers.started_at IS 'When the process registered.';
COMMENT ON COLUMN workers.last_seen_at IS 'Its last heartbeat (database clock).';

CREATE INDEX workers_name_idx ON workers (name);


-- db-scheduler's table (its PostgreSQL layout, columns as that library expects). Gaffer runs its
-- cluster-singleton maintenance (reclaim, prune, worker expiry) as db-scheduler recurring tasks.
CREATE TABLE scheduled_tasks (
    task_name            text NOT NULL,
    task_instance        text NOT NULL,
    task_data            bytea,
    execution_time       timestamptz NOT NULL,
    picked               boolean NOT NULL,
    picked_by            text,
    last_success         timestamptz,
    last_failure         timestamptz,
    consecutive_failures integer,
    last_heartbeat       timestamptz,
    version              bigint NOT NULL,
    priority             smallint,
    PRIMARY KEY (task_name, task_instance)
);
CREATE INDEX scheduled_tasks_execution_time_idx ON scheduled_tasks (execution_time);
CREATE INDEX scheduled_tasks_last_heartbeat_idx ON scheduled_tasks (last_heartbeat);
CREATE INDEX scheduled_tasks_priority_execution_time_idx ON scheduled_tasks (priority DESC, execution_time);
COMMENT ON TABLE scheduled_tasks IS 'db-scheduler''s executions: Gaffer''s maintenance tasks (reclaim, prune, expire-workers). Managed by the library; read-only for people.';
COMMENT ON COLUMN scheduled_tasks.task_name IS 'Task name, e.g. gaffer-reclaim.';
COMMENT ON COLUMN scheduled_tasks.task_instance IS 'Instance id within the task (recurring tasks have one).';
COMMENT ON COLUMN scheduled_tasks.task_data IS 'Serialized task data (unused by Gaffer''s tasks).';
COMMENT ON COLUMN scheduled_tasks.execution_time IS 'Next time the task is due.';
COMMENT ON COLUMN scheduled_tasks.picked IS 'True while a scheduler instance runs it.';
COMMENT ON COLUMN scheduled_tasks.picked_by IS 'Name of the scheduler instance running it.';
COMMENT ON COLUMN scheduled_tasks.last_success IS 'When it last succeeded.';
COMMENT ON COLUMN scheduled_tasks.last_failure IS 'When it last failed.';
COMMENT ON COLUMN scheduled_tasks.consecutive_failures IS 'Failures since the last success.';
COMMENT ON COLUMN scheduled_tasks.last_heartbeat IS 'Heartbeat of the running execution; a stale one marks a dead execution.';
COMMENT ON COLUMN scheduled_tasks.version IS 'Optimistic-locking version.';
COMMENT ON COLUMN scheduled_tasks.priority IS 'Execution priority (higher first).';


-- For DBAs: each parent with its sub-jobs counted by status.
CREATE VIEW job_trees AS
SELECT p.id            AS parent_id,
       p.type          AS parent_type,
       p.status        AS parent_status,
       p.current_stage AS parent_stage,
       p.subjobs_total,
       p.subjobs_open,
       count(c.id) FILTER (WHERE c.status = 'approved')   AS approved,
       count(c.id) FILTER (WHERE c.status = 'processing') AS processing,
       count(c.id) FILTER (WHERE c.status = 'waiting')    AS waiting,
       count(c.id) FILTER (WHERE c.status = 'completed')  AS completed,
       count(c.id) FILTER (WHERE c.status = 'failed')     AS failed,
       count(c.id) FILTER (WHERE c.status = 'cancelled')  AS cancelled
  FROM jobs p
  JOIN jobs c ON c.parent_id = p.id
 GROUP BY p.id;
COMMENT ON VIEW job_trees IS 'Each job that has sub-jobs, with its sub-jobs counted by status. subjobs_open should equal approved + processing + waiting (+ pending, never used for sub-jobs).';
