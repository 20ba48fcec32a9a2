package scheduler

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
)

// An idle planner wakes when the next step falls due, not at its next tick:
// with an hour-long tick, a welcome due two seconds after start-up is sent
// within moments of 08:00.
func TestIdlePlannerWakesWhenTheNextStepIsDue(t *testing.T) {
	clk := clock.NewScaled(utc("2026-06-01T07:59:58Z"), 1) // real time, from a chosen instant
	e := newEngine(t, clk)
	mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "soon@example.org", Timezone: "UTC"})
	ch := newCounting(channel.Email)
	svc := e.NewService(time.Hour, e.NewDispatcher(ch, 1, "w"))
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer svc.Stop(5 * time.Second)
	deadline := time.Now().Add(15 * time.Second)
	for ch.total() == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("nothing sent 15 s after the welcome fell due at 08:00 (the planner waited for its hour-long tick)")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if at := clk.Now(); at.Before(utc("2026-06-01T08:00:00Z")) {
		t.Fatalf("sent at %s, before the welcome was due", at)
	}
}

// untilNextDue keeps the tick when nothing is due sooner, and looks again
// soon, without spinning, when a step is already due but was not planned.
func TestUntilNextDue(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T07:59:00Z"))
	e := newEngine(t, clk)
	svc := e.NewService(time.Hour)
	if w := svc.untilNextDue(context.Background()); w < 48*time.Minute {
		t.Fatalf("no one enrolled: waits %s, want about the hour tick", w)
	}
	mustEnroll(t, e, EnrollRequest{Program: "basic", Email: "soon@example.org", Timezone: "UTC"})
	if w := svc.untilNextDue(context.Background()); w < time.Minute || w > time.Minute+time.Second {
		t.Fatalf("welcome due in a minute: waits %s", w)
	}
	clk.Advance(2 * time.Minute)
	if w := svc.untilNextDue(context.Background()); w != dueAgain {
		t.Fatalf("a step already due but not planned: waits %s, want %s (soon, not a busy loop)", w, dueAgain)
	}
}

// A service whose Start failed (a job's schedule does not parse) runs
// nothing; Alive used to report it alive all the same (started, not
// stopped, no loop stuck), so a watchdog fed by it would never restart a
// daemon whose engine never ran. It reports it not started.
func TestAliveAfterFailedStart(t *testing.T) {
	e := newEngine(t, clock.NewManual(utc("2026-06-01T08:00:00Z")))
	svc := e.NewService(time.Hour)
	svc.AddJob("every now and then", "broken", false, func(context.Context) error { return nil })
	if err := svc.Start(context.Background()); err == nil {
		t.Fatal("Start took a schedule that does not parse")
	}
	if err := svc.Alive(context.Background()); err == nil {
		t.Fatal("Alive reports a service whose Start failed as alive")
	}
	if !svc.Stop(time.Second) {
		t.Fatal("Stop after a failed Start did not return at once")
	}
}

// A statement cut off by the shutdown fails with the driver's own error
// (lib/pq: "canceling statement due to user request", SQLSTATE 57014), not
// context.Canceled: every stop used to log it as a planner or dispatcher
// failure. A loop whose context has ended logs no failure and returns.
func TestLoopQuietAtShutdown(t *testing.T) {
	var logged bytes.Buffer
	e := &Engine{Log: slog.New(slog.NewTextHandler(&logged, nil))}
	s := &Service{e: e, tick: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.loop(ctx, "planner", &beat{name: "planner"}, nil, s.jittered, func(context.Context) (bool, error) {
			cancel() // the shutdown begins while the statement runs
			return false, errors.New("pq: canceling statement due to user request")
		})
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not return after its context ended")
	}
	if strings.Contains(logged.String(), "level=ERROR") {
		t.Errorf("a statement cut off by the shutdown was logged as a failure:\n%s", logged.String())
	}
}

// A periodic job the shutdown cut off is not logged as a failed job either.
func TestJobQuietAtShutdown(t *testing.T) {
	var logged bytes.Buffer
	e := &Engine{Log: slog.New(slog.NewTextHandler(&logged, nil))}
	s := &Service{e: e, tick: time.Hour}
	ctx, cancel := context.WithCancel(context.Background())
	s.runJob(ctx, job{spec: "@every 1m", name: "purge", fn: func(context.Context) error {
		cancel()
		return errors.New("pq: canceling statement due to user request")
	}})
	if strings.Contains(logged.String(), "level=ERROR") {
		t.Errorf("a job cut off by the shutdown was logged as a failure:\n%s", logged.String())
	}
}
