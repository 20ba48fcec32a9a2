package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/rekindle/rekindle/internal/testdb"
)

// A batch's outcomes are written by looking deliveries up by the batch's
// ids, whatever the statistics say about how many messages are in flight:
// the usual table is mostly sent mail (few in flight), and a table that was
// just reloaded has statistics older than its rows. Either made PostgreSQL
// compare every message of the batch with every row it read, or scan the
// table, for each batch: 250 ms to 450 ms for 1,000 messages among 200,000
// where probing by id takes 10 ms.
func TestBatchOutcomesProbeByID(t *testing.T) {
	st, _ := testdb.Store(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 7, 12, 0, 0, 0, time.UTC)
	const n, inFlight = 200000, 1000
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := st.DB.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
	}
	// The last inFlight deliveries are being sent; the rest were sent.
	load := func(sending string) {
		exec(`INSERT INTO deliveries (enrollment_id, subscriber_id, step_key, kind, channel, to_addr, status, attempts,
		                              due_at, not_before, lease_until, created_at, updated_at)
		      SELECT i, i, 'lesson-1', 'lesson', 'email', 'p' || i || '@example.org', `+sending+`, 1,
		             $1, $1, CASE WHEN i > $2 THEN $1::timestamptz + interval '1 minute' END, $1, $1
		      FROM generate_series(1, $3::int) i`, now, n-inFlight, n)
	}
	ids, attempts := make([]int64, inFlight), make([]int64, inFlight)
	for i := range ids {
		ids[i], attempts[i] = int64(n-inFlight+1+i), 1
	}
	texts := func(v string) []string {
		out := make([]string, inFlight)
		for i := range out {
			out[i] = v
		}
		return out
	}
	statements := map[string][]any{
		"ack_deliveries": {now, pq.Array(ids), pq.Array(attempts), pq.Array(texts("sent")), pq.Array(texts("")),
			pq.Array(texts("")), pq.Array(texts("")), pq.Array(make([]*string, inFlight)), pq.Array(make([]bool, inFlight))},
		"release_claimed":           {now, pq.Array(ids), pq.Array(attempts)},
		"cancel_suppressed_claimed": {now, pq.Array(ids), pq.Array(attempts)},
	}
	sendingLast := fmt.Sprintf("CASE WHEN i > %d THEN 'sending' ELSE 'sent' END", n-inFlight)
	for _, state := range []struct {
		name    string
		prepare func()
	}{
		{"statistics that count the messages in flight", func() {
			load(sendingLast)
			exec(`ANALYZE deliveries`)
		}},
		{"statistics taken when nothing was in flight", func() {
			exec(`UPDATE deliveries SET status = 'sent', lease_until = NULL`)
			exec(`ANALYZE deliveries`)
			exec(`UPDATE deliveries SET status = 'sending', lease_until = $1 WHERE id > $2`, now, n-inFlight)
		}},
		{"rows reloaded since the statistics were taken", func() {
			exec(`TRUNCATE deliveries RESTART IDENTITY`)
			load(sendingLast)
		}},
	} {
		state.prepare()
		for name, args := range statements {
			t.Run(state.name+"/"+name, func(t *testing.T) {
				root, out := explain(t, st, name, args...)
				if !probesByBatchID(root) || joinFilters(root) {
					t.Fatalf("%s does not probe deliveries once per message by id:\n%s", name, out)
				}
			})
		}
	}
}

// probesByBatchID reports whether deliveries is read only through its
// primary key, for the batch's ids: one probe per message, or one scan of
// the key for all of them.
func probesByBatchID(n planNode) bool {
	found := false
	var walk func(planNode) bool
	walk = func(n planNode) bool {
		if n.Relation == "deliveries" && n.NodeType != "ModifyTable" {
			// "(id = u.id)", "(id = s.id)" or "(id = ANY (...))"
			if n.NodeType != "Index Scan" || n.Index != "deliveries_pkey" || !strings.HasPrefix(n.Cond, "(id = ") {
				return false
			}
			found = true
		}
		for _, c := range n.Plans {
			if !walk(c) {
				return false
			}
		}
		return true
	}
	return walk(n) && found
}

// joinFilters reports whether a join compares rows it did not look up: a
// nested loop that checks every pair.
func joinFilters(n planNode) bool {
	if n.Filter != "" {
		return true
	}
	for _, c := range n.Plans {
		if joinFilters(c) {
			return true
		}
	}
	return false
}
