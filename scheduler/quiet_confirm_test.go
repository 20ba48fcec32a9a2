package scheduler

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/programs"
)

// A program that sets its own SMS quiet hours keeps them for its
// confirmation texts too, after they were planned: when one waited (no
// dispatcher ran) or was retried into the program's evening. The program
// here is quiet from 20:00 to 09:30; the deployment's default, from 21:00 to
// 08:00, would let both go out at 20:00 in Berlin.
func TestConfirmationSMSKeepsItsProgramsQuietHours(t *testing.T) {
	ctx := context.Background()
	start := utc("2026-06-10T17:50:00Z") // 19:50 in Berlin
	morning := utc("2026-06-11T07:30:00Z")

	for _, tc := range []struct {
		name     string
		dispatch time.Time // when the first attempt is made
		fail     bool      // the first attempt fails, to be retried
		attempts int       // counted on the row afterwards
	}{
		// 20:30: the text waited past the program's 20:00.
		{name: "waited", dispatch: utc("2026-06-10T18:30:00Z"), attempts: 0},
		// 19:59:50: its retry, 24 to 36 s later, falls after 20:00.
		{name: "retried", dispatch: utc("2026-06-10T17:59:50Z"), fail: true, attempts: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := clock.NewManual(start)
			e := engineWithQuietProgram(t, clk, &programs.Window{Start: "20:00", End: "09:30"})
			id := mustEnroll(t, e, EnrollRequest{Program: "rekindle", FirstName: "Kai", Phone: "+4915112345671",
				Timezone: "Europe/Berlin", Pending: true, Source: "web"})
			if err := e.PlanConfirmations(ctx, id, "https://rekindle.test/confirm/x"); err != nil {
				t.Fatal(err)
			}
			ch := newCounting(channel.SMS)
			ch.fail = func(channel.Message) error { // called under ch's lock
				if tc.fail && clk.Now().Equal(tc.dispatch) {
					return channel.Retryable("timeout", errors.New("provider did not answer"))
				}
				return nil
			}
			d := e.NewDispatcher(ch, 1, "quiet")
			clk.Set(tc.dispatch)
			if _, err := d.DispatchOnce(ctx); err != nil {
				t.Fatal(err)
			}
			clk.Set(utc("2026-06-10T18:01:00Z")) // 20:01, when a retry would be due
			if _, err := d.DispatchOnce(ctx); err != nil {
				t.Fatal(err)
			}
			var r struct {
				Status    string    `db:"status"`
				Attempts  int       `db:"attempts"`
				NotBefore time.Time `db:"not_before"`
			}
			if err := e.Store.DB.Get(&r, `SELECT status, attempts, not_before FROM deliveries
				WHERE enrollment_id = $1 AND step_key = $2`, id, ConfirmSMSStep); err != nil {
				t.Fatal(err)
			}
			if ch.total() != 0 || r.Status != "queued" || r.Attempts != tc.attempts || !r.NotBefore.Equal(morning) {
				t.Fatalf("in the program's quiet hours: %d sent, row %+v; want none sent and the confirmation queued for 09:30 (%s), %d attempts counted",
					ch.total(), r, morning, tc.attempts)
			}
			clk.Set(morning)
			if _, err := d.DispatchOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if ch.total() != 1 {
				t.Fatalf("at 09:30 next morning %d sent, want the confirmation", ch.total())
			}
		})
	}
}

// engineWithQuietProgram is an engine over a fresh database running the
// shipped program with its SMS quiet hours set to quiet.
func engineWithQuietProgram(t *testing.T, clk clock.Clock, quiet *programs.Window) *Engine {
	t.Helper()
	st, _ := testdb.Store(t)
	p, err := programs.Load(programs.Embedded(), "rekindle")
	if err != nil {
		t.Fatal(err)
	}
	p.QuietHours = quiet
	return engineRunning(t, st, clk, map[string]*programs.Program{"rekindle": p})
}
