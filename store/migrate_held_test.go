package store_test

import (
	"context"
	"testing"
)

// Migration 00010 holds the queued messages of people already paused when
// it runs, and only theirs; down puts them back in the queue.
func TestHeldMigrationHoldsPausedPeoplesMessages(t *testing.T) {
	ctx := context.Background()
	db, p := migratedTo(t, ctx, 9)
	for _, q := range []string{
		`INSERT INTO program_versions (id, slug, version, hash, definition, created_at) VALUES (1, 'p', '1', 'h', '{}', '2030-01-01')`,
		`INSERT INTO subscribers (id, first_name, email, timezone, email_status, created_at, updated_at)
		 VALUES (1, 'Pia', 'pia@example.org', 'UTC', 'confirmed', '2030-01-01', '2030-01-01'),
		        (2, 'Al', 'al@example.org', 'UTC', 'confirmed', '2030-01-01', '2030-01-01')`,
		`INSERT INTO enrollments (id, subscriber_id, program_version_id, program, status, timezone, start_date, track, created_at, updated_at)
		 VALUES (10, 1, 1, 'p', 'paused', 'UTC', '2030-01-01', 'main', '2030-01-01', '2030-01-01'),
		        (20, 2, 1, 'p', 'active', 'UTC', '2030-01-01', 'main', '2030-01-01', '2030-01-01')`,
		`INSERT INTO deliveries (id, enrollment_id, subscriber_id, step_key, channel, to_addr, status, due_at, not_before, created_at, updated_at)
		 VALUES (100, 10, 1, 'a', 'email', 'pia@example.org', 'queued', '2030-01-01', '2030-01-01', '2030-01-01', '2030-01-01'),
		        (101, 10, 1, 'b', 'email', 'pia@example.org', 'sent', '2030-01-01', '2030-01-01', '2030-01-01', '2030-01-01'),
		        (200, 20, 2, 'a', 'email', 'al@example.org', 'queued', '2030-01-01', '2030-01-01', '2030-01-01', '2030-01-01')`,
		`INSERT INTO delivery_keys (enrollment_id, step_key, channel, subscriber_id, delivery_id)
		 SELECT enrollment_id, step_key, channel, subscriber_id, id FROM deliveries`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	statuses := func() string {
		t.Helper()
		var s string
		if err := db.QueryRowContext(ctx, `SELECT string_agg(id || '=' || status, ' ' ORDER BY id) FROM deliveries`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, err := p.UpTo(ctx, 10); err != nil {
		t.Fatal(err)
	}
	if got, want := statuses(), "100=held 101=sent 200=queued"; got != want {
		t.Fatalf("after 00010: %s, want %s", got, want)
	}
	if _, err := p.DownTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	if got, want := statuses(), "100=queued 101=sent 200=queued"; got != want {
		t.Fatalf("after down: %s, want %s", got, want)
	}
}
