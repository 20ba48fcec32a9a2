-- name: try_advisory_lock
SELECT pg_try_advisory_lock($1);

-- name: advisory_unlock
SELECT pg_advisory_unlock($1);
