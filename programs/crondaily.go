package programs

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// A repeating step is delivered at most once per local day: the scheduler
// keys each occurrence by its date ("step@2006-01-02"), so a second
// occurrence on the same day would be silently dropped. firesTwiceADay finds
// a schedule that can do that.
//
// The scheduler evaluates a cron against civil (wall-clock) times carried in
// UTC, never in the person's zone, so the check below reads it in UTC too.
// Reading it in a DST zone would be wrong: robfig/cron fires "30 1 * * *"
// twice on a fall-back day there, which the scheduler never asks it to do.

// cronFrom is where the checks start reading a schedule.
var cronFrom = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// firesTwiceADay returns how sched fires more than once on one day ("at
// 09:00 and 19:00", "every 6h"), or "" when it never does.
func firesTwiceADay(sched cron.Schedule) string {
	if s, ok := sched.(cron.ConstantDelaySchedule); ok {
		// "@every": measured from when the window opens or the last send,
		// so any delay under a day puts two sends on one day sooner or
		// later (decided here: "@every 23h59m" takes years to show it).
		if s.Delay < 24*time.Hour {
			return "every " + shortDuration(s.Delay)
		}
		return ""
	}
	// A five-field spec without a zone (validation refuses one): in UTC,
	// every day it matches has the same times, so the first day it fires
	// on tells all.
	first := sched.Next(cronFrom.Add(-time.Minute))
	if first.IsZero() {
		return ""
	}
	if next := sched.Next(first); !next.IsZero() && sameDate(first, next) {
		return fmt.Sprintf("at %s and %s", first.Format("15:04"), next.Format("15:04"))
	}
	return ""
}

func sameDate(a, b time.Time) bool {
	ay, am, ad := a.Date()
	by, bm, bd := b.Date()
	return ay == by && am == bm && ad == bd
}

// shortDuration writes 6h for 6h0m0s and 1h30m for 1h30m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
