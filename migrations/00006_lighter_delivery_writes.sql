-- +goose Up
-- Every message writes its delivery row three times (planned, claimed,
-- sent); these make each write cheaper (rekindle bench; README,
-- Performance).
--
-- The foreign keys from deliveries to enrollments and subscribers cost a
-- locking lookup of both rows for every message planned, about half the
-- insert's time. Rows are written only by the planner, in the transaction
-- that holds the enrollment locked, and by confirmation and test sends; a
-- subscriber is never deleted except by the demo's reset, which deletes
-- their deliveries itself (store/sql/subscribers.sql), and erase keeps the
-- subscriber row as a tombstone.
ALTER TABLE deliveries
    DROP CONSTRAINT deliveries_enrollment_id_fkey,
    DROP CONSTRAINT deliveries_subscriber_id_fkey;

-- Only queued messages are cancelled by address (a new suppression); a
-- message being sent is found through its lease. Claiming no longer adds
-- an entry here.
DROP INDEX deliveries_to_addr;
CREATE INDEX deliveries_to_addr ON deliveries (to_addr) WHERE status = 'queued';

-- +goose Down
DROP INDEX deliveries_to_addr;
CREATE INDEX deliveries_to_addr ON deliveries (to_addr) WHERE status IN ('queued', 'sending');
ALTER TABLE deliveries
    ADD CONSTRAINT deliveries_enrollment_id_fkey FOREIGN KEY (enrollment_id) REFERENCES enrollments (id) ON DELETE CASCADE,
    ADD CONSTRAINT deliveries_subscriber_id_fkey FOREIGN KEY (subscriber_id) REFERENCES subscribers (id) ON DELETE CASCADE;
