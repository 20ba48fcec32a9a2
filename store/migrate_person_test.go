package store_test

import (
	"context"
	"slices"
	"testing"
)

// Migration 00009 swaps the index that keeps one running enrollment per
// person and program for one that also finds finished ones. The rule must
// hold as before, over rows written before the upgrade, and come back down.
func TestPersonIndexMigrationKeepsOneRunningEnrollment(t *testing.T) {
	ctx := context.Background()
	db, p := migratedTo(t, ctx, 8)
	exec := func(q string, args ...any) error {
		_, err := db.ExecContext(ctx, q, args...)
		return err
	}
	must := func(q string, args ...any) {
		t.Helper()
		if err := exec(q, args...); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	enroll := func(id int, status string) error {
		return exec(`INSERT INTO enrollments (id, subscriber_id, program_version_id, program, status, timezone, start_date,
		                  track, created_at, updated_at)
		             VALUES ($1, 7, 1, 'p', $2, 'UTC', '2030-01-01', 'main', '2030-01-01', '2030-01-01')`, id, status)
	}
	must(`INSERT INTO program_versions (id, slug, version, hash, definition, created_at)
	      VALUES (1, 'p', '1', 'h', '{}', '2030-01-01')`)
	must(`INSERT INTO subscribers (id, first_name, email, timezone, email_status, created_at, updated_at)
	      VALUES (7, 'Ann', 'ann@example.org', 'UTC', 'confirmed', '2030-01-01', '2030-01-01')`)
	for id, status := range map[int]string{70: "completed", 71: "unenrolled", 72: "active"} {
		if err := enroll(id, status); err != nil {
			t.Fatal(err)
		}
	}
	// Two deliveries without a subscriber id: one to Ann, one to someone else.
	must(`INSERT INTO deliveries (id, step_key, channel, to_addr, status, due_at, not_before, created_at, updated_at)
	      VALUES (500, 'x', 'email', 'ann@example.org', 'sent', '2030-01-01', '2030-01-01', '2030-01-01', '2030-01-01'),
	             (501, 'x', 'email', 'bo@example.org', 'sent', '2030-01-01', '2030-01-01', '2030-01-01', '2030-01-01')`)

	if _, err := p.UpTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	if err := enroll(73, "pending"); err == nil {
		t.Fatal("after the upgrade, a second running enrollment of Ann in p was accepted")
	}
	if err := enroll(74, "completed"); err != nil {
		t.Fatalf("after the upgrade, a second finished enrollment of Ann in p was refused: %v", err)
	}
	must(`UPDATE enrollments SET status = 'completed' WHERE id = 72`)
	if err := enroll(75, "active"); err != nil {
		t.Fatalf("once Ann's run finished, a new one was refused: %v", err)
	}
	var ids []int64
	rows, err := db.QueryContext(ctx, `SELECT id FROM person_deliveries(7, 'ann@example.org', '') AS p(id)`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []int64{500}) {
		t.Fatalf("Ann's deliveries held by address: %v, want [500]", ids)
	}

	if _, err := p.DownTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if err := enroll(76, "paused"); err == nil {
		t.Fatal("after down, a second running enrollment of Ann in p was accepted")
	}
}
