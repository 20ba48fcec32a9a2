package scheduler

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/store"
)

func openStore(t *testing.T, dsn string) *store.Store {
	t.Helper()
	s, err := store.Open(context.Background(), dsn, store.Options{MaxOpenConns: 4})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Two planners at once over the same due set: every delivery row once.
func TestTwoPlannersCreateEachRowOnce(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T06:00:00Z"))
	st, dsn := testdb.Store(t)
	e1 := engineOn(t, st, clk)
	e2 := engineOn(t, openStore(t, dsn), clk)
	e1.Cfg.PlanBatch, e2.Cfg.PlanBatch = 25, 25
	const people = 300
	for i := 0; i < people; i++ {
		mustEnroll(t, e1, EnrollRequest{Program: "basic", Email: fmt.Sprintf("p%d@example.org", i), Timezone: "Europe/London"})
	}
	clk.Set(utc("2026-06-01T10:00:00Z")) // welcome (08:00) and l1 (09:00) due
	var wg sync.WaitGroup
	for _, e := range []*Engine{e1, e2} {
		wg.Add(1)
		go func(e *Engine) {
			defer wg.Done()
			for {
				n, _, err := e.PlanOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		}(e)
	}
	wg.Wait()
	var total, distinct int
	dbGet(t, st.DB, &total, `SELECT count(*) FROM deliveries`)
	dbGet(t, st.DB, &distinct, `SELECT count(DISTINCT (enrollment_id, step_key, channel)) FROM deliveries`)
	if total != people*2 || distinct != total {
		t.Fatalf("%d rows (%d distinct), want %d: welcome and l1 once per person", total, distinct, people*2)
	}
	// Planning again (say, after a crash before the cursor moved) adds nothing.
	dbExec(t, st.DB, `UPDATE enrollments SET cursor = -1, next_due_at = $1`, clk.Now().Add(-time.Minute))
	for {
		n, _, err := e1.PlanOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	dbGet(t, st.DB, &total, `SELECT count(*) FROM deliveries`)
	if total != people*2 {
		t.Fatalf("re-planning made %d rows, want %d", total, people*2)
	}
}

// seedQueued inserts n queued email deliveries due now.
func seedQueued(t *testing.T, st *store.Store, n int, now time.Time) {
	t.Helper()
	if _, err := st.DB.Exec(`INSERT INTO deliveries (step_key, kind, channel, to_addr, due_at, not_before, subject, body_text, created_at, updated_at)
		SELECT 'step-' || g, 'lesson', 'email', 'p' || g || '@example.org', $1, $1, 'Hello', 'Body', $1, $1
		FROM generate_series(1, $2) g`, now, n); err != nil {
		t.Fatal(err)
	}
}

// Three dispatchers, each with its own pool, drain 5,000 deliveries: each
// sent exactly once, none left.
func TestThreeDispatchersSendEachOnce(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T10:00:00Z"))
	st, dsn := testdb.Store(t)
	seedQueued(t, st, 5000, clk.Now())
	ch := newCounting(channel.Email)
	var wg sync.WaitGroup
	for i := 0; i < 3; i++ {
		e := engineOn(t, openStore(t, dsn), clk)
		e.Cfg.ClaimBatch = 100
		d := e.NewDispatcher(ch, 4, fmt.Sprintf("worker-%d", i))
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := d.DispatchOnce(context.Background())
				if err != nil {
					t.Error(err)
					return
				}
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	if len(ch.sent) != 5000 || ch.total() != 5000 {
		t.Fatalf("sent %d distinct, %d total; want 5000 and 5000", len(ch.sent), ch.total())
	}
	var left int
	dbGet(t, st.DB, &left, `SELECT count(*) FROM deliveries WHERE status <> 'sent'`)
	if left != 0 {
		t.Fatalf("%d deliveries not sent", left)
	}
}

// A dispatcher that dies after claiming: the rescuer returns exactly its
// rows once the lease runs out, and they are then sent once.
func TestRescuerReturnsDeadWorkersRows(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T10:00:00Z"))
	e := newEngine(t, clk)
	seedQueued(t, e.Store, 50, clk.Now())
	claimed, err := e.Store.ClaimDeliveries(context.Background(), clk.Now(), "email", 20, e.Cfg.Lease, "doomed")
	if err != nil || len(claimed) != 20 {
		t.Fatalf("claim: %d %v", len(claimed), err)
	}
	// The doomed worker never acks. Others drain the rest meanwhile.
	ch := newCounting(channel.Email)
	d := e.NewDispatcher(ch, 2, "alive")
	for {
		n, err := d.DispatchOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	if ch.total() != 30 {
		t.Fatalf("live worker sent %d, want the 30 unclaimed", ch.total())
	}
	if ids, _ := e.RescueOnce(context.Background()); len(ids) != 0 {
		t.Fatalf("rescued %d before the lease ran out", len(ids))
	}
	clk.Advance(e.Cfg.Lease + time.Second)
	ids, err := e.RescueOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := map[int64]bool{}
	for _, c := range claimed {
		want[c.ID] = true
	}
	if len(ids) != len(want) {
		t.Fatalf("rescued %d rows, want the %d the dead worker held", len(ids), len(want))
	}
	for _, id := range ids {
		if !want[id] {
			t.Fatalf("rescued row %d that the dead worker did not hold", id)
		}
	}
	for {
		n, err := d.DispatchOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	for id := range want {
		if ch.sent[id] != 1 {
			t.Fatalf("rescued delivery %d sent %d times", id, ch.sent[id])
		}
	}
	// The dead worker's late ack (its attempt number is stale) changes nothing.
	if err := e.Store.AckDeliveries(context.Background(), clk.Now(), []store.Ack{{ID: claimed[0].ID, Attempt: claimed[0].Attempts, Status: "failed", Err: "late"}}, nil); err != nil {
		t.Fatal(err)
	}
	var status, reason string
	if err := e.Store.DB.QueryRow(`SELECT status, coalesce(error, '') FROM deliveries WHERE id = $1`, claimed[0].ID).Scan(&status, &reason); err != nil {
		t.Fatal(err)
	}
	if status != "sent" || reason == "late" {
		t.Fatalf("after a stale ack the delivery is %s (%q): it overwrote the newer attempt's outcome (sent)", status, reason)
	}
}

func TestRetryThenPermanentFailure(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T10:00:00Z"))
	e := newEngine(t, clk)
	seedQueued(t, e.Store, 2, clk.Now())
	ch := newCounting(channel.Email)
	calls := map[string]int{}
	ch.fail = func(m channel.Message) error {
		calls[m.To]++
		if m.To == "p1@example.org" && calls[m.To] == 1 {
			return channel.Retryable("451", fmt.Errorf("try later"))
		}
		if m.To == "p2@example.org" {
			return channel.PermanentAddress("550", fmt.Errorf("no such user"))
		}
		return nil
	}
	d := e.NewDispatcher(ch, 1, "w")
	for i := 0; i < 5; i++ {
		if _, err := d.DispatchOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		clk.Advance(10 * time.Minute)
	}
	if calls["p1@example.org"] != 2 || ch.total() != 1 {
		t.Fatalf("451 then accept: %d calls, %d sent; want 2 calls, sent once", calls["p1@example.org"], ch.total())
	}
	if calls["p2@example.org"] != 1 {
		t.Fatalf("a 550 was tried %d times; permanent errors are never retried", calls["p2@example.org"])
	}
	var sup int
	dbGet(t, e.Store.DB, &sup, `SELECT count(*) FROM suppressions WHERE channel = 'email' AND address = 'p2@example.org'`)
	if sup != 1 {
		t.Fatal("the 550 address was not suppressed")
	}
	// Anything queued later to a suppressed address is cancelled at claim.
	dbExec(t, e.Store.DB, `INSERT INTO deliveries (step_key, channel, to_addr, due_at, not_before, created_at, updated_at)
		VALUES ('again', 'email', 'p2@example.org', $1, $1, $1, $1)`, clk.Now())
	if _, err := d.DispatchOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	var status string
	dbGet(t, e.Store.DB, &status, `SELECT status FROM deliveries WHERE step_key = 'again'`)
	if status != "cancelled" || calls["p2@example.org"] != 1 {
		t.Fatalf("delivery to a suppressed address: status %s, calls %d", status, calls["p2@example.org"])
	}
}
