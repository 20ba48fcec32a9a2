package web

import (
	"context"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/scheduler"
)

// The page behind every email's "Manage your program" link has that name,
// and says what its buttons do before they are pressed: pausing keeps the
// person's place; leaving ends the program for good (unlike a pause), and
// signing up again starts it from the beginning. For a sign-up not yet
// confirmed, leaving cancels it.
func TestManagePageSaysWhatPauseAndLeaveDo(t *testing.T) {
	f := newFixture(t)
	sub, _ := f.enroll("explain@example.org", "+447700900245")
	_, page := f.do("GET", local(f.links.Manage(sub)), "", "")
	got := visible(page)
	for _, want := range []string{
		"Manage your program: ",
		"Pausing keeps your place: nothing is sent until you come back and resume.",
		"Leaving ends Basic for good: no more lessons, check-ins or texts from it. If you want it again later, you can sign up again and start from the beginning.",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("manage page, running: want %q in:\n%s", want, got)
		}
	}

	f.sms("+447700900245", "pause")
	got = visible(pageOf(f, sub))
	if strings.Contains(got, "Pausing keeps your place") || !strings.Contains(got, "Leaving ends Basic for good") {
		t.Errorf("manage page, paused: want leaving explained and no pause to explain:\n%s", got)
	}

	pending, _, err := f.e.Enroll(context.Background(), scheduler.EnrollRequest{Program: "basic", FirstName: "Ola", Email: "waits@example.org",
		Timezone: "Europe/London", Source: "web", Pending: true})
	if err != nil {
		t.Fatal(err)
	}
	got = visible(pageOf(f, pending))
	if !strings.Contains(got, "Leaving cancels this sign-up") || strings.Contains(got, "Leaving ends") {
		t.Errorf("manage page, waiting for confirmation:\n%s", got)
	}
}

func pageOf(f *fixture, sub int64) string {
	f.t.Helper()
	_, page := f.do("GET", local(f.links.Manage(sub)), "", "")
	return page
}
