-- Statements of `rekindle bench` only. They are not prepared by Store: a
-- daemon never needs them, and TRUNCATE has no place in its pool.

-- name: bench_marker
SELECT coalesce(shobj_description(d.oid, 'pg_database'), '')
FROM pg_database d
WHERE d.datname = current_database();

-- name: bench_has_schema
SELECT to_regclass('subscribers') IS NOT NULL;

-- name: bench_has_subscribers
SELECT EXISTS (SELECT 1 FROM subscribers);

-- name: bench_reset
TRUNCATE subscribers, consents, enrollments, deliveries, checkins, events, suppressions, inbound_messages
    RESTART IDENTITY;

-- name: bench_copy_subscribers
COPY subscribers (id, first_name, email, timezone, email_status, sms_status, created_at, updated_at) FROM STDIN;

-- name: bench_copy_enrollments
COPY enrollments (id, subscriber_id, program_version_id, program, status, timezone, start_date, track, phase,
                  next_due_at, created_at, updated_at) FROM STDIN;

-- name: bench_sequences
SELECT setval('subscribers_id_seq', greatest($1, 1)), setval('enrollments_id_seq', greatest($1, 1));

-- name: bench_analyze
ANALYZE subscribers, enrollments, deliveries;

-- name: bench_outcome
-- What a run left behind: enrollments still due and deliveries by status.
SELECT (SELECT count(*) FROM enrollments WHERE status = 'active' AND next_due_at <= $1) AS still_due,
       (SELECT count(*) FROM deliveries WHERE status = 'queued') AS queued,
       (SELECT count(*) FROM deliveries WHERE status = 'sent') AS sent,
       (SELECT count(*) FROM deliveries WHERE status NOT IN ('queued', 'sent')) AS other;

-- name: bench_server
SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync,
       current_setting('synchronous_commit') AS synchronous_commit,
       current_setting('shared_buffers') AS shared_buffers, current_setting('autovacuum') AS autovacuum;
