-- name: lock_enrollment
SELECT e.id, e.subscriber_id, e.program_version_id, e.program, e.status, e.timezone, e.start_date,
       e.track, e.track_origin, e.shift_days, e.cursor, e.cron_cursors, e.last_lesson, e.extensions,
       e.sms_count, e.phase, e.next_due_at, e.paused_at,
       s.first_name, coalesce(s.email, '') AS email, coalesce(s.phone, '') AS phone,
       s.email_status, s.sms_status
FROM enrollments e
JOIN subscribers s ON s.id = e.subscriber_id
WHERE e.id = $1
FOR UPDATE OF e;

-- name: pause_enrollment
UPDATE enrollments SET status = 'paused', paused_at = $2, paused_until = $3, updated_at = $2
WHERE id = $1 AND status = 'active';

-- name: resume_enrollment
-- The calendar shifts by the whole days the person was away, queued
-- messages included, so nothing piles up on the day they come back.
UPDATE enrollments
SET status = 'active', paused_at = NULL, paused_until = NULL,
    shift_days = shift_days + $3, next_due_at = $4, updated_at = $2
WHERE id = $1 AND status = 'paused';

-- name: lock_queued_of_enrollment
-- On resume: what was held for the person (and anything still queued), to
-- go back to the queue shifted by the pause. An enrollment's deliveries are
-- found through delivery_keys (migration 00007). Locked, in id order, so
-- that the times computed from these rows are the ones written.
SELECT d.id, d.not_before FROM deliveries d
WHERE d.id IN (SELECT k.delivery_id FROM delivery_keys k WHERE k.enrollment_id = $1) AND d.status IN ('queued', 'held')
ORDER BY d.id
FOR UPDATE;

-- name: shift_queued_deliveries
-- The rows lock_queued_of_enrollment read go back to the queue at the
-- times ($3) the engine computed: the shift is in the enrollment's local
-- calendar days, not in 24-hour steps, so a 09:00 lesson stays at 09:00
-- local across a DST change, and a wall time the shift puts in a DST gap or
-- overlap resolves as the engine resolves every other (scheduler.Resolve),
-- which AT TIME ZONE does not. A time already past goes now.
UPDATE deliveries d
SET status = 'queued', not_before = greatest(u.not_before, $1), updated_at = $1
FROM unnest($2::bigint[], $3::timestamptz[]) AS u(id, not_before)
WHERE d.id = u.id AND d.id = ANY($2::bigint[]) AND d.status IN ('queued', 'held');

-- name: hold_queued_of_enrollment
-- On pause: the person's queued messages leave the queue until they resume
-- (migration 00010).
UPDATE deliveries SET status = 'held', updated_at = $2
WHERE id IN (SELECT k.delivery_id FROM delivery_keys k WHERE k.enrollment_id = $1) AND status = 'queued';

-- name: unenroll
UPDATE enrollments SET status = 'unenrolled', next_due_at = NULL, updated_at = $2
WHERE id = $1 AND status IN ('pending', 'active', 'paused');

-- name: cancel_queued_of_enrollment
UPDATE deliveries SET status = 'cancelled', error = $3, updated_at = $2
WHERE id IN (SELECT k.delivery_id FROM delivery_keys k WHERE k.enrollment_id = $1) AND status IN ('queued', 'held');

-- name: due_to_resume
SELECT id FROM enrollments WHERE status = 'paused' AND paused_until <= $1 LIMIT 100;

-- name: save_enrollment_state
UPDATE enrollments
SET track = $2, track_origin = $3, shift_days = $4, cursor = $5, cron_cursors = $6::jsonb,
    extensions = $7::jsonb, next_due_at = $8, phase = $9, updated_at = $10,
    status = CASE WHEN status = 'completed' THEN 'active' ELSE status END, completed_at = NULL
WHERE id = $1 AND status IN ('active', 'paused', 'completed');

-- name: activate_enrollment
UPDATE enrollments SET status = 'active', start_date = $3, next_due_at = $4, updated_at = $2
WHERE id = $1 AND status = 'pending';

-- name: cancel_queued_lessons
UPDATE deliveries SET status = 'cancelled', error = 'track switched', updated_at = $2
WHERE id IN (SELECT k.delivery_id FROM delivery_keys k WHERE k.enrollment_id = $1) AND status IN ('queued', 'held') AND kind = 'lesson';

-- name: confirmations_planned
-- How many rounds of confirmation messages an enrollment was sent (the most
-- on any one channel), and when the last was planned.
SELECT coalesce(max(x.n), 0) AS rounds, max(x.last) AS last
FROM (SELECT k.channel, count(*) AS n, max(d.created_at) AS last
      FROM delivery_keys k JOIN deliveries d ON d.id = k.delivery_id
      WHERE k.enrollment_id = $1 AND d.kind = 'confirm'
      GROUP BY k.channel) x;

-- name: pending_enrollment_of
-- A person's enrollment in a program that still waits for confirmation,
-- found by their email ($1) or phone ($2).
SELECT e.id FROM enrollments e JOIN subscribers s ON s.id = e.subscriber_id
WHERE (($1 <> '' AND s.email = $1) OR ($2 <> '' AND s.phone = $2))
  AND e.program = $3 AND e.status = 'pending'
ORDER BY e.id
LIMIT 1;

-- name: running_enrollment_to_reconfirm
-- A person's running enrollment in a program ($2) whose email ($1), on file
-- and given again at sign-up, is not confirmed: it never was, or an opt-out
-- of it was lifted. Signing up again asks them to confirm it.
SELECT e.id FROM enrollments e JOIN subscribers s ON s.id = e.subscriber_id
WHERE $1 <> '' AND s.email = $1 AND s.email_status IN ('none', 'pending')
  AND e.program = $2 AND e.status IN ('active', 'paused')
ORDER BY e.id
LIMIT 1;
