-- name: upsert_program_version
WITH ins AS (
    INSERT INTO program_versions (slug, version, hash, definition, created_at)
    VALUES ($1, $2, $3, $4, $5)
    ON CONFLICT (hash) DO NOTHING
    RETURNING id
)
SELECT id FROM ins
UNION ALL
SELECT id FROM program_versions WHERE hash = $3
LIMIT 1;

-- name: program_version
SELECT definition FROM program_versions WHERE id = $1;
