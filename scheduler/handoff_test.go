package scheduler

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/store"
)

type handoffRow struct {
	To       string `db:"to_addr"`
	Status   string `db:"status"`
	Attempts int    `db:"attempts"`
	Claimed  string `db:"claimed_by"`
	Leased   bool   `db:"leased"`
	Error    string `db:"error"`
}

func handoffRows(t *testing.T, e *Engine) map[string]handoffRow {
	t.Helper()
	var rows []handoffRow
	if err := e.Store.DB.Select(&rows, `SELECT to_addr, status, attempts, coalesce(claimed_by, '') AS claimed_by,
		lease_until IS NOT NULL AS leased, coalesce(error, '') AS error FROM deliveries WHERE step_key = 'welcome'`); err != nil {
		t.Fatal(err)
	}
	out := map[string]handoffRow{}
	for _, r := range rows {
		out[r.To] = r
	}
	return out
}

// A message due at once is written already claimed by this process and
// handed to its dispatcher, not queued and claimed back: committed as
// 'sending' on its first attempt, with a lease, so a crash before it is
// sent leaves it to the rescuer like any claimed message. An address that
// opted out is cancelled as it is written, and the SMS that quiet hours
// defer is queued for later, not handed.
func TestPlannerHandsDueMessagesToTheDispatcher(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T22:00:00Z")) // 22:00 UTC: SMS quiet hours
	e := newEngine(t, clk)
	for i := 0; i < 3; i++ {
		mustEnroll(t, e, EnrollRequest{Program: "basic", Email: fmt.Sprintf("p%d@example.org", i), Phone: fmt.Sprintf("+1202555010%d", i), Timezone: "UTC", Start: clk.Now()})
	}
	if err := e.Store.Suppress(context.Background(), clk.Now(), []store.Suppression{{Channel: "email", Address: "p1@example.org", Reason: "unsubscribed", Source: "test"}}); err != nil {
		t.Fatal(err)
	}
	h := &handoff{channels: map[string]bool{"email": true, "sms": true}, lease: time.Minute, worker: "here"}
	_, planned, handed, err := e.planOnce(context.Background(), h)
	if err != nil {
		t.Fatal(err)
	}
	rows := handoffRows(t, e)
	for _, addr := range []string{"p0@example.org", "p2@example.org"} {
		if r := rows[addr]; r.Status != "sending" || r.Attempts != 1 || r.Claimed != "here" || !r.Leased {
			t.Fatalf("the welcome to %s was written as %+v; want it claimed by this process, first attempt, leased", addr, r)
		}
	}
	if r := rows["p1@example.org"]; r.Status != "cancelled" || r.Error != "address suppressed" || r.Attempts != 0 {
		t.Fatalf("the welcome to an address that opted out was written as %+v; want it cancelled", r)
	}
	for i := 0; i < 3; i++ {
		if r := rows[fmt.Sprintf("+1202555010%d", i)]; r.Status != "queued" || r.Claimed != "" {
			t.Fatalf("the welcome SMS in quiet hours was written as %+v; want it queued for the morning", r)
		}
	}
	// Each person's welcome and first lesson by email (one person's
	// cancelled), and the welcome by SMS, queued.
	if len(handed) != 6 || planned != 9 {
		t.Fatalf("handed %d deliveries of %d planned; want the 6 emails of 9", len(handed), planned)
	}

	ch := newCounting(channel.Email)
	d := e.NewDispatcher(ch, 2, "here")
	if err := d.SendClaimed(context.Background(), handed, clk.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	rows = handoffRows(t, e)
	if ch.total() != 4 || rows["p0@example.org"].Status != "sent" || rows["p2@example.org"].Status != "sent" || rows["p1@example.org"].Status != "cancelled" {
		t.Fatalf("sent %d; rows %+v; want the four emails sent once each and the opted-out ones never", ch.total(), rows)
	}
}

// A batch the dispatcher does not take (the service is stopping) goes back
// to the queue, its attempt not counted, for a claim to send later.
func TestHandedBatchNotTakenGoesBackToTheQueue(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T10:00:00Z"))
	e := newEngine(t, clk)
	mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "later@example.org", Timezone: "UTC", Start: clk.Now()})
	h := &handoff{channels: map[string]bool{"email": true}, lease: time.Minute, worker: "here"}
	_, _, handed, err := e.planOnce(context.Background(), h)
	if err != nil || len(handed) != 2 {
		t.Fatalf("handed %d (%v), want the welcome and the first lesson", len(handed), err)
	}
	svc := e.NewService(time.Hour)
	stopping, cancel := context.WithCancel(context.Background())
	cancel()
	svc.handOver(stopping, map[string]chan handedBatch{"email": make(chan handedBatch)}, handed, clk.Now(), time.Now())
	if r := handoffRows(t, e)["later@example.org"]; r.Status != "queued" || r.Attempts != 0 || r.Leased {
		t.Fatalf("the welcome nobody took is %+v; want it queued again, no attempt counted", r)
	}
	ch := newCounting(channel.Email)
	if _, err := e.NewDispatcher(ch, 1, "there").DispatchOnce(context.Background()); err != nil || ch.total() != len(handed) {
		t.Fatalf("a claim sent %d (%v); want the %d given back sent once each", ch.total(), err, len(handed))
	}
}

