-- Operator commands: one person's data (show, export, erase) and moving
-- enrollments between program versions.
--
-- An erased address that must stay suppressed is kept as
-- erased_address(address), 'sha256:' || hex(sha256(lower(address)))
-- (migration 00004); the dispatcher's claim and re-check and the SMS START
-- path (store/sql/dispatcher.sql, web.sql) compare that same form.

-- name: admin_find_person
SELECT id, first_name, coalesce(email, '') AS email, coalesce(phone, '') AS phone, timezone,
       email_status, sms_status, created_at, updated_at
FROM subscribers
WHERE ($1::text <> '' AND email = $1::text) OR ($2::text <> '' AND phone = $2::text) OR ($3::bigint <> 0 AND id = $3::bigint);

-- name: admin_lock_person
SELECT id, first_name, coalesce(email, '') AS email, coalesce(phone, '') AS phone, timezone,
       email_status, sms_status, created_at, updated_at
FROM subscribers WHERE id = $1 FOR UPDATE;

-- name: admin_lock_person_enrollments
-- Erase locks the person's enrollments (waiting for a planner batch that
-- holds one), then their deliveries (a dispatcher's claim skips them from
-- then on), so what it counts as being sent stays true until it commits.
SELECT id FROM enrollments WHERE id IN (SELECT p.id FROM person_enrollments($1) AS p(id)) ORDER BY id FOR UPDATE;

-- name: admin_lock_person_deliveries
-- A person's deliveries are found through delivery_keys (migration 00007).
SELECT id FROM deliveries WHERE id IN (SELECT k.delivery_id FROM delivery_keys k WHERE k.subscriber_id = $1) ORDER BY id FOR UPDATE;

-- name: admin_person_consents
SELECT channel, action, source, created_at FROM consents WHERE subscriber_id = $1 ORDER BY created_at, id;

-- name: admin_person_enrollments
SELECT e.id, e.program, e.program_version_id, v.version, v.hash, e.status, e.track, e.phase, e.timezone,
       e.start_date, e.next_due_at, e.paused_until, e.completed_at
FROM enrollments e JOIN program_versions v ON v.id = e.program_version_id
WHERE e.id IN (SELECT p.id FROM person_enrollments($1) AS p(id)) ORDER BY e.id;

-- name: admin_person_delivery_counts
SELECT channel, status, count(*) AS n FROM deliveries WHERE id IN (SELECT k.delivery_id FROM delivery_keys k WHERE k.subscriber_id = $1)
GROUP BY channel, status ORDER BY channel, status;

-- name: admin_person_next_send
-- The next message waiting for this person: a queued delivery, or the next
-- step of a running enrollment, whichever comes first.
SELECT next_at, what FROM (
    SELECT not_before AS next_at, channel || ' ' || step_key AS what
    FROM deliveries WHERE id IN (SELECT k.delivery_id FROM delivery_keys k WHERE k.subscriber_id = $1) AND status = 'queued'
    UNION ALL
    SELECT next_due_at, program || ' next step' FROM enrollments
    WHERE subscriber_id = $1 AND status = 'active' AND next_due_at IS NOT NULL
) n ORDER BY next_at LIMIT 1;

-- name: admin_person_checkins
-- The person's enrollments through person_enrollments (migration 00009):
-- "subscriber_id = $1" alone matches no index.
SELECT count(*) AS total, count(c.answer) AS answered,
       coalesce((SELECT c2.prompt || ' = ' || c2.answer FROM checkins c2
                 WHERE c2.enrollment_id IN (SELECT p.id FROM person_enrollments($1) AS p(id))
                   AND c2.answer IS NOT NULL ORDER BY c2.answered_at DESC, c2.id DESC LIMIT 1), '') AS last
FROM checkins c WHERE c.enrollment_id IN (SELECT p.id FROM person_enrollments($1) AS p(id));

-- name: admin_person_suppressions
SELECT channel, CASE WHEN address LIKE 'sha256:%' THEN 'hashed' ELSE address END AS address, reason, source, created_at
FROM suppressions
WHERE ($1::text <> '' AND channel = 'email'
       AND address IN ($1::text, erased_address($1::text)))
   OR ($2::text <> '' AND channel = 'sms'
       AND address IN ($2::text, erased_address($2::text)))
