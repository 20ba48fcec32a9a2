-- +goose Up
-- The operator's show, export and erase find one person's rows. Their
-- enrollments were found through enrollments_one_live, which holds only the
-- running ones, so every one of these read all enrollments; and their
-- deliveries held by the address alone (no subscriber id) were found by
-- comparing every delivery's address. On a large table each took as long as
-- reading the table (TestDueQueriesUseIndexes now fails on it).
--
-- enrollments_person keeps the rule enrollments_one_live kept (one running
-- enrollment per person and program: the running ones share the key's last
-- part, 0; any other is told apart by its id) and holds every enrollment, so
-- a person's are found whatever their status. It replaces the old index
-- rather than joining it: the planner rewrites an enrollment at every step,
-- and each index of enrollments would be written again each time.
CREATE UNIQUE INDEX enrollments_person ON enrollments (subscriber_id, program,
    (CASE WHEN status IN ('pending', 'active', 'paused') THEN 0 ELSE id END));
DROP INDEX enrollments_one_live;

-- Deliveries without a subscriber id are rare (none is written today); this
-- index holds only them, and costs the others nothing.
CREATE INDEX deliveries_unowned ON deliveries (channel, to_addr) WHERE subscriber_id IS NULL;

-- +goose StatementBegin
-- person_deliveries is the ids of one person's deliveries: theirs by
-- subscriber id (through delivery_keys), and those without one that are
-- addressed to their email ($2) or phone ($3).
CREATE FUNCTION person_deliveries(subscriber bigint, email text, phone text) RETURNS SETOF bigint
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
    SELECT k.delivery_id FROM delivery_keys k WHERE k.subscriber_id = subscriber
    UNION
    SELECT d.id FROM deliveries d
    WHERE d.subscriber_id IS NULL
      AND ((email <> '' AND d.channel = 'email' AND d.to_addr = email)
        OR (phone <> '' AND d.channel = 'sms' AND d.to_addr = phone))
$$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION person_deliveries(bigint, text, text);
DROP INDEX deliveries_unowned;
CREATE UNIQUE INDEX enrollments_one_live ON enrollments (subscriber_id, program)
    WHERE status IN ('pending', 'active', 'paused');
DROP INDEX enrollments_person;