// Through the service: everyone due is sent exactly once, the opted-out
// address never, and every row ends 'sent' on its first attempt.
func TestServiceSendsHandedMessagesOnce(t *testing.T) {
	clk := clock.NewScaled(utc("2026-06-01T10:00:00Z"), 1)
	e := newEngine(t, clk)
	const n = 40
	for i := 0; i < n; i++ {
		mustEnroll(t, e, EnrollRequest{Program: "basic", Email: fmt.Sprintf("s%d@example.org", i), Timezone: "UTC", Start: clk.Now()})
	}
	if err := e.Store.Suppress(context.Background(), clk.Now(), []store.Suppression{{Channel: "email", Address: "s7@example.org", Reason: "unsubscribed", Source: "test"}}); err != nil {
		t.Fatal(err)
	}
	e.Cfg.PlanBatch = 7 // several passes, two planners
	ch := newCounting(channel.Email)
	svc := e.NewService(time.Hour, e.NewDispatcher(ch, 3, "svc"))
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var left int
		if err := e.Store.DB.Get(&left, `SELECT count(*) FROM deliveries WHERE status IN ('queued', 'sending')`); err != nil {
			t.Fatal(err)
		}
		if left == 0 && ch.total() >= 2*(n-1) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 20 s, %d messages sent and %d not done", ch.total(), left)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !svc.Stop(10 * time.Second) {
		t.Fatal("the service did not stop")
	}
	ch.mu.Lock()
	for id, times := range ch.sent {
		if times != 1 {
			t.Errorf("delivery %d sent %d times", id, times)
		}
	}
	for _, m := range ch.order {
		if m.To == "s7@example.org" {
			t.Errorf("sent %s to the address that opted out", m.Step)
		}
	}
	ch.mu.Unlock()
	var bad int
	dbGet(t, e.Store.DB, &bad, `SELECT count(*) FROM deliveries WHERE NOT ((status = 'sent' AND attempts = 1 AND to_addr <> 's7@example.org')
		OR (status = 'cancelled' AND to_addr = 's7@example.org'))`)
	if bad != 0 {
		t.Fatalf("%d deliveries are neither sent on their first attempt nor (for the opted-out address) cancelled", bad)
	}
}

