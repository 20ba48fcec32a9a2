-- name: enrollment_counts
SELECT program, phase, status, count(*) AS n
FROM enrollments GROUP BY program, phase, status ORDER BY program, phase, status;

-- name: delivery_counts
SELECT channel, status, count(*) AS n FROM deliveries GROUP BY channel, status ORDER BY channel, status;

-- name: delivery_in_flight_counts
-- Deliveries queued and being sent, by channel: what /metrics reads at
-- every scrape. Read through the indexes that hold only such rows, so a
-- scrape costs what is in flight, not every message ever sent (those are
-- the rekindle_deliveries_total counters).
SELECT channel, 'queued' AS status, count(*) AS n FROM deliveries WHERE status = 'queued' GROUP BY channel
UNION ALL
-- Only a message in flight holds a lease (migration 00008): its index finds them.
SELECT channel, 'sending' AS status, count(*) AS n FROM deliveries
WHERE lease_until IS NOT NULL AND status = 'sending' GROUP BY channel
ORDER BY channel, status;

-- name: due_backlog
SELECT count(*) AS n, coalesce(extract(epoch FROM $1 - min(next_due_at)), 0)::float8 AS oldest_seconds
FROM enrollments WHERE status = 'active' AND next_due_at <= $1;

-- name: queued_backlog
SELECT count(*) AS n, coalesce(extract(epoch FROM $1 - min(not_before)), 0)::float8 AS oldest_seconds
FROM deliveries WHERE status = 'queued' AND not_before <= $1;
