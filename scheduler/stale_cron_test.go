package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/clock"
)

// Catch-up skips a repeating prompt it missed: the weekly mood check-in
// (Sundays 19:00) whose time passed while the planner was down is not sent
// the next morning, and the program's calendar does not move for it (only
// calendar steps shift). The next Sunday's prompt comes on time.
func TestMissedWeeklyPromptIsSkippedAndTheCalendarStays(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z")) // Monday 1 June, 06:00 in London
	e := newEngine(t, clk)
	id := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "cron@example.org", Timezone: "Europe/London"})
	planUntil(t, e, clk, utc("2026-06-07T11:00:00Z"), time.Hour) // Sunday noon BST; l4 (Saturday) planned

	// Down from Sunday noon to Monday 10:00 BST: the 19:00 prompt is 15 h
	// late, past the 6 h grace.
	clk.Set(utc("2026-06-08T09:00:00Z"))
	planNow(t, e)
	for _, d := range deliveries(t, e, id) {
		if strings.HasPrefix(d.Step, "mood@2026-06-07") {
			t.Fatalf("the missed Sunday prompt was planned after the downtime: %s on %s, going at %s", d.Step, d.Channel, d.NotBefore.UTC())
		}
	}
	var en struct {
		Shift int       `db:"shift_days"`
		Next  time.Time `db:"next_due_at"`
	}
	dbGet(t, e.Store.DB, &en, `SELECT shift_days, next_due_at FROM enrollments WHERE id = $1`, id)
	if en.Shift != 0 {
		t.Fatalf("the calendar shifted %d days for a skipped weekly prompt, want 0", en.Shift)
	}
	if want := utc("2026-06-10T08:00:00Z"); !en.Next.Equal(want) { // l5: day 9, 09:00 BST
		t.Fatalf("next step due %s, want l5 on its own day (%s)", en.Next.UTC(), want)
	}

	planUntil(t, e, clk, utc("2026-06-14T18:30:00Z"), time.Hour)
	mood := stepOn(t, e, id, "mood@2026-06-14", "email")
	if mood == nil {
		t.Fatalf("the next Sunday's prompt was not planned: %v", steps(deliveries(t, e, id)))
	}
	if want := utc("2026-06-14T18:00:00Z"); !mood.DueAt.Equal(want) || !mood.NotBefore.Equal(want) {
		t.Fatalf("the next Sunday's prompt: due %s, goes at %s; want both at 19:00 BST (%s)", mood.DueAt.UTC(), mood.NotBefore.UTC(), want)
	}
	if l5 := stepOn(t, e, id, "l5", "email"); l5 == nil || !l5.DueAt.Equal(utc("2026-06-10T08:00:00Z")) {
		t.Fatalf("l5: %+v, want it due on its own day, 10 June 09:00 BST", l5)
	}
}
