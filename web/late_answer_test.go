package web

import (
	"strings"
	"testing"
)

// A first answer that arrives after its check-in closed is kept but changes
// nothing, and the reply says so: thanking someone as if the answer steered
// the program would promise what it no longer does.
func TestLateFirstAnswerIsThankedAndToldItChangesNothing(t *testing.T) {
	f := newFixture(t)
	_, bySMS := f.enroll("late-sms@example.org", "+447700900231")
	_, byLink := f.enroll("late-link@example.org", "+447700900232")
	f.planUntil(utc("2026-06-07T18:30:00Z")) // the first mood check-in is open for both
	var tok string
	if err := f.e.Store.DB.Get(&tok, `SELECT token FROM checkins WHERE enrollment_id = $1 AND step_key = 'mood'`, byLink); err != nil {
		t.Fatal(err)
	}
	f.planUntil(utc("2026-06-11T09:00:00Z")) // its 72-hour window has passed; the next one is Sunday

	out := f.sms("+447700900231", "2")
	if !strings.Contains(out, "Thanks for letting us know") || !strings.Contains(out, "already closed") {
		t.Fatalf("late answer by text: %s; want thanks and that the check-in had closed", out)
	}
	if n := f.count(`SELECT count(*) FROM checkins WHERE enrollment_id = $1 AND answer = '2' AND source = 'sms'`, bySMS); n != 1 {
		t.Fatalf("late text answer rows: %d, want it kept", n)
	}

	code, page := f.do("POST", "/checkin/"+tok, "application/x-www-form-urlencoded", "a=2")
	if code != 200 || !strings.Contains(page, "We&#39;ve noted your answer") || !strings.Contains(page, "won&#39;t change your program") {
		t.Fatalf("late answer by link: %d %s; want it noted, and told it won't change the program", code, page)
	}
	// The first late answer stands; a second one is turned away as before.
	code, page = f.do("POST", "/checkin/"+tok, "application/x-www-form-urlencoded", "a=4")
	if code != 409 || !strings.Contains(page, "This check-in has closed") {
		t.Fatalf("second late answer by link: %d %s; want 409, closed", code, page)
	}
}
