-- name: upsert_program_version
-- DO UPDATE (a no-op) rather than DO NOTHING: when several instances start
-- together, one waits for another's insert of the same hash, and only DO
-- UPDATE returns the row that insert committed; a separate SELECT would
-- read the statement's older snapshot and find nothing.
INSERT INTO program_versions (slug, version, hash, definition, created_at)
VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (hash) DO UPDATE SET hash = EXCLUDED.hash
RETURNING id;

-- name: program_version
SELECT definition FROM program_versions WHERE id = $1;
