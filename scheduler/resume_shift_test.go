package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/rekindle/rekindle/clock"
)

// Resume moves what was held for the person by the whole local days they
// were away, and keeps its local wall-clock time: a New York lesson held
// for Friday 30 October 2026 at 09:00 EDT, paused that morning and resumed
// on Monday 2 November (after the clocks went back), goes out Monday at
// 09:00 EST, three days later, and not at 08:00 EST as adding 72 hours
// would give.
func TestResumeShiftsHeldMessagesByLocalDays(t *testing.T) {
	ctx := context.Background()
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	clk := clock.NewManual(utc("2026-10-30T09:00:00Z")) // Friday, 05:00 EDT
	e := newEngine(t, clk)
	id := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "ny@example.org", Timezone: "America/New_York"})
	clk.Set(utc("2026-10-30T13:00:00Z")) // 09:00 EDT: l1 (day 0, 09:00) is planned, not yet sent
	planNow(t, e)
	l1 := stepOn(t, e, id, "l1", "email")
	if l1 == nil || !l1.NotBefore.Equal(utc("2026-10-30T13:00:00Z")) {
		t.Fatalf("before the pause l1 is %+v, want it queued for 09:00 EDT (13:00Z)", l1)
	}
	if ok, err := e.Pause(ctx, id, nil); !ok || err != nil {
		t.Fatalf("pause: %v %v", ok, err)
	}

	clk.Set(utc("2026-11-02T12:00:00Z")) // Monday, 07:00 EST: three local days on
	if ok, err := e.Resume(ctx, id); !ok || err != nil {
		t.Fatalf("resume: %v %v", ok, err)
	}
	l1 = stepOn(t, e, id, "l1", "email")
	if l1 == nil || l1.Status != "queued" {
		t.Fatalf("after resume l1 is %+v, want it queued", l1)
	}
	got := l1.NotBefore.In(ny)
	if want := time.Date(2026, 11, 2, 9, 0, 0, 0, ny); !got.Equal(want) {
		t.Fatalf("after resume l1 goes at %s, want %s (its 09:00 on the day three days later)",
			got.Format("Mon 2 Jan 15:04 MST"), want.Format("Mon 2 Jan 15:04 MST"))
	}
}
