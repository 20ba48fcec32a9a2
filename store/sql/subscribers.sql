-- name: upsert_subscriber
-- Finds a person by email or phone, or creates them.
INSERT INTO subscribers (first_name, email, phone, timezone, email_status, sms_status, created_at, updated_at)
VALUES ($1, nullif($2, ''), nullif($3, ''), $4, $5, $6, $7, $7)
ON CONFLICT (email) DO UPDATE
    SET first_name = CASE WHEN excluded.first_name <> '' THEN excluded.first_name ELSE subscribers.first_name END,
        phone = coalesce(subscribers.phone, excluded.phone),
        timezone = excluded.timezone,
        email_status = CASE WHEN subscribers.email_status = 'confirmed' THEN 'confirmed' ELSE excluded.email_status END,
        sms_status = CASE WHEN subscribers.sms_status = 'confirmed' THEN 'confirmed'
                          WHEN excluded.sms_status = 'none' THEN subscribers.sms_status
                          ELSE excluded.sms_status END,
        updated_at = excluded.updated_at
RETURNING id;

-- name: subscriber_by_phone
SELECT id FROM subscribers WHERE phone = $1;

-- name: update_subscriber_channels
-- $7 and $8 are the email and phone to keep ('' keeps the one on file).
UPDATE subscribers
SET first_name = CASE WHEN $2 <> '' THEN $2 ELSE first_name END,
    timezone = $3,
    email_status = CASE WHEN $4 <> 'none' THEN $4 ELSE email_status END,
    sms_status = CASE WHEN $5 <> 'none' THEN $5 ELSE sms_status END,
    updated_at = $6,
    email = CASE WHEN $7 <> '' THEN $7 ELSE email END,
    phone = CASE WHEN $8 <> '' THEN $8 ELSE phone END
WHERE id = $1;

-- name: subscribers_by_contact
-- Everyone holding the email ($1) or the phone ($2): at most two people.
SELECT id, first_name, coalesce(email, '') AS email, coalesce(phone, '') AS phone, timezone,
       email_status, sms_status
FROM subscribers
WHERE ($1 <> '' AND email = $1) OR ($2 <> '' AND phone = $2)
ORDER BY id;

-- name: insert_consent
INSERT INTO consents (subscriber_id, channel, action, consent_text, source, ip, user_agent, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: insert_enrollment
INSERT INTO enrollments (subscriber_id, program_version_id, program, status, timezone, start_date, track,
                         phase, next_due_at, created_at, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
RETURNING id;

-- name: find_subscriber
SELECT id, first_name, coalesce(email, '') AS email, coalesce(phone, '') AS phone, timezone,
       email_status, sms_status
FROM subscribers
WHERE ($1 <> '' AND email = $1) OR ($2 <> '' AND phone = $2);

-- name: live_enrollments_of
SELECT id, program, status, paused_until, timezone FROM enrollments
WHERE subscriber_id = $1 AND status IN ('pending', 'active', 'paused')
ORDER BY id;

-- name: insert_event
INSERT INTO events (subscriber_id, enrollment_id, kind, data, created_at)
VALUES (nullif($1, 0), nullif($2, 0), $3, $4, $5);

-- name: lock_subscriber_enrollments
-- Before delete_subscriber, in the same transaction: a planner batch that
-- holds one of these enrollments commits its deliveries first, so the
-- delete, a new statement, sees them.
SELECT e.id FROM enrollments e
WHERE e.id IN (SELECT p.id FROM subscribers s, person_enrollments(s.id) AS p(id)
               WHERE ($1 <> '' AND s.email = $1) OR ($2 <> '' AND s.phone = $2))
ORDER BY e.id
FOR UPDATE OF e;

-- name: delete_subscriber
-- Deliveries have no foreign key to cascade through (migration 00006); a
-- person's are found through delivery_keys (migration 00007).
WITH gone AS (
    DELETE FROM subscribers WHERE ($1 <> '' AND email = $1) OR ($2 <> '' AND phone = $2) RETURNING id
), keys AS (
    DELETE FROM delivery_keys WHERE subscriber_id IN (SELECT id FROM gone) RETURNING delivery_id
)
DELETE FROM deliveries WHERE id IN (SELECT delivery_id FROM keys);

-- name: delete_suppressions_of
DELETE FROM suppressions WHERE (channel = 'email' AND address = $1) OR (channel = 'sms' AND address = $2);

-- name: enrollment_finished
SELECT e.status IN ('completed', 'unenrolled') AND NOT EXISTS (
    SELECT 1 FROM delivery_keys k JOIN deliveries d ON d.id = k.delivery_id
    WHERE k.enrollment_id = e.id AND d.status IN ('queued', 'sending'))
FROM enrollments e WHERE e.id = $1;
