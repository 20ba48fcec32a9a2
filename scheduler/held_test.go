package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/store"
)

// A paused person's planned messages are held out of the queue, where every
// claim would walk past them: nothing of theirs is claimed while paused, an
// opt-out cancels them as it cancels queued ones, and on resume they go
// back to the queue, shifted by the pause, and are sent.
func TestPausedPersonsMessagesAreHeld(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z"))
	e := newEngine(t, clk)
	id := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "held@example.org", Phone: "+447700900611", Timezone: "Europe/London"})
	// Plan the welcome (email and SMS) and l1 without sending them.
	planUntil(t, e, clk, utc("2026-06-01T08:30:00Z"), 30*time.Minute)
	statuses := func() map[string]int {
		t.Helper()
		out := map[string]int{}
		for _, d := range deliveries(t, e, id) {
			out[d.Status]++
		}
		return out
	}
	if s := statuses(); s["queued"] != 3 {
		t.Fatalf("before the pause: %v, want 3 queued", s)
	}
	if ok, err := e.Pause(ctx, id, nil); !ok || err != nil {
		t.Fatalf("pause: %v %v", ok, err)
	}
	if s := statuses(); s["held"] != 3 || s["queued"] != 0 {
		t.Fatalf("paused: %v, want all 3 held", s)
	}
	email, sms := newCounting(channel.Email), newCounting(channel.SMS)
	for _, ch := range []*counting{email, sms} {
		if n, err := e.NewDispatcher(ch, 1, "held").DispatchOnce(ctx); err != nil || n != 0 {
			t.Fatalf("%s claim while paused: %d claimed, %v", ch.kind, n, err)
		}
	}
	// The person texts STOP while paused: the held text is cancelled.
	if err := e.Store.Suppress(ctx, clk.Now(), []store.Suppression{{Channel: "sms", Address: "+447700900611", Reason: "STOP", Source: "sms"}}); err != nil {
		t.Fatal(err)
	}
	if s := statuses(); s["held"] != 2 || s["cancelled"] != 1 {
		t.Fatalf("after STOP while paused: %v, want the text cancelled and 2 emails held", s)
	}
	clk.Advance(48 * time.Hour)
	if ok, err := e.Resume(ctx, id); !ok || err != nil {
		t.Fatalf("resume: %v %v", ok, err)
	}
	if s := statuses(); s["queued"] != 2 || s["held"] != 0 {
		t.Fatalf("resumed: %v, want the 2 emails queued again", s)
	}
	if n, err := e.NewDispatcher(email, 1, "held").DispatchOnce(ctx); err != nil || n != 2 || email.total() != 2 {
		t.Fatalf("after resume: %d claimed, %d sent, %v; want both emails", n, email.total(), err)
	}
}
