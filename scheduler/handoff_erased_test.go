package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/store"
)

// An opt-out outlives the erase of the person who made it, kept only as a
// hash of the address. An operator who later enrolls someone at that
// address (the same person back, or whoever has it now) does not get a
// message past it: the welcome the planner hands straight to the
// dispatcher is written cancelled, as the claim would cancel it, and
// nothing is sent to the address.
func TestHandedMessageToAnErasedPersonsOptOutIsCancelled(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(utc("2026-06-01T10:00:00Z"))
	e := newEngine(t, clk)
	const addr = "back@example.org"
	first := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: addr, Timezone: "UTC"})
	if err := e.Store.Suppress(ctx, clk.Now(), []store.Suppression{{Channel: "email", Address: addr, Reason: "unsubscribed", Source: "link"}}); err != nil {
		t.Fatal(err)
	}
	var sub int64
	dbGet(t, e.Store.DB, &sub, `SELECT subscriber_id FROM enrollments WHERE id = $1`, first)
	if _, err := e.Store.ErasePerson(ctx, clk.Now(), sub); err != nil {
		t.Fatal(err)
	}
	var plain int
	dbGet(t, e.Store.DB, &plain, `SELECT count(*) FROM suppressions WHERE address = $1`, addr)
	if plain != 0 {
		t.Fatalf("after the erase the opt-out is still kept as the address itself (%d rows); the test needs it only as a hash", plain)
	}

	mustEnroll(t, e, EnrollRequest{Program: "basic", Email: addr, Timezone: "UTC", Start: clk.Now()})
	h := &handoff{channels: map[string]bool{"email": true}, lease: time.Minute, worker: "here"}
	_, _, handed, err := e.planOnce(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if r, ok := handoffRows(t, e)[addr]; !ok || r.Status != "cancelled" || r.Error != "address suppressed" || r.Attempts != 0 {
		t.Fatalf("the welcome to the address an erased person opted out was written as %+v; want it cancelled", r)
	}
	ch := newCounting(channel.Email)
	if err := e.NewDispatcher(ch, 1, "here").SendClaimed(ctx, handed, clk.Now(), time.Now()); err != nil {
		t.Fatal(err)
	}
	for _, m := range ch.order {
		if m.To == addr {
			t.Errorf("sent %s to the address an erased person opted out", m.Step)
		}
	}
}
