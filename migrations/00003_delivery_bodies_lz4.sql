-- +goose Up
-- Rendered bodies are most of what the planner writes (about 10 kB of HTML
-- and text per email). lz4 compresses them several times faster than the
-- default pglz, for a slightly larger result; `rekindle bench` showed pglz
-- as the largest single cost of a planner batch. Existing rows keep their
-- pglz bodies and stay readable. A server built without lz4 keeps pglz.
-- +goose StatementBegin
DO $$
BEGIN
    ALTER TABLE deliveries ALTER COLUMN body_html SET COMPRESSION lz4,
                           ALTER COLUMN body_text SET COMPRESSION lz4;
EXCEPTION WHEN feature_not_supported THEN
    RAISE NOTICE 'lz4 is not available on this server: delivery bodies stay compressed with pglz';
END
$$;
-- +goose StatementEnd

-- +goose Down
ALTER TABLE deliveries ALTER COLUMN body_html SET COMPRESSION default,
                       ALTER COLUMN body_text SET COMPRESSION default;