// A person who leaves, or pauses, while the messages planned for them wait
// to be sent gets none of them: the re-check before sending cancels what
// was planned for someone who left and queues again what was planned for
// someone on a break, for when they come back.
func TestHandedMessagesWaitingForAPersonWhoLeftOrPausedAreNotSent(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T10:00:00Z"))
	e := newEngine(t, clk)
	gone := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "gone@example.org", Timezone: "UTC", Start: clk.Now()})
	away := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "away@example.org", Timezone: "UTC", Start: clk.Now()})
	h := &handoff{channels: map[string]bool{"email": true}, lease: time.Minute, worker: "here"}
	_, _, handed, err := e.planOnce(context.Background(), h)
	if err != nil || len(handed) != 4 {
		t.Fatalf("handed %d (%v), want both people's welcome and first lesson", len(handed), err)
	}
	if ok, err := e.Unenroll(context.Background(), gone, "test"); !ok || err != nil {
		t.Fatalf("unenroll: %v %v", ok, err)
	}
	if ok, err := e.Pause(context.Background(), away, nil); !ok || err != nil {
		t.Fatalf("pause: %v %v", ok, err)
	}
	ch := newCounting(channel.Email)
	// The batch waited two seconds for the dispatcher: longer than Recheck.
	if err := e.NewDispatcher(ch, 2, "here").SendClaimed(context.Background(), handed, clk.Now(), time.Now().Add(-2*time.Second)); err != nil {
		t.Fatal(err)
	}
	if ch.total() != 0 {
		t.Fatalf("sent %d messages to people who left or paused", ch.total())
	}
	var rows []struct {
		To       string `db:"to_addr"`
		Status   string `db:"status"`
		Attempts int    `db:"attempts"`
		Error    string `db:"error"`
	}
	dbSelect(t, e.Store.DB, &rows, `SELECT to_addr, status, attempts, coalesce(error, '') AS error FROM deliveries ORDER BY id`)
	for _, r := range rows {
		want := "cancelled/1/enrollment ended"
		if r.To == "away@example.org" {
			want = "queued/0/"
		}
		if got := fmt.Sprintf("%s/%d/%s", r.Status, r.Attempts, r.Error); got != want {
			t.Errorf("%s: %s, want %s", r.To, got, want)
		}
	}
}

// A batch that waited so long for a sender (other batches held them all)
// that three quarters of its lease are gone starts nothing: the rescuer
// would hand its messages to another worker at the lease's end, and one
// would go twice. They go back to the queue, their attempt not counted.
func TestBatchPastMostOfItsLeaseIsGivenBack(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T10:00:00Z"))
	e := newEngine(t, clk)
	e.Cfg.Lease = 4 * time.Second
	mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "late@example.org", Timezone: "UTC", Start: clk.Now()})
	h := &handoff{channels: map[string]bool{"email": true}, lease: e.Cfg.Lease, worker: "here"}
	_, _, handed, err := e.planOnce(context.Background(), h)
	if err != nil || len(handed) != 2 {
		t.Fatalf("handed %d (%v)", len(handed), err)
	}
	ch := newCounting(channel.Email)
	if err := e.NewDispatcher(ch, 1, "here").SendClaimed(context.Background(), handed, clk.Now(), time.Now().Add(-3500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	var queued int
	dbGet(t, e.Store.DB, &queued, `SELECT count(*) FROM deliveries WHERE status = 'queued' AND attempts = 0 AND lease_until IS NULL`)
	if ch.total() != 0 || queued != 2 {
		t.Fatalf("sent %d, %d queued again; want none sent and both given back", ch.total(), queued)
	}
}

// The demo's reset deletes a person with everything about them: their
// deliveries too, though no foreign key cascades to them any more.
func TestDeleteSubscriberTakesTheirDeliveries(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T10:00:00Z"))
	e := newEngine(t, clk)
	mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "reset@example.org", Phone: "+12025550188", Timezone: "UTC", Start: clk.Now()})
	mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "stays@example.org", Timezone: "UTC", Start: clk.Now()})
	if _, _, err := e.PlanOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := e.Store.DeleteSubscriber(context.Background(), "reset@example.org", "+12025550188"); err != nil {
		t.Fatal(err)
	}
	var theirs, others int
	dbGet(t, e.Store.DB, &theirs, `SELECT count(*) FROM deliveries WHERE to_addr IN ('reset@example.org', '+12025550188')`)
	dbGet(t, e.Store.DB, &others, `SELECT count(*) FROM deliveries WHERE to_addr = 'stays@example.org'`)
	if theirs != 0 || others == 0 {
		t.Fatalf("after deleting one person: %d of their deliveries left, %d of the other's; want 0 and all", theirs, others)
	}
}
