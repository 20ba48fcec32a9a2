package cli

import (
	"context"
	"testing"
	"time"

	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/metrics"
)

// The enrollment gauge is read from the database at most once a minute,
// whatever the scrape interval: counting reads every enrollment there ever
// was. A scrape in that minute shows the last count; the next one after it
// shows the people who joined since.
func TestEnrollmentGaugeIsCountedOnceAMinute(t *testing.T) {
	clk := clock.NewManual(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	h := wireHarness(t, map[string]string{"DATABASE_URL": testdb.New(t)}, clk)
	ctx := context.Background()
	h.enroll("Sam", "sam@example.org", "", "UTC")
	active := func() int64 {
		t.Helper()
		s, err := h.a.snapshot(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return sumStatus(s, "active")
	}
	if n := active(); n != 1 {
		t.Fatalf("first scrape: %d active, want 1", n)
	}
	h.enroll("Alex", "alex@example.org", "", "UTC")
	clk.Advance(59 * time.Second)
	if n := active(); n != 1 {
		t.Fatalf("a scrape 59 s later: %d active, want the minute-old count, 1", n)
	}
	clk.Advance(time.Second)
	if n := active(); n != 2 {
		t.Fatalf("a scrape a minute later: %d active, want 2", n)
	}
}

func sumStatus(s metrics.Snapshot, status string) int64 {
	var n int64
	for _, e := range s.Enrollments {
		if e.Status == status {
			n += e.N
		}
	}
	return n
}
