-- Waiting for external work (issue 19): the event kinds only; V026 uses them, in a transaction of
-- its own (PostgreSQL does not let the transaction that adds an enum value use it).
--
--   job_event_kind 'awaiting_callback'  the handler handed work to an external service and gave
--                                        its lease back until the service calls back (or a poll).
--   job_event_kind 'callback_received'  the service called back with the job's token (the API).

ALTER TYPE job_event_kind ADD VALUE IF NOT EXISTS 'awaiting_callback';
ALTER TYPE job_event_kind ADD VALUE IF NOT EXISTS 'callback_received';
