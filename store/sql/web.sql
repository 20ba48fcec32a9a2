-- Queries of the subscriber-facing web server (package web).

-- name: web_insert_inbound
-- Twilio retries a webhook it thinks failed; the MessageSid makes a replay a no-op.
INSERT INTO inbound_messages (provider_id, channel, from_addr, body, received_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (provider_id) DO NOTHING
RETURNING id;

-- name: web_set_inbound_result
UPDATE inbound_messages SET result = $2 WHERE provider_id = $1;

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
DELETE FROM suppressions WHERE channel = $1 AND address = $2;

-- name: web_enrollment_version
SELECT program_version_id FROM enrollments WHERE id = $1;

-- name: web_enrollments_of
SELECT id, program, status FROM enrollments
WHERE subscriber_id = $1 AND status IN ('pending', 'active', 'paused')
ORDER BY id;
