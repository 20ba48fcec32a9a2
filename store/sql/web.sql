-- Queries of the subscriber-facing web server (package web).

-- name: web_claim_inbound
-- Twilio retries a webhook it thinks failed, with the same MessageSid. The
-- row's result says where handling stands: '' while an attempt handles it,
-- 'failed: ...' after an attempt gave up, anything else once it is done. A
-- new message, a failed one, or one whose attempt was abandoned (still ''
-- since before $6: the process died) is claimed by this attempt and returns
-- its id; received_at becomes the time of the copy now being handled.
INSERT INTO inbound_messages (provider_id, channel, from_addr, body, received_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (provider_id) DO UPDATE SET result = '', received_at = EXCLUDED.received_at
WHERE inbound_messages.result LIKE 'failed:%'
   OR (inbound_messages.result = '' AND inbound_messages.received_at < $6)
RETURNING id;

-- name: web_inbound_result
SELECT result FROM inbound_messages WHERE provider_id = $1;

-- name: web_set_inbound_result
-- Only the attempt that holds the message (result '') records its outcome.
UPDATE inbound_messages SET result = $2 WHERE provider_id = $1 AND result = '';

-- name: web_subscriber_by_id
SELECT id, first_name, coalesce(email, '') AS email, coalesce(phone, '') AS phone, timezone,
       email_status, sms_status
FROM subscribers WHERE id = $1;

-- name: web_set_channel_status
UPDATE subscribers
SET email_status = CASE WHEN $2::text = 'email' THEN $3::text ELSE email_status END,
    sms_status = CASE WHEN $2::text = 'sms' THEN $3::text ELSE sms_status END,
    updated_at = $4
WHERE id = $1;

-- name: web_insert_consent
INSERT INTO consents (subscriber_id, channel, action, consent_text, source, ip, user_agent, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8);

-- name: web_delete_suppression
-- Also lifts the hashed opt-out an erasure keeps (store/sql/admin.sql).
DELETE FROM suppressions
WHERE channel = $1::text
  AND address IN ($2::text, erased_address($2::text));

-- name: web_enrollment_version
SELECT program_version_id FROM enrollments WHERE id = $1;

-- name: web_enrollments_of
SELECT id, program, status FROM enrollments
WHERE subscriber_id = $1 AND status IN ('pending', 'active', 'paused')
ORDER BY id;

-- name: suppressed_channels
-- Which of an email ($1) and a phone ($2) opted out (or bounced for good),
-- in either form a suppression is kept (an erased person's as a hash).
SELECT coalesce(array_agg(DISTINCT channel ORDER BY channel), '{}') AS channels
FROM suppressions
WHERE ($1 <> '' AND channel = 'email' AND address IN ($1, erased_address($1)))
   OR ($2 <> '' AND channel = 'sms' AND address IN ($2, erased_address($2)));
