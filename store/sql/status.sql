-- name: enrollment_counts
SELECT program, phase, status, count(*) AS n
FROM enrollments GROUP BY program, phase, status ORDER BY program, phase, status;

-- name: delivery_counts
SELECT channel, status, count(*) AS n FROM deliveries GROUP BY channel, status ORDER BY channel, status;

-- name: due_backlog
SELECT count(*) AS n, coalesce(extract(epoch FROM $1 - min(next_due_at)), 0)::float8 AS oldest_seconds
FROM enrollments WHERE status = 'active' AND next_due_at <= $1;

-- name: queued_backlog
SELECT count(*) AS n, coalesce(extract(epoch FROM $1 - min(not_before)), 0)::float8 AS oldest_seconds
FROM deliveries WHERE status = 'queued' AND not_before <= $1;
