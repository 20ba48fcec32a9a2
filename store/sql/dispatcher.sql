-- name: claim_deliveries
-- One statement claims a batch and re-checks suppression: a delivery whose
-- address was suppressed after it was queued is cancelled here, not sent.
-- Deliveries of paused enrollments are held (migration 00010); the few that
-- stay queued (in flight when the person paused) wait here for the resume.
-- The enrollment and subscriber are looked up per claimed row (scalar
-- subqueries, always by primary key) rather than joined: a join lets the
-- planner hash a sequential scan of all enrollments into every claim.
-- A delivery without an enrollment (a confirmation, a test) goes out.
WITH c AS (
    SELECT d.id,
           coalesce((SELECT e.timezone FROM enrollments e WHERE e.id = d.enrollment_id),
                    (SELECT s.timezone FROM subscribers s WHERE s.id = d.subscriber_id), 'UTC') AS timezone
    FROM deliveries d
    WHERE d.status = 'queued' AND d.channel = $2 AND d.not_before <= $1
      AND coalesce((SELECT e.status IN ('active', 'completed') OR (d.kind = 'confirm' AND e.status = 'pending')
                    FROM enrollments e WHERE e.id = d.enrollment_id), true)
    ORDER BY d.not_before
    LIMIT $3
    FOR UPDATE OF d SKIP LOCKED
), sup AS (
    SELECT c.id FROM c JOIN deliveries d ON d.id = c.id
    -- An erased person's opt-out is kept as a hash (store/sql/admin.sql).
    JOIN suppressions x ON x.channel = d.channel
        AND x.address IN (d.to_addr, erased_address(d.to_addr))
)
UPDATE deliveries d
SET status = CASE WHEN d.id IN (SELECT id FROM sup) THEN 'cancelled' ELSE 'sending' END,
    error = CASE WHEN d.id IN (SELECT id FROM sup) THEN 'address suppressed' ELSE d.error END,
    attempts = d.attempts + CASE WHEN d.id IN (SELECT id FROM sup) THEN 0 ELSE 1 END,
    -- Only a message in flight holds a lease (migration 00008 indexes it).
    lease_until = CASE WHEN d.id IN (SELECT id FROM sup) THEN NULL
                       ELSE $1::timestamptz + $4 * interval '1 millisecond' END,
    claimed_by = $5, updated_at = $1
FROM c
WHERE d.id = c.id
RETURNING d.id, coalesce(d.enrollment_id, 0) AS enrollment_id, coalesce(d.subscriber_id, 0) AS subscriber_id,
          d.step_key, d.kind, d.phase, d.channel, d.to_addr, d.status, d.attempts, d.due_at, d.subject, d.preheader,
          d.body_text, d.body_html, d.unsubscribe_url, c.timezone, coalesce(d.program_version_id, 0) AS program_version_id,
          coalesce(d.day, 0) AS day, coalesce(d.first_name, '') AS first_name,
          coalesce(d.checkin_token, '') AS checkin_token, d.stop_hint;

-- name: ack_deliveries
-- Fenced by attempts: a worker whose lease was rescued and re-claimed cannot
-- overwrite the newer attempt's outcome. A message put back for quiet hours
-- (deferred) was not attempted: its attempt is not counted.
-- A MERGE, not an UPDATE ... FROM unnest(): the fence in an UPDATE's WHERE
-- is also an estimate of how many rows deliveries gives, and statistics
-- that count few messages in flight (the usual case: a table of sent mail)
-- made PostgreSQL loop over the whole batch for every row, or scan the
-- table, for each batch: 250 ms to 450 ms for 1,000 messages among 200,000
-- where looking each up by id takes 10 ms. In a MERGE the fence is the
-- action's condition and the join is on id alone; "d.id = ANY($2)" has
-- deliveries read through its primary key, the batch's rows and no others,
-- whatever the statistics (TestBatchOutcomesProbeByID).
MERGE INTO deliveries d
USING unnest($2::bigint[], $3::int[], $4::text[], $5::text[], $6::text[], $7::text[], $8::timestamptz[],
             $9::boolean[])
      AS u(id, attempt, status, provider_id, code, err, retry_at, deferred)
ON d.id = u.id AND d.id = ANY($2::bigint[])
WHEN MATCHED AND d.status = 'sending' AND d.attempts = u.attempt THEN UPDATE
SET status = u.status, provider_id = nullif(u.provider_id, ''), error_code = nullif(u.code, ''),
    error = nullif(u.err, ''), not_before = coalesce(u.retry_at, d.not_before), lease_until = NULL,
    attempts = d.attempts - CASE WHEN u.deferred THEN 1 ELSE 0 END,
    sent_at = CASE WHEN u.status = 'sent' THEN $1 ELSE d.sent_at END, updated_at = $1;

