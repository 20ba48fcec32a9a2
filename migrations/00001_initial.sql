-- +goose Up
-- The whole first schema. Times are timestamptz and always written from the
-- engine's clock (never now()), so tests and the demo can run weeks in seconds.

-- One row per distinct program definition ever loaded. Enrollments pin a row,
-- so editing a program never changes what an enrolled person receives.
CREATE TABLE program_versions (
    id          bigserial PRIMARY KEY,
    slug        text        NOT NULL,
    version     text        NOT NULL,
    hash        text        NOT NULL UNIQUE,
    definition  jsonb       NOT NULL,
    created_at  timestamptz NOT NULL
);
CREATE INDEX program_versions_slug ON program_versions (slug, id DESC);

CREATE TABLE subscribers (
    id           bigserial PRIMARY KEY,
    first_name   text        NOT NULL DEFAULT '',
    email        text        UNIQUE,                 -- lower-cased
    phone        text        UNIQUE,                 -- E.164
    timezone     text        NOT NULL,
    -- Per-channel consent state; the consents table holds the evidence.
    email_status text        NOT NULL DEFAULT 'none'
        CHECK (email_status IN ('none', 'pending', 'confirmed', 'revoked')),
    sms_status   text        NOT NULL DEFAULT 'none'
        CHECK (sms_status IN ('none', 'pending', 'confirmed', 'revoked')),
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    CHECK (email IS NOT NULL OR phone IS NOT NULL)
);

-- Evidence of consent: what was shown, when, how and from where.
CREATE TABLE consents (
    id            bigserial PRIMARY KEY,
    subscriber_id bigint      NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    channel       text        NOT NULL CHECK (channel IN ('email', 'sms')),
    action        text        NOT NULL CHECK (action IN ('granted', 'confirmed', 'revoked')),
    consent_text  text        NOT NULL DEFAULT '',
    source        text        NOT NULL,              -- web, api, operator, sms, email-link
    ip            text        NOT NULL DEFAULT '',
    user_agent    text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL
);
CREATE INDEX consents_subscriber ON consents (subscriber_id);

CREATE TABLE enrollments (
    id                 bigserial PRIMARY KEY,
    subscriber_id      bigint      NOT NULL REFERENCES subscribers (id) ON DELETE CASCADE,
    program_version_id bigint      NOT NULL REFERENCES program_versions (id),
    program            text        NOT NULL,
    status             text        NOT NULL
        CHECK (status IN ('pending', 'active', 'paused', 'completed', 'unenrolled')),
    timezone           text        NOT NULL,
    start_date         date        NOT NULL,         -- local day 0
    track              text        NOT NULL,
    track_origin       integer     NOT NULL DEFAULT 0, -- day (from start_date) where the track's day 0 is
    shift_days         integer     NOT NULL DEFAULT 0, -- calendar shift from catch-up, pauses and extensions
    cursor             bigint      NOT NULL DEFAULT -1, -- position of the last planned day step
    cron_cursors       jsonb       NOT NULL DEFAULT '{}', -- cron step key -> last planned local time
    last_lesson        jsonb       NOT NULL DEFAULT '{}', -- channel -> when its last lesson may go (pacing)
    extensions         jsonb       NOT NULL DEFAULT '{}', -- check-in step key -> times extended
    sms_count          integer     NOT NULL DEFAULT 0,
    phase              text        NOT NULL DEFAULT '',
    next_due_at        timestamptz,
    paused_at          timestamptz,
    paused_until       timestamptz,
    completed_at       timestamptz,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL
);
-- The planner's due query reads only this index.
CREATE INDEX enrollments_due ON enrollments (next_due_at) WHERE status = 'active';
-- A person is in a program once at a time.
CREATE UNIQUE INDEX enrollments_one_live ON enrollments (subscriber_id, program)
    WHERE status IN ('pending', 'active', 'paused');
CREATE INDEX enrollments_paused_until ON enrollments (paused_until) WHERE status = 'paused';

