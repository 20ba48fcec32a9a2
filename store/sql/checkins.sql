-- name: checkin_by_token
SELECT c.id, c.enrollment_id, c.step_key, c.occurrence, c.prompt, c.opened_at, c.closes_at,
       coalesce(c.answer, '') AS answer
FROM checkins c WHERE c.token = $1;

-- name: open_checkin_of_subscriber
-- The most recent check-in already sent (or being sent) to this person,
-- answered or not, in an enrollment that is still running.
-- Every inbound text asks this. The person's enrollments are found through
-- person_enrollments (migration 00009), each status through its partial
-- index: "subscriber_id = $1 AND status IN ('active', 'paused',
-- 'completed')" matches neither index whole, and PostgreSQL read every
-- enrollment for each reply (TestDueQueriesUseIndexes).
SELECT c.id, c.enrollment_id, c.step_key, c.occurrence, c.prompt, c.opened_at, c.closes_at,
       coalesce(c.answer, '') AS answer
FROM checkins c
JOIN enrollments e ON e.id = c.enrollment_id
WHERE e.id IN (SELECT p.id FROM person_enrollments($1) AS p(id))
  AND e.status IN ('active', 'paused', 'completed') AND c.opened_at <= $2
ORDER BY c.opened_at DESC, c.id DESC
LIMIT 1;

-- name: lock_checkin
SELECT c.id, c.enrollment_id, c.step_key, c.occurrence, c.prompt, c.opened_at, c.closes_at,
       coalesce(c.answer, '') AS answer
FROM checkins c WHERE c.id = $1 FOR UPDATE;

-- name: set_checkin_answer
UPDATE checkins
SET answer = $2, answered_at = $3, source = $4, reply_text = nullif($5, '')
WHERE id = $1;

-- name: recent_answers
-- The latest answers to one prompt in an enrollment, newest first (streaks).
SELECT answer FROM checkins
WHERE enrollment_id = $1 AND prompt = $2 AND answer IS NOT NULL
ORDER BY opened_at DESC, id DESC
LIMIT $3;

-- name: purge_replies
UPDATE checkins SET reply_text = NULL WHERE reply_text IS NOT NULL AND answered_at < $1;
