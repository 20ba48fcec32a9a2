-- name: set_delivery_status
-- A provider's later report (a Twilio status callback) on a message it
-- accepted. Only a message we recorded as 'sent' moves, and only once:
-- 'delivered', 'undelivered' and 'failed' are final, so a repeated, late or
-- out-of-order report (a 'sent' after 'delivered', a second 'failed')
-- matches no row and changes nothing.
UPDATE deliveries
SET status = $4::text, error_code = nullif($5::text, ''), error = nullif($6::text, ''), updated_at = $1
WHERE channel = $2 AND provider_id = $3 AND status = 'sent'
RETURNING id, coalesce(subscriber_id, 0) AS subscriber_id, coalesce(enrollment_id, 0) AS enrollment_id,
          to_addr, status;

-- name: delivery_by_provider_id
-- What a report that moved nothing refers to: a known message in another
-- state, or none (a message from before this database, or another system's).
SELECT id, coalesce(subscriber_id, 0) AS subscriber_id, coalesce(enrollment_id, 0) AS enrollment_id,
       to_addr, status
FROM deliveries
WHERE channel = $1 AND provider_id = $2
ORDER BY id
LIMIT 1;

-- name: keep_status_callback
-- A final report on a message whose SID no delivery carries yet: the
-- dispatcher records a batch's SIDs when the whole batch is done, and
-- Twilio can be quicker. The first final report stays (as on a delivery,
-- whose final status nothing moves), so the outcome is the same whether a
-- report came early or on time.
INSERT INTO status_callbacks (message_sid, status, error_code, received_at)
VALUES ($2, $3, nullif($4::text, ''), $1)
ON CONFLICT (message_sid) DO NOTHING;

-- name: delete_kept_status_callback
-- Once applied, guarded by what was read.
DELETE FROM status_callbacks
WHERE message_sid = $1 AND status = $2 AND coalesce(error_code, '') = $3;

-- name: known_kept_status_callbacks
-- Kept reports whose SMS now carries its SID, oldest first.
SELECT c.message_sid, c.status, coalesce(c.error_code, '') AS error_code, c.received_at
FROM status_callbacks c
WHERE EXISTS (SELECT 1 FROM deliveries d WHERE d.channel = 'sms' AND d.provider_id = c.message_sid)
ORDER BY c.received_at, c.message_sid
LIMIT $1;

-- name: expire_kept_status_callbacks
-- Kept reports received before $1 whose SID still names no SMS: not ours,
-- or a message whose outcome was never recorded.
DELETE FROM status_callbacks c
WHERE c.received_at < $1
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.channel = 'sms' AND d.provider_id = c.message_sid)
RETURNING c.message_sid, c.status, coalesce(c.error_code, '') AS error_code, c.received_at;
