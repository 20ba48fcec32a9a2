-- +goose Up
-- The form an erased person's opt-out is kept in (see store/sql/admin.sql):
-- a suppression matches an address written out or hashed this way. One
-- definition for the claim, the re-check, START and erase; a plain SQL
-- function, which PostgreSQL inlines where it is used.
-- +goose StatementBegin
CREATE FUNCTION erased_address(address text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT 'sha256:' || encode(sha256(convert_to(lower(address), 'UTF8')), 'hex') $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION erased_address(text);
