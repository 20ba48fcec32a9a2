package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/store"
)

func TestDueQueriesUseIndexes(t *testing.T) {
	st, _ := testdb.Store(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 7, 12, 0, 0, 0, time.UTC)
	const n = 50000
	seed := []string{
		`INSERT INTO program_versions (id, slug, version, hash, definition, created_at)
		 VALUES (1, 'p', '1', 'h', '{}', '2030-01-01')`,
		`INSERT INTO subscribers (id, first_name, email, timezone, email_status, created_at, updated_at)
		 SELECT i, 'Sam', 'p' || i || '@example.org', 'UTC', 'confirmed', '2030-01-01', '2030-01-01'
		 FROM generate_series(1, 50000) i`,
		// Every 100th enrollment is due; every 50th is paused, every 7th completed.
		`INSERT INTO enrollments (id, subscriber_id, program_version_id, program, status, timezone, start_date, track,
		                          next_due_at, paused_until, created_at, updated_at)
		 SELECT i, i, 1, 'p',
		        CASE WHEN i % 50 = 1 THEN 'paused' WHEN i % 7 = 0 THEN 'completed' ELSE 'active' END,
		        'UTC', '2030-01-01', 'main',
		        CASE WHEN i % 7 = 0 THEN NULL
		             WHEN i % 100 = 0 THEN $1::timestamptz - interval '1 minute'
		             ELSE $1::timestamptz + (i % 1000) * interval '1 hour' END,
		        CASE WHEN i % 50 = 1 THEN $1::timestamptz + interval '2 days' END,
		        '2030-01-01', '2030-01-01'
		 FROM generate_series(1, 50000) i`,
		// Every 100th delivery is queued and due, every 1000th is leased
		// (some leases expired), the rest were sent.
		`INSERT INTO deliveries (enrollment_id, subscriber_id, step_key, kind, channel, to_addr, status, attempts,
		                         due_at, not_before, lease_until, body_text, created_at, updated_at)
		 SELECT i, i, 'lesson-' || (i % 20), 'lesson', CASE WHEN i % 3 = 0 THEN 'sms' ELSE 'email' END,
		        'p' || i || '@example.org',
		        CASE WHEN i % 1000 = 1 THEN 'sending' WHEN i % 100 = 0 THEN 'queued' ELSE 'sent' END,
		        1, $1::timestamptz - interval '1 day', $1::timestamptz - (i % 60) * interval '1 minute',
		        CASE WHEN i % 1000 = 1 THEN $1::timestamptz + (i % 3 - 1) * interval '1 minute' END,
		        repeat('A lesson body. ', 40), '2030-01-01', '2030-01-01'
		 FROM generate_series(1, 50000) i`,
		`INSERT INTO delivery_keys (enrollment_id, step_key, channel, subscriber_id, delivery_id)
		 SELECT enrollment_id, step_key, channel, subscriber_id, id FROM deliveries`,
		`INSERT INTO suppressions (channel, address, reason, source, created_at)
		 SELECT 'email', 'p' || i || '@example.org', 'test', 'test', '2030-01-01' FROM generate_series(1, 500, 7) i`,
		// Every other enrollment answered a check-in; a few replies are
		// still kept (reply text is purged past its retention).
		`INSERT INTO checkins (enrollment_id, step_key, occurrence, prompt, token, opened_at, closes_at,
		                       answer, answered_at, reply_text, created_at)
		 SELECT i, 'mood', 'mood-' || i, 'mood', 'tok' || i, '2030-01-01', '2030-01-04',
		        CASE WHEN i % 2 = 0 THEN 'good' END,
		        CASE WHEN i % 2 = 0 THEN $1::timestamptz - (i % 90) * interval '1 day' END,
		        CASE WHEN i % 2 = 0 AND i % 90 < 3 THEN 'fine thanks' END, '2030-01-01'
		 FROM generate_series(1, 50000) i`,
		`UPDATE deliveries SET provider_id = 'SM' || id WHERE status = 'sent' AND channel = 'sms'`,
		`ANALYZE`,
	}
	for _, q := range seed {
		var args []any
		if strings.Contains(q, "$1") {
			args = append(args, now)
		}
		if _, err := st.DB.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("seed: %v\n%s", err, q)
		}
	}
	ids := func(from, step, count int) []int64 {
		out := make([]int64, count)
		for i := range out {
			out[i] = int64(from + i*step)
		}
		return out
	}
	texts := func(v string, count int) []string {
		out := make([]string, count)
		for i := range out {
			out[i] = v
		}
		return out
	}
	nums := func(v int64, count int) []int64 {
		out := make([]int64, count)
		for i := range out {
			out[i] = v
		}
		return out
	}
	ts := now.Format(time.RFC3339)
	// Each statement with the parameters the engine passes: batches of the
	// engine's default sizes, ids that exist.
	cases := []struct {
		name string
		args []any
	}{
		{"claim_due_enrollments", []any{now, 500}},
		{"update_planned_enrollments", []any{now, pq.Array(ids(100, 100, 500)), pq.Array(texts("active", 500)), pq.Array(texts("main", 500)),
			pq.Array(nums(0, 500)), pq.Array(nums(0, 500)), pq.Array(nums(3, 500)), pq.Array(texts("{}", 500)), pq.Array(texts("{}", 500)),
			pq.Array(texts("{}", 500)), pq.Array(nums(0, 500)), pq.Array(texts("healing", 500)), pq.Array(texts(ts, 500))}},
		{"claim_deliveries", []any{now, "email", 1000, int64(120000), "explain"}},
		{"ack_deliveries", []any{now, pq.Array(ids(100, 50, 1000)), pq.Array(nums(1, 1000)), pq.Array(texts("sent", 1000)),
			pq.Array(texts("", 1000)), pq.Array(texts("", 1000)), pq.Array(texts("", 1000)), pq.Array(make([]*string, 1000)), pq.Array(make([]bool, 1000))}},
		{"release_claimed", []any{now, pq.Array(ids(100, 50, 1000)), pq.Array(nums(1, 1000))}},
		{"cancel_suppressed_claimed", []any{now, pq.Array(ids(100, 50, 1000)), pq.Array(nums(1, 1000))}},
		{"cancel_queued_to", []any{now, pq.Array([]string{"email"}), pq.Array([]string{"p100@example.org"})}},
		{"rescue_expired_leases", []any{now, 8}},
		{"due_to_resume", []any{now.Add(72 * time.Hour)}},
		// One person's or one enrollment's deliveries, found through
		// delivery_keys (migration 00007).
		{"lock_queued_of_enrollment", []any{int64(300)}},
		{"shift_queued_deliveries", []any{now, pq.Array(ids(100, 100, 5)), pq.Array(texts(ts, 5))}},
		{"cancel_queued_of_enrollment", []any{int64(300), now, "left"}},
		{"hold_queued_of_enrollment", []any{int64(300), now}},
		{"enrollment_finished", []any{int64(300)}},
		{"admin_lock_person_deliveries", []any{int64(300)}},
		{"admin_person_delivery_counts", []any{int64(300)}},
		{"admin_erase_cancel_queued", []any{int64(300), now}},
		// A person's enrollments, whatever their status: an SMS answer,
		// a STOP, the operator's show, export and erase.
		{"open_checkin_of_subscriber", []any{int64(300), now}},
		{"live_enrollments_of", []any{int64(300)}},
		{"lock_subscriber_enrollments", []any{"p300@example.org", ""}},
		{"admin_lock_person_enrollments", []any{int64(300)}},
		{"admin_person_enrollments", []any{int64(300)}},
		{"admin_person_checkins", []any{int64(300)}},
		{"admin_person_erasure", []any{int64(300)}},
		// A sign-up again: the person's pending, or running to reconfirm,
		// enrollment in the program.
		{"pending_enrollment_of", []any{"p300@example.org", "", "rekindle"}},
		{"running_enrollment_to_reconfirm", []any{"p300@example.org", "rekindle"}},
		// What every /metrics scrape reads.
		{"delivery_in_flight_counts", nil},
		// Export and erase: enrollments by index; deliveries are also read
		// whole for every copy of the address (person_deliveries).
		{"admin_export_person", []any{int64(300), "p300@example.org", "+447700900300"}},
		{"admin_erase_plan", []any{int64(300), "p300@example.org", "+447700900300"}},
		{"admin_erase_deliveries", []any{int64(300), "p300@example.org", "+447700900300", now}},
		// The idle planner's look at the next due step, every tick of
		// every planner; the backlog every /metrics scrape reads.
		{"next_due_at", nil},
		{"due_backlog", []any{now}},
		{"queued_backlog", []any{now}},
		// Twilio's status reports, and the kept early ones (every 30s).
		{"set_delivery_status", []any{now, "sms", "SM300", "delivered", "", ""}},
		{"delivery_by_provider_id", []any{"sms", "SM300"}},
		{"known_kept_status_callbacks", []any{100}},
		{"expire_kept_status_callbacks", []any{now}},
		// Answers: a check-in link, a reply, a branch; the hourly purge
		// of reply text past its retention (migration 00011).
		{"checkin_by_token", []any{"tok300"}},
		{"lock_checkin", []any{int64(300)}},
		{"recent_answers", []any{int64(300), "mood", 3}},
		{"purge_replies", []any{now.Add(-30 * 24 * time.Hour)}},
		{"lock_enrollment", []any{int64(300)}},
		{"confirmations_planned", []any{int64(300)}},
		{"cancel_queued_lessons", []any{int64(300), now}},
		{"web_enrollments_of", []any{int64(300)}},
	}
	byID := map[string]bool{"ack_deliveries": true, "release_claimed": true, "cancel_suppressed_claimed": true}
	scansDeliveries := map[string]bool{"admin_export_person": true, "admin_erase_plan": true, "admin_erase_deliveries": true}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root, plan := explain(t, st, c.name, c.args...)
			bad := seqScans(root, nil)
			if scansDeliveries[c.name] {
				bad = slices.DeleteFunc(bad, func(s string) bool { return strings.HasPrefix(s, "deliveries ") })
			}
			if len(bad) > 0 {
				t.Fatalf("%s scans %s sequentially:\n%s", c.name, strings.Join(bad, ", "), plan)
			}
			// A batch of claimed messages is found by id. The lease index
			// held every message ever in flight until VACUUM (migration
			// 00008): scanning it made an acknowledgement cost grow with
			// everything sent before.
			if byID[c.name] {
				used := indexesOn(root, "deliveries", nil)
				if len(used) == 0 || slices.ContainsFunc(used, func(ix string) bool { return ix != "deliveries_pkey" }) {
					t.Fatalf("%s reads deliveries through %v, want deliveries_pkey alone:\n%s", c.name, used, plan)
				}
			}
		})
	}
}

