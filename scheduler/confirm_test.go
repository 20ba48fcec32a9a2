package scheduler

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/clock"
)

// A sign-up's confirmation goes out once; asked again within
// ConfirmResendGap (the person pressed the button twice) nothing more goes
// out; asked later (it never came, or its link lapsed) a new round does.
// A returning person whose email was confirmed for an earlier run is asked
// to confirm the new one too.
func TestConfirmationRounds(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(utc("2026-06-10T09:00:00Z"))
	e := engineWithQuietProgram(t, clk, nil)
	steps := func(id int64) []string {
		t.Helper()
		var out []string
		for _, d := range deliveries(t, e, id) {
			out = append(out, d.Step+"/"+d.Channel)
		}
		return out
	}
	plan := func(id int64) {
		t.Helper()
		if err := e.PlanConfirmations(ctx, id, "https://rekindle.test/confirm/x"); err != nil {
			t.Fatal(err)
		}
	}

	id := mustEnroll(t, e, EnrollRequest{Program: "rekindle", FirstName: "Ana", Email: "ana@example.org",
		Timezone: "Europe/Lisbon", Pending: true, Source: "web"})
	plan(id)
	plan(id)
	if got, want := steps(id), []string{"confirm-email/email"}; !slices.Equal(got, want) {
		t.Fatalf("asked twice at once: %v, want %v", got, want)
	}
	clk.Advance(ConfirmResendGap + time.Minute)
	plan(id)
	if got, want := steps(id), []string{"confirm-email/email", "confirm-email#2/email"}; !slices.Equal(got, want) {
		t.Fatalf("asked again later: %v, want %v", got, want)
	}

	// A returning person: Ben's email was confirmed by the operator's
	// enrollment, which ended; his new sign-up waits for his answer.
	old := mustEnroll(t, e, EnrollRequest{Program: "rekindle", FirstName: "Ben", Email: "ben@example.org", Timezone: "Europe/Lisbon"})
	if _, err := e.Unenroll(ctx, old, "left"); err != nil {
		t.Fatal(err)
	}
	again := mustEnroll(t, e, EnrollRequest{Program: "rekindle", FirstName: "Ben", Email: "ben@example.org",
		Timezone: "Europe/Lisbon", Pending: true, Source: "web"})
	plan(again)
	if got, want := steps(again), []string{"confirm-email/email"}; !slices.Equal(got, want) {
		t.Fatalf("returning person's new sign-up: %v, want %v", got, want)
	}
	// An enrollment that is no longer pending is not asked.
	plan(old)
	if got := steps(old); slices.ContainsFunc(got, func(s string) bool { return strings.HasPrefix(s, "confirm-") }) {
		t.Fatalf("an ended enrollment was asked to confirm: %v", got)
	}
}
