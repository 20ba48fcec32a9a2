package web

import (
	"strings"
	"testing"
)

// Changing a check-in answer inside its window stores the new answer but
// does not steer the program again (scheduler.RecordAnswer: the first
// answer branches). The text reply and the email page say exactly that:
// the new answer is noted, and what the first one changed stays. Neither
// says "updated", which read as if the program would now follow it.
func TestChangedAnswerSaysWhatItChanges(t *testing.T) {
	f := newFixture(t)
	const phone = "+447700900232"
	_, enr := f.enroll("change@example.org", phone)
	f.planUntil(utc("2026-06-05T18:30:00Z")) // the readiness check-in is open
	if out := twimlMessage(t, f.sms(phone, "3")); !strings.HasPrefix(out, "Thanks for letting us know") {
		t.Fatalf("first answer: %q", out)
	}
	const want = "Any change your first answer made to your program stays as it is."
	out := twimlMessage(t, f.sms(phone, "1"))
	if !strings.Contains(out, "noted your new answer") || !strings.Contains(out, want) || strings.Contains(out, "updated") {
		t.Errorf("changed answer by text: %q, want it noted and %q", out, want)
	}
	if n := f.count(`SELECT count(*) FROM checkins WHERE enrollment_id = $1 AND step_key = 'ready' AND answer = 'ready'`, enr); n != 1 {
		t.Error("the new answer was not stored")
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND track = 'other'`, enr); n != 1 {
		t.Error("the first answer's switch did not stay, as the reply says it does")
	}

	// The email page, before and after choosing again.
	var tok string
	if err := f.e.Store.DB.Get(&tok, `SELECT token FROM checkins WHERE enrollment_id = $1 AND step_key = 'ready'`, enr); err != nil {
		t.Fatal(err)
	}
	code, page := f.do("GET", "/checkin/"+tok+"?a=not-ready", "", "")
	if code != 200 || !strings.Contains(page, "You can change your answer below; we'll note the new one, but any change your first answer made to your program stays as it is.") {
		t.Errorf("check-in page after an answer: %d, want it to say what a change does:\n%s", code, page)
	}
	code, page = f.do("POST", "/checkin/"+tok, "application/x-www-form-urlencoded", "a=not-ready")
	if code != 200 || !strings.Contains(page, "We&#39;ve noted your new answer") || !strings.Contains(page, strings.ReplaceAll(want, "'", "&#39;")) || strings.Contains(page, "updated") {
		t.Errorf("changed answer by the email page: %d, want it noted and %q:\n%s", code, want, page)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND track = 'other'`, enr); n != 1 {
		t.Error("a changed answer steered the program")
	}
}
