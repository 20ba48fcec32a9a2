package store_test

import (
	"context"
	"testing"
)

// Migration 00007 moves the one-delivery-per-step key into delivery_keys.
// Deliveries written before it must keep their key there: a step planned
// again after the upgrade is still written only once, and a person's
// deliveries are still found.
func TestDeliveryKeysMigrationKeepsEarlierSteps(t *testing.T) {
	ctx := context.Background()
	db, p := migratedTo(t, ctx, 6)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	exec(`INSERT INTO program_versions (id, slug, version, hash, definition, created_at)
	      VALUES (1, 'p', '1', 'h', '{}', '2030-01-01')`)
	exec(`INSERT INTO subscribers (id, first_name, email, timezone, email_status, created_at, updated_at)
	      VALUES (7, 'Ann', 'ann@example.org', 'UTC', 'confirmed', '2030-01-01', '2030-01-01')`)
	exec(`INSERT INTO enrollments (id, subscriber_id, program_version_id, program, status, timezone, start_date, track,
	                               created_at, updated_at)
	      VALUES (70, 7, 1, 'p', 'active', 'UTC', '2030-01-01', 'main', '2030-01-01', '2030-01-01')`)
	exec(`INSERT INTO deliveries (enrollment_id, subscriber_id, step_key, channel, to_addr, status, due_at, not_before,
	                              created_at, updated_at)
	      VALUES (70, 7, 'welcome', 'email', 'ann@example.org', 'sent', '2030-01-01', '2030-01-01', '2030-01-01', '2030-01-01'),
	             (70, 7, 'day-2', 'email', 'ann@example.org', 'queued', '2030-01-02', '2030-01-02', '2030-01-01', '2030-01-01')`)

	if _, err := p.UpTo(ctx, 7); err != nil {
		t.Fatal(err)
	}
	// The person's deliveries are found through the keys.
	var mine int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM deliveries
	      WHERE id IN (SELECT delivery_id FROM delivery_keys WHERE subscriber_id = 7)`).Scan(&mine); err != nil {
		t.Fatal(err)
	}
	if mine != 2 {
		t.Fatalf("found %d of Ann's 2 deliveries through delivery_keys", mine)
	}
	// A step written before the upgrade keeps its key: writing it again is refused.
	_, err := db.ExecContext(ctx, `INSERT INTO delivery_keys (enrollment_id, step_key, channel, subscriber_id, delivery_id)
	      VALUES (70, 'welcome', 'email', 7, 999)`)
	if err == nil {
		t.Fatal("a second key for Ann's welcome email was accepted")
	}

	// Down puts the key back on deliveries, where it refuses a duplicate too.
	if _, err := p.DownTo(ctx, 6); err != nil {
		t.Fatal(err)
	}
	_, err = db.ExecContext(ctx, `INSERT INTO deliveries (enrollment_id, subscriber_id, step_key, channel, to_addr, due_at,
	                              not_before, created_at, updated_at)
	      VALUES (70, 7, 'welcome', 'email', 'ann@example.org', '2030-01-01', '2030-01-01', '2030-01-01', '2030-01-01')`)
	if err == nil {
		t.Fatal("after down, a second delivery of Ann's welcome email was accepted")
	}
}
