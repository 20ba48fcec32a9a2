package faults

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rekindle/rekindle/store"
)

// person is a seeded subscriber with both channels confirmed.
type person struct {
	ID    int64  `db:"id"`
	Email string `db:"email"`
	Phone string `db:"phone"`
}

// openDB connects to a scenario's database and migrates it.
func openDB(t *testing.T, dsn string) *sqlx.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Connect(ctx, dsn, store.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := store.Migrate(ctx, db.DB); err != nil {
		t.Fatal(err)
	}
	return db
}

// seedPeople adds n subscribers, confirmed on email and SMS. first numbers
// them, so that several calls on one database do not collide.
func seedPeople(t *testing.T, db *sqlx.DB, first, n int) []person {
	t.Helper()
	var out []person
	err := db.Select(&out, `
		INSERT INTO subscribers (first_name, email, phone, timezone, email_status, sms_status, created_at, updated_at)
		SELECT 'Sam', 'person' || g || '@example.org', '+1555' || lpad(g::text, 7, '0'), 'UTC', 'confirmed', 'confirmed', $1, $1
		FROM generate_series($2::int, $2::int + $3::int - 1) g
		ORDER BY g
		RETURNING id, email, phone`, time.Now(), first, n)
	if err != nil {
		t.Fatalf("seed subscribers: %v", err)
	}
	return out
}

// seedDeliveries queues one lesson on channel for each person, due at
// notBefore, and returns the delivery ids in the people's order. An SMS
// carries its delivery id as a marker ("[d123]") so the fake Twilio's log
// tells deliveries apart; an email's Message-ID already does. The ids are
// drawn first so the marker is in the row from the start: a daemon may claim
// the row the moment it commits.
func seedDeliveries(t *testing.T, db *sqlx.DB, people []person, channel, step string, notBefore time.Time) []int64 {
	t.Helper()
	subs := make([]int64, len(people))
	for i, p := range people {
		subs[i] = p.ID
	}
	const text = "Hi Sam, today's step is a small one: write down one thing you handled well this week."
	var ids []int64
	err := db.Select(&ids, `
		WITH todo AS (
			SELECT nextval(pg_get_serial_sequence('deliveries', 'id')) AS id, s.id AS subscriber_id,
				CASE WHEN $3 = 'email' THEN s.email ELSE s.phone END AS to_addr, u.ord
			FROM unnest($5::bigint[]) WITH ORDINALITY AS u(id, ord) JOIN subscribers s ON s.id = u.id
			ORDER BY u.ord
		), ins AS (
			INSERT INTO deliveries (id, subscriber_id, step_key, kind, phase, channel, to_addr, due_at, not_before,
				subject, body_text, body_html, created_at, updated_at)
			SELECT id, subscriber_id, $2, 'lesson', 'healing', $3, to_addr, $4, $4, 'One small step for today',
				CASE WHEN $3 = 'sms' THEN 'Rekindle: ' || $6 || ' [d' || id || ']' ELSE $6 END,
				'<p>' || $6 || '</p>', $1, $1
			FROM todo
		)
		SELECT id FROM todo ORDER BY ord`, time.Now(), step, channel, notBefore, pq.Array(subs), text)
	if err != nil {
		t.Fatalf("seed %s deliveries: %v", channel, err)
	}
	return ids
}

// statusCounts returns how many deliveries are in each status.
func statusCounts(t *testing.T, db *sqlx.DB) map[string]int {
	t.Helper()
	var rows []struct {
		Status string `db:"status"`
		N      int    `db:"n"`
	}
	if err := db.Select(&rows, `SELECT status, count(*) AS n FROM deliveries GROUP BY status`); err != nil {
		t.Fatalf("count deliveries: %v", err)
	}
	out := map[string]int{}
	for _, r := range rows {
		out[r.Status] = r.N
	}
	return out
}

// settled reports whether no delivery is waiting or being sent.
func settled(t *testing.T, db *sqlx.DB) bool {
	c := statusCounts(t, db)
	return c["queued"] == 0 && c["sending"] == 0
}

// waitDelivered waits until the providers accepted every id in want and the
// database has nothing left to send, and returns when that happened. It fails
// the test after timeout, saying what is missing.
func waitDelivered(t *testing.T, p *providers, db *sqlx.DB, want []int64, timeout time.Duration) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := p.count(t, want)
		if got == len(want) && settled(t, db) {
			return time.Now()
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s the providers have %d of %d deliveries; database: %v", timeout, got, len(want), statusCounts(t, db))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