-- The outbox. One row per (enrollment, step occurrence, channel), ever.
CREATE TABLE deliveries (
    id            bigserial PRIMARY KEY,
    enrollment_id bigint      REFERENCES enrollments (id) ON DELETE CASCADE,
    subscriber_id bigint      REFERENCES subscribers (id) ON DELETE CASCADE,
    step_key      text        NOT NULL,
    kind          text        NOT NULL DEFAULT 'lesson', -- lesson, checkin, message, confirm, test
    phase         text        NOT NULL DEFAULT '',
    channel       text        NOT NULL CHECK (channel IN ('email', 'sms')),
    to_addr       text        NOT NULL,
    status        text        NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled')),
    attempts      integer     NOT NULL DEFAULT 0,
    due_at        timestamptz NOT NULL,              -- when the program wanted it
    not_before    timestamptz NOT NULL,              -- after quiet hours, pacing and retries
    lease_until   timestamptz,
    claimed_by    text,
    provider_id   text,
    error_code    text,
    error         text,
    subject       text        NOT NULL DEFAULT '',
    preheader     text        NOT NULL DEFAULT '',
    body_text     text        NOT NULL DEFAULT '',
    body_html     text        NOT NULL DEFAULT '',
    unsubscribe_url text      NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    sent_at       timestamptz,
    updated_at    timestamptz NOT NULL,
    UNIQUE (enrollment_id, step_key, channel)
);
CREATE INDEX deliveries_queued ON deliveries (channel, not_before) WHERE status = 'queued';
CREATE INDEX deliveries_leased ON deliveries (lease_until) WHERE status = 'sending';
CREATE INDEX deliveries_to_addr ON deliveries (to_addr) WHERE status IN ('queued', 'sending');
CREATE INDEX deliveries_provider ON deliveries (provider_id) WHERE provider_id IS NOT NULL;
CREATE INDEX deliveries_subscriber ON deliveries (subscriber_id);

CREATE TABLE checkins (
    id            bigserial PRIMARY KEY,
    enrollment_id bigint      NOT NULL REFERENCES enrollments (id) ON DELETE CASCADE,
    step_key      text        NOT NULL,              -- the program step
    occurrence    text        NOT NULL,              -- the delivery step_key
    prompt        text        NOT NULL,
    token         text        NOT NULL UNIQUE,
    opened_at     timestamptz NOT NULL,
    closes_at     timestamptz NOT NULL,
    answer        text,
    answered_at   timestamptz,
    source        text,
    reply_text    text,                              -- purged after the retention period
    created_at    timestamptz NOT NULL,
    UNIQUE (enrollment_id, occurrence)
);
CREATE INDEX checkins_open ON checkins (enrollment_id, opened_at DESC);

CREATE TABLE inbound_messages (
    id            bigserial PRIMARY KEY,
    provider_id   text        NOT NULL UNIQUE,       -- Twilio MessageSid: replays are ignored
    channel       text        NOT NULL,
    from_addr     text        NOT NULL,
    body          text        NOT NULL DEFAULT '',
    result        text        NOT NULL DEFAULT '',
    received_at   timestamptz NOT NULL
);

CREATE TABLE suppressions (
    id          bigserial PRIMARY KEY,
    channel     text        NOT NULL CHECK (channel IN ('email', 'sms')),
    address     text        NOT NULL,
    reason      text        NOT NULL,
    source      text        NOT NULL,
    created_at  timestamptz NOT NULL,
    UNIQUE (channel, address)
);

-- Audit trail. Payloads never hold message bodies.
CREATE TABLE events (
    id            bigserial PRIMARY KEY,
    subscriber_id bigint,
    enrollment_id bigint,
    kind          text        NOT NULL,
    data          jsonb       NOT NULL DEFAULT '{}',
    created_at    timestamptz NOT NULL
);
CREATE INDEX events_subscriber ON events (subscriber_id);

-- +goose Down
DROP TABLE events, suppressions, inbound_messages, checkins, deliveries,
    enrollments, consents, subscribers, program_versions;