ORDER BY created_at, id;

-- name: admin_person_erasure
-- What the erase of a person recorded (the opt-outs it kept as hashes).
SELECT data FROM events WHERE subscriber_id = $1 AND kind = 'erased' ORDER BY id DESC LIMIT 1;

-- name: admin_export_person
-- Everything held about one person as one JSON document, every column of
-- every row: $1 id, $2 email, $3 phone. Rows without a subscriber id (a test
-- send, an inbound text, an audit event) are found by the address they hold.
SELECT json_build_object(
    'subscriber', (SELECT row_to_json(s) FROM subscribers s WHERE s.id = $1),
    'consents', (SELECT coalesce(json_agg(c ORDER BY c.id), '[]') FROM consents c WHERE c.subscriber_id = $1),
    'enrollments', (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM (
        SELECT e.*, v.slug AS program_slug, v.version AS program_version, v.hash AS program_hash
        FROM enrollments e JOIN program_versions v ON v.id = e.program_version_id
        WHERE e.id IN (SELECT p.id FROM person_enrollments($1) AS p(id))) x),
    'deliveries', (SELECT coalesce(json_agg(d ORDER BY d.id), '[]') FROM deliveries d
        WHERE d.id IN (SELECT p.id FROM person_deliveries($1, $2, $3) AS p(id))),
    'checkins', (SELECT coalesce(json_agg(c ORDER BY c.id), '[]') FROM checkins c
        WHERE c.enrollment_id IN (SELECT p.id FROM person_enrollments($1) AS p(id))),
    'inbound_messages', (SELECT coalesce(json_agg(m ORDER BY m.id), '[]') FROM inbound_messages m
        WHERE ($2::text <> '' AND m.from_addr = $2::text) OR ($3::text <> '' AND m.from_addr = $3::text)),
    'suppressions', (SELECT coalesce(json_agg(x ORDER BY x.id), '[]') FROM suppressions x
        WHERE ($2::text <> '' AND x.channel = 'email'
               AND x.address IN ($2::text, erased_address($2::text)))
           OR ($3::text <> '' AND x.channel = 'sms'
               AND x.address IN ($3::text, erased_address($3::text)))),
    'events', (SELECT coalesce(json_agg(ev ORDER BY ev.id), '[]') FROM events ev
        WHERE ev.subscriber_id = $1
           OR ev.enrollment_id IN (SELECT p.id FROM person_enrollments($1) AS p(id))
           OR ($2::text <> '' AND strpos(ev.data::text, $2::text) > 0)
           OR ($3::text <> '' AND strpos(ev.data::text, $3::text) > 0))
)::text;

-- name: admin_erase_plan
-- What erase would touch, per table: $1 id, $2 email, $3 phone.
SELECT
    (SELECT count(*) FROM person_enrollments($1)) AS enrollments,
    (SELECT count(*) FROM enrollments WHERE subscriber_id = $1 AND status IN ('pending', 'active', 'paused')) AS live_enrollments,
    (SELECT count(*) FROM person_deliveries($1, $2, $3)) AS deliveries,
    (SELECT count(*) FROM deliveries WHERE id IN (SELECT k.delivery_id FROM delivery_keys k WHERE k.subscriber_id = $1) AND status IN ('queued', 'held')) AS queued_deliveries,
    -- Every message in flight to the person, also one held by the address
    -- alone: its ack would write the address back.
    (SELECT count(*) FROM deliveries d WHERE d.status = 'sending'
        AND d.id IN (SELECT p.id FROM person_deliveries($1, $2, $3) AS p(id))) AS sending_deliveries,
    (SELECT count(*) FROM checkins WHERE enrollment_id IN (SELECT p.id FROM person_enrollments($1) AS p(id))) AS checkins,
    (SELECT count(*) FROM checkins WHERE reply_text IS NOT NULL
        AND enrollment_id IN (SELECT p.id FROM person_enrollments($1) AS p(id))) AS reply_texts,
    (SELECT count(*) FROM consents WHERE subscriber_id = $1) AS consents,
    (SELECT count(*) FROM inbound_messages m
        WHERE ($2::text <> '' AND (m.from_addr = $2::text OR strpos(m.body, $2::text) > 0))
           OR ($3::text <> '' AND (m.from_addr = $3::text OR strpos(m.body, $3::text) > 0))) AS inbound_messages,
    (SELECT count(*) FROM suppressions
        WHERE ($2::text <> '' AND channel = 'email' AND address = $2::text)
           OR ($3::text <> '' AND channel = 'sms' AND address = $3::text)) AS suppressions,
    (SELECT count(*) FROM events ev
        WHERE ($2::text <> '' AND strpos(ev.data::text, $2::text) > 0)
           OR ($3::text <> '' AND strpos(ev.data::text, $3::text) > 0)) AS events;

