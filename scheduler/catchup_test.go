package scheduler

import (
	"testing"
	"time"

	"github.com/rekindle/rekindle/clock"
)

// catchUp enrolls someone in the basic program at start (their day 0),
// plans day 0, brings the planner back at back, and returns the steps it
// planned then, the calendar's shift and when the next step is due.
func catchUp(t *testing.T, tz string, start, day0, back time.Time) (planned []string, shift int, next time.Time) {
	t.Helper()
	clk := clock.NewManual(start)
	e := newEngine(t, clk)
	id := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "catchup@example.org", Timezone: tz})
	clk.Set(day0)
	planNow(t, e)
	before := len(deliveries(t, e, id))
	clk.Set(back)
	planNow(t, e)
	for _, r := range deliveries(t, e, id)[before:] {
		planned = append(planned, r.Step)
	}
	if err := e.Store.DB.QueryRow(`SELECT shift_days, next_due_at FROM enrollments WHERE id = $1`, id).Scan(&shift, &next); err != nil {
		t.Fatal(err)
	}
	return planned, shift, next
}

// One day down is enough to shift the calendar: l2 (day 2, 3 June 09:00
// BST) found the next morning goes now, and l3 moves a day with it, instead
// of l2 and l3 arriving together.
func TestCatchUpAfterOneDayShiftsOneDay(t *testing.T) {
	planned, shift, next := catchUp(t, "Europe/London",
		utc("2026-06-01T05:00:00Z"), // Monday 1 June, 06:00 BST
		utc("2026-06-01T08:30:00Z"), // the welcome and l1
		utc("2026-06-04T09:00:00Z")) // Thursday 10:00 BST: l2 a day late
	if len(planned) != 1 || planned[0] != "l2" {
		t.Fatalf("a day late, planned %v; want only l2", planned)
	}
	if shift != 1 {
		t.Fatalf("calendar shifted %d days, want 1", shift)
	}
	if want := utc("2026-06-05T08:00:00Z"); !next.Equal(want) { // l3: day 3 + 1, 09:00 BST
		t.Fatalf("next step due %s, want l3 at %s", next.UTC(), want)
	}
}

// The days missed are counted on the person's own calendar: for someone in
// Tokyo the planner back at 22:00 UTC on 4 June is back on Friday 5 June
// (07:00), two days after l2's 3 June, though only one UTC date has passed.
// The calendar shifts two days, so l2 lands today at its own time, 09:00 in
// Tokyo, and nothing goes out at 07:00. Counted in UTC dates it would shift
// one day and send l2 at once.
func TestCatchUpCountsTheSubscribersLocalDays(t *testing.T) {
	planned, shift, next := catchUp(t, "Asia/Tokyo",
		utc("2026-05-31T21:00:00Z"), // Monday 1 June, 06:00 in Tokyo
		utc("2026-06-01T00:30:00Z"), // 09:30: the welcome and l1
		utc("2026-06-04T22:00:00Z")) // Friday 5 June, 07:00 in Tokyo
	if len(planned) != 0 {
		t.Fatalf("back at 07:00 on 5 June in Tokyo, planned %v at once; want l2 left for 09:00", planned)
	}
	if shift != 2 {
		t.Fatalf("calendar shifted %d days, want 2 (3 June to 5 June in Tokyo)", shift)
	}
	if want := utc("2026-06-05T00:00:00Z"); !next.Equal(want) { // l2: day 2 + 2, 09:00 in Tokyo
		t.Fatalf("next step due %s, want l2 at %s (5 June 09:00 in Tokyo)", next.UTC(), want)
	}
}
