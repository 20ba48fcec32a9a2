package store_test

import (
	"context"
	"testing"
)

// Migration 00008 keys the lease index on the lease. A message in flight
// keeps its lease through the upgrade (the rescue finds it by it); a
// message an earlier claim cancelled loses the lease it was left with.
func TestLeaseIndexMigrationKeepsMessagesInFlight(t *testing.T) {
	ctx := context.Background()
	db, p := migratedTo(t, ctx, 7)
	if _, err := db.ExecContext(ctx, `INSERT INTO deliveries (step_key, channel, to_addr, status, attempts, due_at, not_before,
	                                  lease_until, created_at, updated_at)
	      VALUES ('welcome', 'email', 'ann@example.org', 'sending', 1, '2030-01-01', '2030-01-01', '2030-01-01 00:05', '2030-01-01', '2030-01-01'),
	             ('welcome', 'email', 'bo@example.org', 'cancelled', 1, '2030-01-01', '2030-01-01', '2030-01-01 00:05', '2030-01-01', '2030-01-01')`); err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	leased := map[string]bool{}
	rows, err := db.QueryContext(ctx, `SELECT to_addr, lease_until IS NOT NULL FROM deliveries`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var addr string
		var l bool
		if err := rows.Scan(&addr, &l); err != nil {
			t.Fatal(err)
		}
		leased[addr] = l
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !leased["ann@example.org"] || leased["bo@example.org"] {
		t.Fatalf("leases after the upgrade: %v, want Ann's message in flight leased and Bo's cancelled one not", leased)
	}
	if _, err := p.DownTo(ctx, 7); err != nil {
		t.Fatalf("down to 7: %v", err)
	}
}