-- name: admin_erase_enrollments
-- Running programs end; every enrollment keeps its program, phase, status
-- and dates for the counts, but not the person's time zone.
UPDATE enrollments
SET status = CASE WHEN status IN ('pending', 'active', 'paused') THEN 'unenrolled' ELSE status END,
    next_due_at = NULL, paused_at = NULL, paused_until = NULL, timezone = 'Etc/UTC', updated_at = $2
WHERE id IN (SELECT p.id FROM person_enrollments($1) AS p(id));

-- name: admin_erase_cancel_queued
UPDATE deliveries SET status = 'cancelled', error = 'subscriber erased', updated_at = $2
WHERE id IN (SELECT k.delivery_id FROM delivery_keys k WHERE k.subscriber_id = $1) AND status IN ('queued', 'held');

-- name: admin_erase_deliveries
-- Rows stay (step, channel, status, attempts and times keep the counts);
-- the address, the rendered message or the name it is rendered with, the
-- check-in token and the provider's message id go.
UPDATE deliveries d
SET to_addr = '', subject = '', preheader = '', body_text = '', body_html = '', unsubscribe_url = '',
    first_name = NULL, checkin_token = NULL, provider_id = NULL,
    error = replace(replace(d.error, $2::text, '[erased]'), $3::text, '[erased]'),
    updated_at = $4
WHERE d.id IN (SELECT p.id FROM person_deliveries($1, $2, $3) AS p(id));

-- name: admin_erase_checkins
-- Answers stay (the funnel counts them); the reply text and the link token go.
UPDATE checkins SET reply_text = NULL, token = 'erased:' || id
WHERE enrollment_id IN (SELECT p.id FROM person_enrollments($1) AS p(id));

-- name: admin_erase_consents
UPDATE consents
SET ip = '', user_agent = '', consent_text = replace(replace(consent_text, $2::text, '[erased]'), $3::text, '[erased]')
WHERE subscriber_id = $1;

-- name: admin_erase_inbound
-- Inbound rows stay, with their provider id, so a webhook Twilio retries
-- later is still recognised as a replay.
UPDATE inbound_messages m
SET from_addr = CASE WHEN m.from_addr IN ($1::text, $2::text) THEN '' ELSE m.from_addr END,
    body = CASE WHEN m.from_addr IN ($1::text, $2::text) THEN ''
                ELSE replace(replace(m.body, $1::text, '[erased]'), $2::text, '[erased]') END,
    result = replace(replace(m.result, $1::text, '[erased]'), $2::text, '[erased]')
WHERE ($1::text <> '' AND (m.from_addr = $1::text OR strpos(m.body, $1::text) > 0 OR strpos(m.result, $1::text) > 0))
   OR ($2::text <> '' AND (m.from_addr = $2::text OR strpos(m.body, $2::text) > 0 OR strpos(m.result, $2::text) > 0));

-- name: admin_hash_suppressions
-- An opt-out outlives the erasure, as a hash of the address: someone who
-- said STOP is never messaged again, even if they are entered anew.
INSERT INTO suppressions (channel, address, reason, source, created_at)
SELECT channel, erased_address(address), reason, source, created_at
FROM suppressions
WHERE ($1::text <> '' AND channel = 'email' AND address = $1::text)
   OR ($2::text <> '' AND channel = 'sms' AND address = $2::text)
ON CONFLICT (channel, address) DO NOTHING;

-- name: admin_delete_plain_suppressions
DELETE FROM suppressions
WHERE ($1::text <> '' AND channel = 'email' AND address = $1::text)
   OR ($2::text <> '' AND channel = 'sms' AND address = $2::text);

