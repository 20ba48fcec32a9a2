package store_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"
)

// Migration 00009 lets a person's enrollments (whatever their status) and
// deliveries (also those held by the address alone) be found through
// indexes, as the operator's show, export and erase do; rows written before
// it are found, and down removes what it added.
func TestPersonLookupsMigration(t *testing.T) {
	ctx := context.Background()
	db, p := migratedTo(t, ctx, 8)
	for _, q := range []string{
		`INSERT INTO program_versions (id, slug, version, hash, definition, created_at) VALUES (1, 'p', '1', 'h', '{}', '2030-01-01')`,
		`INSERT INTO subscribers (id, first_name, email, timezone, email_status, created_at, updated_at)
		 VALUES (7, 'Ann', 'ann@example.org', 'UTC', 'confirmed', '2030-01-01', '2030-01-01'),
		        (8, 'Bo', 'bo@example.org', 'UTC', 'confirmed', '2030-01-01', '2030-01-01')`,
		`INSERT INTO enrollments (id, subscriber_id, program_version_id, program, status, timezone, start_date, track, created_at, updated_at)
		 VALUES (70, 7, 1, 'p', 'completed', 'UTC', '2030-01-01', 'main', '2030-01-01', '2030-01-01'),
		        (71, 7, 1, 'p', 'unenrolled', 'UTC', '2030-01-01', 'main', '2030-01-01', '2030-01-01'),
		        (72, 7, 1, 'p', 'active', 'UTC', '2030-01-01', 'main', '2030-01-01', '2030-01-01'),
		        (80, 8, 1, 'p', 'completed', 'UTC', '2030-01-01', 'main', '2030-01-01', '2030-01-01')`,
		// Deliveries without a subscriber id to Ann and to Bo, and one to
		// Ann's address under Bo's id (an address once given for him).
		`INSERT INTO deliveries (id, subscriber_id, step_key, channel, to_addr, status, due_at, not_before, created_at, updated_at)
		 VALUES (500, NULL, 'x', 'email', 'ann@example.org', 'sent', '2030-01-01', '2030-01-01', '2030-01-01', '2030-01-01'),
		        (501, NULL, 'x', 'email', 'bo@example.org', 'sent', '2030-01-01', '2030-01-01', '2030-01-01', '2030-01-01'),
		        (502, 8, 'y', 'email', 'ann@example.org', 'sent', '2030-01-01', '2030-01-01', '2030-01-01', '2030-01-01')`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	if _, err := p.UpTo(ctx, 9); err != nil {
		t.Fatal(err)
	}
	if got := ids(t, db, `SELECT id FROM person_enrollments(7) AS p(id) ORDER BY id`); !slices.Equal(got, []int64{70, 71, 72}) {
		t.Fatalf("Ann's enrollments: %v, want [70 71 72]", got)
	}
	if got := ids(t, db, `SELECT id FROM person_deliveries(7, 'ann@example.org', '') AS p(id) ORDER BY id`); !slices.Equal(got, []int64{500, 502}) {
		t.Fatalf("deliveries holding Ann's address: %v, want [500 502]", got)
	}
	if _, err := p.DownTo(ctx, 8); err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, `SELECT person_enrollments(7)`); err == nil {
		t.Fatal("after down, person_enrollments still exists")
	}
}

func ids(t *testing.T, db *sql.DB, q string) []int64 {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		out = append(out, id)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
