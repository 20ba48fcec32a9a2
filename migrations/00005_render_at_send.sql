-- +goose Up
-- A program step's message is rendered when it is sent, not when it is
-- planned: its delivery row keeps the few values it is rendered from (the
-- pinned program version, the program day, the name to greet, the check-in
-- token and whether the SMS carries the STOP hint) instead of its bodies.
-- Rows with bodies (confirmations, tests, and steps planned before this
-- migration) are sent as written. program_version_id has no foreign key:
-- the version is the enrollment's (which has one), versions are never
-- deleted, and a key would cost a lookup for every message planned.
ALTER TABLE deliveries
    ADD COLUMN program_version_id bigint,
    ADD COLUMN day           integer,
    ADD COLUMN first_name    text,
    ADD COLUMN checkin_token text,
    ADD COLUMN stop_hint     boolean NOT NULL DEFAULT false;

-- +goose Down
ALTER TABLE deliveries
    DROP COLUMN program_version_id,
    DROP COLUMN day,
    DROP COLUMN first_name,
    DROP COLUMN checkin_token,
    DROP COLUMN stop_hint;
