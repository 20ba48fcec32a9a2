package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/rekindle/rekindle/clock"
)

// A cluster job (here: resuming pauses that ran out) runs on one instance
// at a time: while another instance holds its advisory lock, this one
// skips it and the pause stays as it is; once the lock is free, it runs,
// and lets the lock go when done.
func TestClusterJobSkippedWhileAnotherInstanceHoldsItsLock(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z"))
	e := newEngine(t, clk)
	id := mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "cluster@example.org", Timezone: "UTC"})
	until := clk.Now().Add(time.Hour)
	if ok, err := e.Pause(ctx, id, &until); !ok || err != nil {
		t.Fatalf("pause: %v %v", ok, err)
	}
	clk.Advance(2 * time.Hour) // the pause has run out

	svc := e.NewService(time.Hour)
	var resume *job
	for i := range svc.jobs {
		if svc.jobs[i].name == "resume expired pauses" {
			resume = &svc.jobs[i]
		}
	}
	if resume == nil || !resume.cluster {
		t.Fatalf("no cluster job to resume expired pauses: %+v", resume)
	}
	status := func() string {
		t.Helper()
		var s string
		dbGet(t, e.Store.DB, &s, `SELECT status FROM enrollments WHERE id = $1`, id)
		return s
	}

	other, err := e.Store.DB.Connx(ctx) // another instance's session
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if _, err := other.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockID(resume.name)); err != nil {
		t.Fatal(err)
	}
	svc.runJob(ctx, *resume)
	if s := status(); s != "paused" {
		t.Fatalf("while another instance held the job's lock, the job ran here: the enrollment is %s, want still paused", s)
	}

	if _, err := other.ExecContext(ctx, `SELECT pg_advisory_unlock($1)`, lockID(resume.name)); err != nil {
		t.Fatal(err)
	}
	svc.runJob(ctx, *resume)
	if s := status(); s != "active" {
		t.Fatalf("with the lock free the job did not run: the enrollment is %s, want active", s)
	}
	// Having run, this instance lets the lock go for the next run anywhere.
	var free bool
	if err := other.QueryRowxContext(ctx, `SELECT pg_try_advisory_lock($1)`, lockID(resume.name)).Scan(&free); err != nil {
		t.Fatal(err)
	}
	if !free {
		t.Fatal("after the job ran here, another instance cannot take its lock")
	}
}
