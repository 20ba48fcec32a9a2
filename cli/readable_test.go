package cli

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/testdb"
)

// A preview shows the step as it is sent: lesson-07 goes out on day 14, in
// week 3 of the healing phase.
func TestPreviewRendersTheStepsOwnDay(t *testing.T) {
	for step, want := range map[string]string{
		"lesson-07": "Rekindle - Healing - Week 3",
		"lesson-12": "Rekindle - Self-improvement - Week 4",
	} {
		code, out, errs := run(t, nil, "programs", "preview", "rekindle", step)
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("preview %s: exit %d, want %q:\n%.400s%s", step, code, want, out, errs)
		}
	}
}

func TestBacklogAgeReads(t *testing.T) {
	for _, c := range []struct {
		n    int64
		secs float64
		want string
	}{
		{0, 0, "-"}, {1, 0.4, "0s"}, {1, 45, "45s"}, {1, 750, "12m30s"}, {1, 5*3600 + 7*60 + 9, "5h07m"},
		{1, 47 * 3600, "47h00m"}, {2, 218596605, "2530d01h"},
	} {
		if got := age(c.n, c.secs); got != c.want {
			t.Errorf("age(%d, %v) = %q, want %q", c.n, c.secs, got, c.want)
		}
	}
}

// status prints the backlog's age for a person to read; subscribers show
// after an erasure says how many opt-outs were kept, not "none".
func TestStatusAgeAndErasedShow(t *testing.T) {
	env := map[string]string{"DATABASE_URL": testdb.New(t)}
	started := time.Now().AddDate(0, -1, 0).Format("2006-01-02") // a month late: enroll --start takes a day within a year
	for _, args := range [][]string{
		{"migrate"},
		{"enroll", "--program", "rekindle", "--email", "late@example.org", "--tz", "UTC", "--start", started},
		{"unsubscribe", "--email", "late@example.org"},
	} {
		if code, out, errs := run(t, env, args...); code != 0 {
			t.Fatalf("%s: exit %d: %s%s", args[0], code, out, errs)
		}
	}
	if code, out, errs := run(t, env, "enroll", "--program", "rekindle", "--email", "due@example.org", "--tz", "UTC", "--start", started); code != 0 {
		t.Fatalf("enroll: %s%s", out, errs)
	}
	code, out, errs := run(t, env, "status")
	if code != 0 || !regexp.MustCompile(`due now: 1 enrollments \(oldest \d+d\d\dh\), 0 deliveries \(oldest -\)`).MatchString(out) {
		t.Errorf("status: exit %d:\n%s%s", code, out, errs)
	}
	if code, out, errs := run(t, env, "subscribers", "erase", "--email", "late@example.org", "--yes"); code != 0 {
		t.Fatalf("erase: exit %d: %s%s", code, out, errs)
	}
	code, out, errs = run(t, env, "subscribers", "show", "--id", "1")
	if code != 0 || !strings.Contains(out, "kept 1 opt-out (email) as a hash") || strings.Contains(out, "suppressions:\n  none") {
		t.Errorf("show after erase: exit %d:\n%s%s", code, out, errs)
	}
}
