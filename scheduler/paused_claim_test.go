package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
)

// A message in flight when its person paused is not held (the pause holds
// only what is queued): if its worker dies, the rescue puts it back in the
// queue under a paused enrollment. The dispatcher's claim leaves it there
// until the person resumes, and sends it then.
func TestMessageInFlightWhenPausedWaitsForTheResume(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z"))
	e := newEngine(t, clk)
	id := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "midflight@example.org", Timezone: "Europe/London"})
	clk.Set(utc("2026-06-01T08:00:00Z")) // 09:00 in London: the welcome and l1
	planNow(t, e)
	claimed, err := e.Store.ClaimDeliveries(ctx, clk.Now(), "email", 10, e.Cfg.Lease, "doomed")
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim: %d %v; want the welcome and l1", len(claimed), err)
	}
	if ok, err := e.Pause(ctx, id, nil); !ok || err != nil {
		t.Fatalf("pause: %v %v", ok, err)
	}
	clk.Advance(e.Cfg.Lease + time.Second) // the doomed worker never acks
	if ids, err := e.RescueOnce(ctx); err != nil || len(ids) != 2 {
		t.Fatalf("rescue: %v %v; want both back in the queue", ids, err)
	}

	ch := newCounting(channel.Email)
	d := e.NewDispatcher(ch, 1, "alive")
	if n, err := d.DispatchOnce(ctx); err != nil || n != 0 || ch.total() != 0 {
		t.Fatalf("while paused: %d claimed, %d sent (%v); want nothing sent", n, ch.total(), err)
	}
	if ok, err := e.Resume(ctx, id); !ok || err != nil {
		t.Fatalf("resume: %v %v", ok, err)
	}
	if n, err := d.DispatchOnce(ctx); err != nil || n != 2 || ch.total() != 2 {
		t.Fatalf("after resume: %d claimed, %d sent (%v); want both sent", n, ch.total(), err)
	}
}
