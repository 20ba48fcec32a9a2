package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/programs"
)

// A timeline whose schedule stops advancing (a start so late that its
// dates pass year 9999) is an error naming where it stuck, not ten
// thousand copies of one check-in. (The same occurrence twice in a row
// names where it stuck; a schedule that never ends says so.)
func TestTimelineThatDoesNotAdvanceIsAnError(t *testing.T) {
	e := engineWithQuietProgram(t, clock.NewManual(utc("2026-06-01T05:00:00Z")), nil)
	p, err := programs.Load(programs.Embedded(), "rekindle")
	if err != nil {
		t.Fatal(err)
	}
	out, err := e.Timeline(p, time.UTC, time.Date(9999, 12, 1, 0, 0, 0, 0, time.UTC), []string{"email", "sms"})
	if err == nil || !strings.Contains(err.Error(), "does not") {
		t.Fatalf("timeline from 9999-12-01: %d entries, err %v; want an error saying the schedule does not advance or end", len(out), err)
	}
	// An ordinary start still gives the whole program.
	out, err = e.Timeline(p, time.UTC, time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC), []string{"email", "sms"})
	if err != nil || len(out) < 50 || len(out) > 200 {
		t.Fatalf("timeline from 2026-06-01: %d entries, err %v", len(out), err)
	}
}
