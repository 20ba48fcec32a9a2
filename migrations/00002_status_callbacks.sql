-- +goose Up
-- Twilio status callbacks that arrived before the dispatcher recorded their
-- message's SID (it records a batch's outcomes when the whole batch is
-- done, and Twilio can report faster than that). The web hook keeps the
-- final ones here (steps on the way, such as 'sent', say nothing the
-- dispatcher will not record itself); a periodic job applies each once its
-- SID is known and drops those still unknown after a day. One row per SID,
-- and the first final report stays, as it does on the delivery itself.
CREATE TABLE status_callbacks (
    message_sid text        PRIMARY KEY,
    status      text        NOT NULL CHECK (status IN ('delivered', 'undelivered', 'failed')),
    error_code  text,
    received_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE status_callbacks;