// explain returns the plan PostgreSQL makes for the named statement with
// args, and its JSON for failure messages.
func explain(t *testing.T, st *store.Store, name string, args ...any) (planNode, []byte) {
	t.Helper()
	q := st.QueryText(name)
	if q == "" {
		t.Fatalf("no statement named %s", name)
	}
	var out []byte
	if err := st.DB.QueryRowContext(context.Background(), "EXPLAIN (FORMAT JSON) "+q, args...).Scan(&out); err != nil {
		t.Fatalf("explain %s: %v", name, err)
	}
	var doc []struct {
		Plan planNode `json:"Plan"`
	}
	if err := json.Unmarshal(out, &doc); err != nil || len(doc) != 1 {
		t.Fatalf("explain output: %v\n%s", err, out)
	}
	return doc[0].Plan, out
}

type planNode struct {
	NodeType string     `json:"Node Type"`
	Relation string     `json:"Relation Name"`
	Alias    string     `json:"Alias"`
	Index    string     `json:"Index Name"`
	Cond     string     `json:"Index Cond"`
	Filter   string     `json:"Join Filter"`
	Plans    []planNode `json:"Plans"`
}

// indexesOn lists the indexes a plan reads table through.
func indexesOn(n planNode, table string, out []string) []string {
	if n.Relation == table && n.Index != "" {
		out = append(out, n.Index)
	}
	for _, c := range n.Plans {
		out = indexesOn(c, table, out)
	}
	return out
}

// seqScans lists the sequential scans of the big tables in a plan.
func seqScans(n planNode, out []string) []string {
	if n.NodeType == "Seq Scan" && (n.Relation == "enrollments" || n.Relation == "deliveries" || n.Relation == "delivery_keys" || n.Relation == "checkins") {
		out = append(out, fmt.Sprintf("%s (as %s)", n.Relation, n.Alias))
	}
	for _, c := range n.Plans {
		out = seqScans(c, out)
	}
	return out
}
