package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/rekindle/rekindle/clock"
)

// An enrollment another transaction holds (another planner mid-batch, an
// operator's pause) is skipped, not waited for: the planner plans everyone
// else due and leaves that one to whoever holds it, and plans it once it is
// free.
func TestPlannerSkipsALockedEnrollment(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z"))
	e := newEngine(t, clk)
	held := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "held@example.org", Timezone: "Europe/London"})
	free := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "free@example.org", Timezone: "Europe/London"})
	clk.Set(utc("2026-06-01T07:00:00Z")) // 08:00 in London: both welcomes are due

	other, err := e.Store.DB.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()
	var otherPID int
	if err := other.QueryRowContext(ctx, `SELECT pg_backend_pid() FROM enrollments WHERE id = $1 FOR UPDATE`, held).Scan(&otherPID); err != nil {
		t.Fatal(err)
	}

	type result struct{ handled, planned int }
	done := make(chan result, 1)
	failed := make(chan error, 1)
	go func() {
		n, d, err := e.PlanOnce(ctx)
		if err != nil {
			failed <- err
			return
		}
		done <- result{n, d}
	}()
	// Either the planner returns, or it is found waiting on the other
	// transaction's lock (which is then released so that it can finish).
	var got result
	for waiting := false; !waiting; {
		select {
		case got = <-done:
			waiting = true
			continue
		case err := <-failed:
			t.Fatal(err)
		default:
		}
		var blocked bool
		if err := e.Store.DB.GetContext(ctx, &blocked, `SELECT EXISTS (SELECT 1 FROM pg_stat_activity
			WHERE $1 = ANY(pg_blocking_pids(pid)))`, otherPID); err != nil {
			t.Fatal(err)
		}
		if blocked {
			other.Rollback()
			<-done
			t.Fatal("the planner waited for the enrollment another transaction holds instead of skipping it")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if got.handled != 1 {
		t.Fatalf("the planner handled %d enrollments, want 1: the free one, not the one held elsewhere", got.handled)
	}
	if rows := deliveries(t, e, held); len(rows) != 0 {
		t.Fatalf("the held enrollment got %d deliveries while another transaction held it, want none", len(rows))
	}
	if rows := deliveries(t, e, free); len(rows) == 0 {
		t.Fatal("the free enrollment got no deliveries")
	}

	if err := other.Rollback(); err != nil {
		t.Fatal(err)
	}
	planNow(t, e)
	if rows := deliveries(t, e, held); len(rows) == 0 {
		t.Fatal("once released, the held enrollment was still not planned")
	}
}
