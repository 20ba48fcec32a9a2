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
TRUNCATE subscribers, consents, enrollments, deliveries, delivery_keys, checkins, events, suppressions, inbound_messages
    RESTART IDENTITY;

-- name: bench_copy_subscribers
COPY subscribers (id, first_name, email, timezone, email_status, sms_status, created_at, updated_at) FROM STDIN;

-- name: bench_copy_enrollments
COPY enrollments (id, subscriber_id, program_version_id, program, status, timezone, start_date, track, phase,
                  next_due_at, created_at, updated_at) FROM STDIN;

-- name: bench_sequences
SELECT setval('subscribers_id_seq', greatest($1, 1)), setval('enrollments_id_seq', greatest($1, 1));

-- name: bench_analyze
ANALYZE subscribers, enrollments, deliveries, delivery_keys;

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

-- name: bench_bare_reset
-- The reference queue: the narrowest job table a general-purpose queue
-- would use, with the index its claim reads. Logged, like every table the
-- engine writes, so it pays the same commits and WAL.
DROP TABLE IF EXISTS bench_bare_jobs;
CREATE TABLE bench_bare_jobs (
    id          bigint PRIMARY KEY,
    state       text        NOT NULL,
    run_at      timestamptz NOT NULL,
    attempts    integer     NOT NULL DEFAULT 0,
    lease_until timestamptz
);

-- name: bench_bare_seed
INSERT INTO bench_bare_jobs (id, state, run_at)
SELECT i, 'available', $1::timestamptz FROM generate_series(1, $2::bigint) AS i;

-- name: bench_bare_index
CREATE INDEX bench_bare_jobs_due ON bench_bare_jobs (run_at) WHERE state = 'available';

-- name: bench_bare_analyze
ANALYZE bench_bare_jobs;

-- name: bench_bare_claim
UPDATE bench_bare_jobs j
SET state = 'running', attempts = j.attempts + 1, lease_until = $1::timestamptz + interval '1 minute'
FROM (SELECT id FROM bench_bare_jobs
      WHERE state = 'available' AND run_at <= $1
      ORDER BY run_at
      LIMIT $2
      FOR UPDATE SKIP LOCKED) c
WHERE j.id = c.id
RETURNING j.id;

-- name: bench_bare_ack
UPDATE bench_bare_jobs
SET state = 'completed', lease_until = NULL
WHERE id = ANY($1::bigint[]) AND state = 'running';

-- name: bench_bare_done
SELECT count(*) FROM bench_bare_jobs WHERE state = 'completed';

-- name: bench_lock
-- One run at a time per database: a second would empty the tables under
-- the first and both would measure nothing. Held by a session of its own
-- until the run ends (or its connection drops).
SELECT pg_try_advisory_lock(hashtext('rekindle bench'), 0);

-- name: bench_unlock
-- Released on the lock's own session before it closes: a closed
-- connection's session ends a moment later on the server, and a run started
-- in that moment would find the database still taken.
SELECT pg_advisory_unlock(hashtext('rekindle bench'), 0);
