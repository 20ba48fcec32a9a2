package web

import (
	"html"
	"strings"
	"testing"
	"time"
)

// Someone who answered the readiness check-in and answers it again after
// it closed is thanked and told their first answer stands, by text, on the
// page after the button and on the check-in page itself. None of them
// promises another check-in: a "ready" answer means this question is not
// asked again, and the program may have no check-ins left.
func TestClosedCheckinAnsweredAgainPromisesNoOtherCheckin(t *testing.T) {
	f := newFixture(t)
	const phone = "+447700900213"
	_, enr := f.enroll("closed-again@example.org", phone)
	f.planUntil(utc("2026-06-05T18:30:00Z")) // the readiness check-in is open
	if out := twimlMessage(t, f.sms(phone, "ready")); !strings.Contains(out, "Thanks") {
		t.Fatalf("first answer: %q", out)
	}
	var tok string
	if err := f.e.Store.DB.Get(&tok, `SELECT token FROM checkins WHERE enrollment_id = $1 AND step_key = 'ready' AND answer = 'ready'`, enr); err != nil {
		t.Fatal(err)
	}
	// Its window has passed (and no other check-in has opened since).
	f.e.Store.DB.MustExec(`UPDATE checkins SET closes_at = $1 WHERE token = $2`, f.clk.Now().Add(-time.Minute), tok)

	promises := []string{"ask again", "later check-in", "later one", "soon"}
	noPromise := func(what, text string) {
		t.Helper()
		for _, p := range promises {
			if strings.Contains(text, p) {
				t.Errorf("%s promises another check-in (%q):\n%s", what, p, text)
			}
		}
	}
	out := twimlMessage(t, f.sms(phone, "not yet"))
	if !strings.Contains(out, "Thanks") || !strings.Contains(out, "kept the answer you gave") {
		t.Errorf("text after the close: %q, want thanks and that the first answer stands", out)
	}
	noPromise("the text reply", out)

	code, page := f.do("POST", "/checkin/"+tok, "application/x-www-form-urlencoded", "a=not-ready")
	page = html.UnescapeString(mainOf(page))
	if code != 409 || !strings.Contains(page, "Thanks for coming back to it") || !strings.Contains(page, "kept the answer you gave") {
		t.Errorf("link answer after the close: %d\n%s", code, page)
	}
	noPromise("the page after the button", page)

	_, page = f.do("GET", "/checkin/"+tok, "", "")
	page = html.UnescapeString(mainOf(page))
	if !strings.Contains(page, "This check-in has closed. Thank you for answering it.") {
		t.Errorf("check-in page after the close:\n%s", page)
	}
	noPromise("the check-in page", page)
	if n := f.count(`SELECT count(*) FROM checkins WHERE token = $1 AND answer = 'ready'`, tok); n != 1 {
		t.Error("the answer after the close replaced the first")
	}
}
