-- +goose Up
-- The hourly purge of reply text past its retention (purge_replies) read
-- every check-in ever sent to find the few replies still kept: a sequential
-- scan of checkins, growing with everyone ever enrolled, every hour. This
-- index holds only the check-ins whose reply text is still kept, and the
-- purge empties it as it goes.
CREATE INDEX checkins_reply_kept ON checkins (answered_at) WHERE reply_text IS NOT NULL;

-- +goose Down
DROP INDEX checkins_reply_kept;