-- name: insert_suppressions
INSERT INTO suppressions (channel, address, reason, source, created_at)
SELECT u.channel, u.address, u.reason, u.source, $1
FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(channel, address, reason, source)
ON CONFLICT (channel, address) DO NOTHING;

-- name: cancel_queued_to
UPDATE deliveries d
SET status = 'cancelled', error = 'address suppressed', updated_at = $1
FROM unnest($2::text[], $3::text[]) AS u(channel, address)
WHERE d.channel = u.channel AND d.to_addr = u.address AND d.status IN ('queued', 'held');

-- name: rescue_expired_leases
-- Rows whose worker died mid-batch go back to the queue (or fail, when they
-- have used every attempt).
UPDATE deliveries
SET status = CASE WHEN attempts >= $2 THEN 'failed' ELSE 'queued' END,
    error = CASE WHEN attempts >= $2 THEN 'lease expired on the last attempt' ELSE 'lease expired' END,
    lease_until = NULL, not_before = $1, updated_at = $1
WHERE status = 'sending' AND lease_until < $1
RETURNING id;

-- name: cancel_suppressed_claimed
-- A claimed batch that takes a while to send (a rate-limited channel, a slow
-- provider, or messages the planner handed over that waited for the
-- dispatcher) re-checks, for the messages it has not started yet, what the
-- claim checks: an opt-out recorded since still wins (cancelled), a person
-- who left the program since gets nothing more (cancelled), and a paused
-- person's message waits for them again (queued, the attempt not counted).
-- Fenced like the ack. Returns every message that must not be sent now,
-- with its new status.
-- The batch is read by id alone and its state checked after (materialized,
-- so the check is not pushed into the scan): a status test in the scan is
-- also an estimate, and statistics that count few messages in flight made
-- PostgreSQL compare every row with every message of the batch (see
-- ack_deliveries). The stop list is usually empty, and at most the batch.
WITH c AS MATERIALIZED (
    SELECT d.id, u.attempt, d.status = 'sending' AND d.attempts = u.attempt AS ours,
           EXISTS (SELECT 1 FROM suppressions x
                   WHERE x.channel = d.channel
                     AND x.address IN (d.to_addr, erased_address(d.to_addr))) AS suppressed,
           (SELECT e.status FROM enrollments e WHERE e.id = d.enrollment_id) AS enrollment
    FROM deliveries d
    JOIN unnest($2::bigint[], $3::int[]) AS u(id, attempt) ON d.id = u.id
    WHERE d.id = ANY($2::bigint[])
), stop AS MATERIALIZED (
    SELECT c.id, c.attempt, c.suppressed, c.enrollment FROM c
    WHERE c.ours
      AND (c.suppressed
           OR c.enrollment = 'paused'
           OR (c.enrollment IS NOT NULL AND c.enrollment NOT IN ('active', 'completed', 'pending')))
)
UPDATE deliveries d
-- A message in flight when its person paused goes back to the queue, not to
-- 'held': the pause is read here without a lock, and a resume committing
-- meanwhile would leave a held message under a running enrollment. The
-- claim's status filter keeps it waiting.
SET status = CASE WHEN NOT s.suppressed AND s.enrollment = 'paused' THEN 'queued' ELSE 'cancelled' END,
    attempts = d.attempts - CASE WHEN NOT s.suppressed AND s.enrollment = 'paused' THEN 1 ELSE 0 END,
    error = CASE WHEN s.suppressed THEN 'address suppressed'
                 WHEN s.enrollment = 'paused' THEN d.error
                 ELSE 'enrollment ended' END,
    lease_until = NULL, updated_at = $1
FROM stop s
-- The fence again, on the row as it is when locked: c read it from the
-- statement's snapshot, and a row rescued and claimed again meanwhile is
-- 'sending' under another worker's newer attempt (TestRecheckFencedByAttempt).
WHERE d.id = s.id AND d.status = 'sending' AND d.attempts = s.attempt
RETURNING d.id, d.status;

-- name: release_claimed
-- A dispatcher that is shutting down gives back the claimed messages it has
-- not started: queued again at once, the attempt not counted. Fenced like
-- the ack, and a MERGE like it.
MERGE INTO deliveries d
USING unnest($2::bigint[], $3::int[]) AS u(id, attempt)
ON d.id = u.id AND d.id = ANY($2::bigint[])
WHEN MATCHED AND d.status = 'sending' AND d.attempts = u.attempt THEN UPDATE
SET status = 'queued', attempts = d.attempts - 1, lease_until = NULL, updated_at = $1;
