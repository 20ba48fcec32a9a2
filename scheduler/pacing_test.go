package scheduler

import (
	"testing"

	"github.com/rekindle/rekindle/clock"
)

// Catch-up keeps its pace: a lesson that goes out late (the planner was
// down at its time, but it is still the same local day, so the calendar
// does not shift) holds the next lesson back by the program's pacing
// interval (20 h in the basic program), so the two do not arrive hours
// apart. The next lesson goes 20 h after the late one, not at its own
// calendar slot.
func TestLateLessonHoldsTheNextOneBackByThePacingInterval(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z")) // Monday 1 June, 06:00 in London
	e := newEngine(t, clk)
	id := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "pace@example.org", Timezone: "Europe/London"})
	clk.Set(utc("2026-06-01T08:30:00Z")) // the welcome and l1 (day 0)
	planNow(t, e)

	// l2 is due on day 2 (3 June) at 09:00 BST; the planner is back at
	// 19:00 BST the same day: 10 h late, past the 6 h grace, same local day.
	lateAt := utc("2026-06-03T18:00:00Z")
	clk.Set(lateAt)
	planNow(t, e)
	l2 := stepOn(t, e, id, "l2", "email")
	if l2 == nil {
		t.Fatal("l2 was not planned when the planner came back")
	}
	if !l2.DueAt.Equal(utc("2026-06-03T08:00:00Z")) || !l2.NotBefore.Equal(lateAt) {
		t.Fatalf("late l2: due %s, goes at %s; want due at its slot (08:00Z, no shift) and sent now (%s)",
			l2.DueAt.UTC(), l2.NotBefore.UTC(), lateAt)
	}

	// l3's own slot is day 3 (4 June) at 09:00 BST, 14 h after l2 went.
	slot := utc("2026-06-04T08:00:00Z")
	clk.Set(slot)
	planNow(t, e)
	l3 := stepOn(t, e, id, "l3", "email")
	if l3 == nil {
		t.Fatal("l3 was not planned at its time")
	}
	if !l3.DueAt.Equal(slot) {
		t.Fatalf("l3 due %s, want its calendar slot %s (the calendar did not shift)", l3.DueAt.UTC(), slot)
	}
	if want := utc("2026-06-04T14:00:00Z"); !l3.NotBefore.Equal(want) { // 18:00Z + 20 h
		t.Fatalf("l3 goes at %s, %s after l2; want the pacing interval, 20 h after l2 (%s), not its slot",
			l3.NotBefore.UTC(), l3.NotBefore.Sub(l2.NotBefore), want)
	}
}
