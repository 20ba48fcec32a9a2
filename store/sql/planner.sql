-- name: claim_due_enrollments
-- Locks due enrollments for this transaction; other planners skip them.
SELECT e.id, e.subscriber_id, e.program_version_id, e.program, e.timezone,
       e.start_date, e.track, e.track_origin, e.shift_days, e.cursor,
       e.cron_cursors, e.last_lesson, e.extensions, e.sms_count, e.phase, e.next_due_at,
       s.first_name, coalesce(s.email, '') AS email, coalesce(s.phone, '') AS phone,
       s.email_status, s.sms_status
FROM enrollments e
JOIN subscribers s ON s.id = e.subscriber_id
WHERE e.status = 'active' AND e.next_due_at <= $1
ORDER BY e.next_due_at
LIMIT $2
FOR UPDATE OF e SKIP LOCKED;

-- name: insert_deliveries
-- A program step's row carries what it is rendered from when it is sent
-- (program_version_id, day, first_name, checkin_token, stop_hint) and no
-- bodies; a confirmation's carries its bodies and no version.
-- A row marked handoff is due now on a channel this process sends itself:
-- it is written already claimed ('sending', leased to $22 for $21 ms, first
-- attempt) and handed to the dispatcher in memory, which saves claiming it
-- back; or 'cancelled' when its address is suppressed, as a claim would.
-- One delivery per step, ever: the step's key goes into delivery_keys first
-- (migration 00007), and a step whose key is there already is skipped.
WITH u AS MATERIALIZED (
    SELECT nextval('deliveries_id_seq') AS id, u.*
    FROM unnest($2::bigint[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
                $9::timestamptz[], $10::timestamptz[], $11::text[], $12::text[], $13::text[], $14::text[],
                $15::text[], $16::bigint[], $17::int[], $18::text[], $19::text[], $20::boolean[], $23::boolean[])
         AS u(enrollment_id, subscriber_id, step_key, kind, phase, channel, to_addr, due_at, not_before,
              subject, preheader, body_text, body_html, unsubscribe_url, program_version_id, day,
              first_name, checkin_token, stop_hint, handoff)
), k AS (
    INSERT INTO delivery_keys (enrollment_id, step_key, channel, subscriber_id, delivery_id)
    SELECT u.enrollment_id, u.step_key, u.channel, u.subscriber_id, u.id FROM u
    ON CONFLICT ON CONSTRAINT delivery_keys_one_per_step DO NOTHING
    RETURNING delivery_id
)
INSERT INTO deliveries (id, enrollment_id, subscriber_id, step_key, kind, phase, channel, to_addr,
                        due_at, not_before, subject, preheader, body_text, body_html,
                        unsubscribe_url, program_version_id, day, first_name, checkin_token,
                        stop_hint, status, attempts, lease_until, claimed_by, error, created_at, updated_at)
SELECT u.id, u.enrollment_id, u.subscriber_id, u.step_key, u.kind, u.phase, u.channel, u.to_addr,
       u.due_at, u.not_before, u.subject, u.preheader, u.body_text, u.body_html,
       u.unsubscribe_url, nullif(u.program_version_id, 0), nullif(u.day, 0), nullif(u.first_name, ''),
       nullif(u.checkin_token, ''), u.stop_hint,
       CASE WHEN NOT u.handoff THEN 'queued' WHEN x.suppressed THEN 'cancelled' ELSE 'sending' END,
       CASE WHEN u.handoff AND NOT x.suppressed THEN 1 ELSE 0 END,
       CASE WHEN u.handoff AND NOT x.suppressed THEN $1::timestamptz + $21 * interval '1 millisecond' END,
       CASE WHEN u.handoff AND NOT x.suppressed THEN $22::text END,
       CASE WHEN u.handoff AND x.suppressed THEN 'address suppressed' END,
       $1, $1
FROM u
JOIN k ON k.delivery_id = u.id
CROSS JOIN LATERAL (
    -- An erased person's opt-out is kept as a hash (store/sql/admin.sql).
    SELECT u.handoff AND EXISTS (SELECT 1 FROM suppressions s
                                 WHERE s.channel = u.channel
                                   AND s.address IN (u.to_addr, erased_address(u.to_addr))) AS suppressed
) x
RETURNING id, enrollment_id, step_key, channel, status;

-- name: insert_checkins
INSERT INTO checkins (enrollment_id, step_key, occurrence, prompt, token, opened_at, closes_at, created_at)
SELECT u.enrollment_id, u.step_key, u.occurrence, u.prompt, u.token, u.opened_at, u.closes_at, $1
FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::timestamptz[])
     AS u(enrollment_id, step_key, occurrence, prompt, token, opened_at, closes_at)
ON CONFLICT (enrollment_id, occurrence) DO NOTHING;

-- name: update_planned_enrollments
-- Guarded by status: an enrollment paused or left meanwhile keeps its state.
-- "e.id = ANY($2)" repeats the join on the batch's ids so that enrollments
-- is read through its primary key: joined to unnest() alone, the planner
-- may hash a sequential scan of the whole table, which makes a batch cost
-- grow with everyone enrolled instead of with the batch.
UPDATE enrollments e
SET status = u.status, track = u.track, track_origin = u.origin, shift_days = u.shift,
    cursor = u.cursor, cron_cursors = u.cron_cursors::jsonb, last_lesson = u.last_lesson::jsonb,
    extensions = u.extensions::jsonb, sms_count = u.sms_count, phase = u.phase,
    next_due_at = u.next_due_at,
    completed_at = CASE WHEN u.status = 'completed' THEN $1 ELSE e.completed_at END,
    updated_at = $1
FROM unnest($2::bigint[], $3::text[], $4::text[], $5::int[], $6::int[], $7::bigint[], $8::text[],
            $9::text[], $10::text[], $11::int[], $12::text[], $13::timestamptz[])
     AS u(id, status, track, origin, shift, cursor, cron_cursors, last_lesson, extensions, sms_count,
          phase, next_due_at)
WHERE e.id = u.id AND e.id = ANY($2::bigint[]) AND e.status = 'active';

-- name: next_due_at
-- When the planner next has work; read from the enrollments_due index.
SELECT min(next_due_at) FROM enrollments WHERE status = 'active';
