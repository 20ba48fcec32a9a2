package scheduler

import (
	"fmt"
	"time"

	"github.com/rekindle/rekindle/programs"
)

// Civil times (a date and a wall-clock time with no zone) are carried as
// time.Time values in UTC. Arithmetic on them never meets a DST transition;
// Resolve turns one into a real instant in a subscriber's zone.

// civilDate returns midnight of t's date as a civil time.
func civilDate(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// LocalDate is the civil date of instant t in loc.
func LocalDate(t time.Time, loc *time.Location) time.Time { return civilDate(t.In(loc)) }

// daysBetween counts whole days from civil date a to civil date b.
func daysBetween(a, b time.Time) int {
	return int(civilDate(b).Sub(civilDate(a)).Hours() / 24)
}

// Resolve turns a civil time into the instant it names in loc. A wall time
// that does not exist (a spring-forward gap) resolves to the first instant
// after the gap; one that exists twice (a fall-back overlap) resolves to the
// first occurrence. Either way: exactly one real instant.
func Resolve(civil time.Time, loc *time.Location) time.Time {
	y, mo, d := civil.Date()
	h, mi := civil.Hour(), civil.Minute()
	t := time.Date(y, mo, d, h, mi, 0, 0, loc)
	want := time.Date(y, mo, d, h, mi, 0, 0, time.UTC)
	got := func(x time.Time) time.Time {
		gy, gm, gd := x.Date()
		return time.Date(gy, gm, gd, x.Hour(), x.Minute(), 0, 0, time.UTC)
	}
	if g := got(t); !g.Equal(want) {
		// In a gap: the transition instant is the first valid one after it.
		start, end := t.ZoneBounds()
		if g.After(want) {
			return start
		}
		return end
	}
	// In an overlap Go may pick either occurrence; step back to the first.
	// Only a clock change in the last three hours can make one: most times
	// are far from any, and checking that is cheaper than stepping back.
	if start, _ := t.ZoneBounds(); start.IsZero() || t.Sub(start) >= 3*time.Hour {
		return t
	}
	for _, back := range []time.Duration{3 * time.Hour, 2 * time.Hour, time.Hour, 30 * time.Minute} {
		if e := t.Add(-back); got(e).Equal(want) {
			return e
		}
	}
	return t
}

// shiftLocalDays moves instant t by days calendar days in loc, keeping its
// local wall-clock time, and resolves the new wall time as Resolve does: in
// a spring-forward gap, the first instant after it; in a fall-back overlap,
// the first occurrence. Seconds within the minute are kept, except by a
// time moved into a gap, which goes at the gap's end. No days, no move.
func shiftLocalDays(t time.Time, days int, loc *time.Location) time.Time {
	if days == 0 {
		return t
	}
	local := t.In(loc)
	civil := time.Date(local.Year(), local.Month(), local.Day()+days, local.Hour(), local.Minute(), 0, 0, time.UTC)
	r := Resolve(civil, loc)
	rest := time.Duration(local.Second())*time.Second + time.Duration(local.Nanosecond())
	if w := r.In(loc); rest > 0 && w.Hour() == civil.Hour() && w.Minute() == civil.Minute() {
		r = r.Add(rest)
	}
	return r
}

// Quiet is a daily local-time window [Start, End) in minutes after midnight,
// wrapping past midnight when Start > End. The zero value (Start == End) is
// "no quiet hours".
type Quiet struct {
	Start, End int
}

// ParseQuiet reads "21:00-08:00"; "" means no quiet hours.
func ParseQuiet(s string) (Quiet, error) {
	if s == "" {
		return Quiet{}, nil
	}
	a, b, ok := cut(s, '-')
	if !ok {
		return Quiet{}, fmt.Errorf("%q: want HH:MM-HH:MM", s)
	}
	start, err := programs.ParseClock(a)
	if err != nil {
		return Quiet{}, err
	}
	end, err := programs.ParseClock(b)
	if err != nil {
		return Quiet{}, err
	}
	return Quiet{start, end}, nil
}

func cut(s string, sep byte) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == sep {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// String writes the window as HH:MM-HH:MM.
func (q Quiet) String() string {
	if q.Start == q.End {
		return ""
	}
	return fmt.Sprintf("%02d:%02d-%02d:%02d", q.Start/60, q.Start%60, q.End/60, q.End%60)
}

// Defer returns t, or the end of the quiet window in loc if t falls inside it.
func (q Quiet) Defer(t time.Time, loc *time.Location) time.Time {
	if q.Start == q.End {
		return t
	}
	local := t.In(loc)
	m := local.Hour()*60 + local.Minute()
	day := civilDate(local)
	var inside bool
	if q.Start < q.End {
		inside = m >= q.Start && m < q.End
	} else {
		inside = m >= q.Start || m < q.End
		if m >= q.Start {
			day = day.AddDate(0, 0, 1)
		}
	}
	if !inside {
		return t
	}
	return Resolve(day.Add(time.Duration(q.End)*time.Minute), loc)
}