-- name: admin_erase_events
UPDATE events
SET data = replace(replace(data::text, $1::text, '[erased]'), $2::text, '[erased]')::jsonb
WHERE ($1::text <> '' AND strpos(data::text, $1::text) > 0)
   OR ($2::text <> '' AND strpos(data::text, $2::text) > 0);

-- name: admin_erase_subscriber
-- The row stays as a tombstone so enrollments, deliveries and check-ins keep
-- counting; the schema wants an email or a phone, so the email column holds
-- 'erased:<id>', which no real address can equal.
UPDATE subscribers
SET first_name = '', email = 'erased:' || id, phone = NULL, timezone = 'Etc/UTC',
    email_status = 'revoked', sms_status = 'revoked', updated_at = $2
WHERE id = $1 AND (email IS NULL OR email NOT LIKE 'erased:%');

-- name: admin_program_versions
SELECT v.id, v.slug, v.version, v.hash, v.created_at,
       count(e.id) FILTER (WHERE e.status IN ('pending', 'active', 'paused')) AS live,
       count(e.id) AS total
FROM program_versions v LEFT JOIN enrollments e ON e.program_version_id = v.id
GROUP BY v.id ORDER BY v.slug, v.id;

-- name: admin_lock_pinned_enrollments
-- Running enrollments pinned to a version, locked so the planner skips them
-- while they move.
SELECT e.id, e.subscriber_id, e.status, e.timezone, e.start_date, e.track, e.track_origin, e.shift_days,
       e.cursor, e.cron_cursors, e.extensions, e.phase, e.next_due_at,
       coalesce(s.email, '') AS email, coalesce(s.phone, '') AS phone
FROM enrollments e JOIN subscribers s ON s.id = e.subscriber_id
WHERE e.program_version_id = $1 AND e.status IN ('pending', 'active', 'paused')
ORDER BY e.id
FOR UPDATE OF e;

-- name: admin_move_enrollments
-- Guarded by the version the rows were read on: a row moved meanwhile does
-- not match, and the caller rolls back.
UPDATE enrollments e
SET program_version_id = $2, track = u.track, cursor = u.cursor, cron_cursors = u.cron_cursors::jsonb,
    extensions = u.extensions::jsonb, phase = u.phase, next_due_at = u.next_due_at, updated_at = $1
FROM unnest($4::bigint[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::text[], $10::timestamptz[])
     AS u(id, track, cursor, cron_cursors, extensions, phase, next_due_at)
WHERE e.id = u.id AND e.program_version_id = $3 AND e.status IN ('pending', 'active', 'paused');

-- name: admin_rename_checkin_steps
-- Open and past check-ins of moved enrollments follow their step's new key,
-- so a late answer still finds its question in the new version.
UPDATE checkins c SET step_key = u.new_key
FROM unnest($2::text[], $3::text[]) AS u(old_key, new_key)
WHERE c.enrollment_id = ANY($1::bigint[]) AND c.step_key = u.old_key AND u.old_key <> u.new_key;

-- name: admin_insert_events
INSERT INTO events (subscriber_id, enrollment_id, kind, data, created_at)
SELECT nullif(u.subscriber_id, 0), nullif(u.enrollment_id, 0), $2, u.data::jsonb, $1
FROM unnest($3::bigint[], $4::bigint[], $5::text[]) AS u(subscriber_id, enrollment_id, data);

-- name: admin_lift_email_optout
-- An email opt-out lifted at the person's own request, in either form it
-- is kept (plain, or an erased person's hash); what was lifted is returned
-- for the audit event.
DELETE FROM suppressions
WHERE channel = 'email' AND address IN ($1::text, erased_address($1::text))
RETURNING reason;

-- name: admin_unrevoke_email
-- Guarded by the revocation it undoes: the address goes back to "none", so
-- the next sign-up asks the person to confirm it, as for anyone new.
UPDATE subscribers SET email_status = 'none', updated_at = $2
WHERE email = $1 AND email_status = 'revoked'
RETURNING id;

-- name: admin_email_holder
-- Who holds the address now, and whether their consent to it stands.
SELECT id, email_status FROM subscribers WHERE email = $1;
