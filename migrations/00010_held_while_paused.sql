-- +goose Up
-- A paused person's planned messages wait for them. They waited as
-- 'queued', at the head of the queue (their time had come), so every claim
-- walked past all of them, reading each one's enrollment, before it found
-- anything to send: 20,000 of them cost each claim 28 ms with nothing to
-- claim, on every poll of every claim loop, growing with everyone who paused
-- and did not come back. They are now 'held': out of the queue's index
-- until the person resumes (or leaves, or opts out: then they are
-- cancelled, as queued ones are).
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('queued', 'held', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled'));

-- An opt-out cancels held messages to the address too.
DROP INDEX deliveries_to_addr;
CREATE INDEX deliveries_to_addr ON deliveries (to_addr) WHERE status IN ('queued', 'held');

UPDATE deliveries SET status = 'held'
WHERE status = 'queued'
  AND id IN (SELECT k.delivery_id FROM delivery_keys k JOIN enrollments e ON e.id = k.enrollment_id
             WHERE e.status = 'paused');

-- +goose Down
UPDATE deliveries SET status = 'queued' WHERE status = 'held';
DROP INDEX deliveries_to_addr;
CREATE INDEX deliveries_to_addr ON deliveries (to_addr) WHERE status = 'queued';
ALTER TABLE deliveries DROP CONSTRAINT deliveries_status_check;
ALTER TABLE deliveries ADD CONSTRAINT deliveries_status_check
    CHECK (status IN ('queued', 'sending', 'sent', 'delivered', 'undelivered', 'failed', 'cancelled'));
