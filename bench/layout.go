package bench

import (
	"strconv"
	"strings"
	"time"
)

// layout is the synthetic population: n people enrolled in the shipped
// program, due of them due. Everyone has a confirmed email address only, so
// each due person's first step (the welcome message, day 0 at 08:00 local)
// is exactly one email. The due people are spread evenly through the
// tables (every n/due-th row, the worst case for locality), or clustered in
// the first rows (people who joined together fall due together).
type layout struct {
	n, due    int
	clustered bool
	versionID int64
	track     string
	phase     string
	// dueAt is when the k-th due person (0-based) becomes due.
	dueAt func(k int) time.Time
}

// day0 is the simulated start day. Every zone used is UTC+0 in January, so
// 08:00 local is 08:00 UTC for all of them and the step is due at once.
var (
	day0     = time.Date(2030, time.January, 7, 0, 0, 0, 0, time.UTC)
	stepTime = day0.Add(8 * time.Hour)
	zones    = []string{"UTC", "Europe/London", "Africa/Abidjan", "Atlantic/Reykjavik"}
	names    = []string{"Sam", "Alex", "Noor", "Jamie", "Priya", "Tomás", "Mei", "Kofi"}
)

// dueRank says whether person i (1-based) is due and, if so, their rank
// among the due (0-based): exactly due of n people, evenly spread.
func (l *layout) dueRank(i int) (int, bool) {
	if l.clustered {
		return i - 1, i <= l.due
	}
	j := int64(i - 1)
	if (j*int64(l.due))%int64(l.n) >= int64(l.due) {
		return 0, false
	}
	return int(j * int64(l.due) / int64(l.n)), true
}

func address(i int) string { return "b" + strconv.Itoa(i) + "@bench.invalid" }

// personOf reads the person's number back from an address.
func personOf(addr string) (int, bool) {
	s, ok := strings.CutPrefix(addr, "b")
	if !ok {
		return 0, false
	}
	s, _, ok = strings.Cut(s, "@")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(s)
	return i, err == nil
}

func (l *layout) subscriber(i int) []any {
	return []any{int64(i), names[i%len(names)], address(i), zones[i%len(zones)], "confirmed", "none", day0, day0}
}

// enrollment starts the due on day0 (the welcome is due now) and everyone
// else on the next day, with next_due_at the welcome's real due time.
func (l *layout) enrollment(i int) []any {
	start, next := day0, stepTime
	if k, ok := l.dueRank(i); ok {
		next = l.dueAt(k)
	} else {
		start, next = day0.AddDate(0, 0, 1), stepTime.AddDate(0, 0, 1)
	}
	return []any{int64(i), int64(i), l.versionID, "rekindle", "active", zones[i%len(zones)], start.Format(time.DateOnly),
		l.track, l.phase, next, day0, day0}
}
