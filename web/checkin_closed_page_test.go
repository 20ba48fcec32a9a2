package web

import (
	"html"
	"strings"
	"testing"
)

// Someone who opens a check-in after it closed, without having answered
// it, is told before they choose that their answer will be kept but won't
// change what the program sends: not only after pressing the button.
func TestClosedUnansweredCheckinPageSaysSoAboveTheForm(t *testing.T) {
	f := newFixture(t)
	_, enr := f.enroll("closed-page@example.org", "+447700900241")
	f.planUntil(utc("2026-06-07T18:30:00Z")) // the first mood check-in opens
	var tok string
	if err := f.e.Store.DB.Get(&tok, `SELECT token FROM checkins WHERE enrollment_id = $1 AND step_key = 'mood'`, enr); err != nil {
		t.Fatal(err)
	}
	const note = "This check-in has closed. You can still send your answer and we'll keep it, but it won't change what your program sends you now."
	page := func(what string) string {
		t.Helper()
		code, p := f.do("GET", "/checkin/"+tok+"?a=2", "", "")
		if code != 200 {
			t.Fatalf("%s: GET %d\n%s", what, code, mainOf(p))
		}
		return html.UnescapeString(mainOf(p))
	}

	if p := page("open"); strings.Contains(p, "has closed") || !strings.Contains(p, "Send my answer") {
		t.Fatalf("open check-in: want the form and no closed note\n%s", p)
	}

	f.planUntil(utc("2026-06-11T09:00:00Z")) // its 72-hour window has passed, unanswered
	p := page("closed, unanswered")
	at, form := strings.Index(p, note), strings.Index(p, "<form")
	if at < 0 || form < 0 || at > form || !strings.Contains(p, "Send my answer") {
		t.Fatalf("closed, unanswered check-in: want the note above the form, and the form\n%s", p)
	}

	// Answering there is kept, as the note promised; the page then shows
	// the check-in as closed and answered, with no form and no note.
	if code, out := f.do("POST", "/checkin/"+tok, "application/x-www-form-urlencoded", "a=2"); code != 200 {
		t.Fatalf("late answer: %d\n%s", code, mainOf(out))
	}
	p = page("closed, answered")
	if strings.Contains(p, note) || strings.Contains(p, "<form") || !strings.Contains(p, "This check-in has closed. Thank you for answering it") {
		t.Fatalf("closed, answered check-in: want the closed page only\n%s", p)
	}
}
