package web

import (
	"html"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/smsseg"
)

// A first answer that arrives after its check-in closed is kept but changes
// nothing, and the reply says so: thanking someone as if the answer steered
// the program would promise what it no longer does. Nor does it promise a
// next message: the program may have ended, with nothing more to come.
func TestLateFirstAnswerIsThankedAndToldItChangesNothing(t *testing.T) {
	f := newFixture(t)
	_, bySMS := f.enroll("late-sms@example.org", "+447700900231")
	_, byLink := f.enroll("late-link@example.org", "+447700900232")
	_, ended := f.enroll("late-ended@example.org", "+447700900233")
	f.planUntil(utc("2026-06-07T18:30:00Z")) // the first mood check-in is open for both
	var tok string
	if err := f.e.Store.DB.Get(&tok, `SELECT token FROM checkins WHERE enrollment_id = $1 AND step_key = 'mood'`, byLink); err != nil {
		t.Fatal(err)
	}
	f.planUntil(utc("2026-06-11T09:00:00Z")) // its 72-hour window has passed; the next one is Sunday

	lateText := func(from, what string) {
		t.Helper()
		out := f.sms(from, "2")
		msg, _, _ := strings.Cut(out, "</Message>")
		_, msg, _ = strings.Cut(msg, "<Message>")
		msg = html.UnescapeString(msg)
		if !strings.Contains(msg, "Thanks for letting us know") || !strings.Contains(msg, "already closed") ||
			!strings.Contains(msg, "kept your answer") || !strings.Contains(msg, "won't change what we send you") ||
			strings.Contains(msg, "as planned") {
			t.Fatalf("late answer by text (%s): %q; want thanks, that the check-in had closed and the answer was kept but changes nothing, and no promise of what comes next", what, msg)
		}
		if seg := smsseg.Count(msg); seg.Encoding != smsseg.GSM7 || seg.Segments != 1 {
			t.Fatalf("late answer by text (%s): %q is %+v; want one GSM-7 segment", what, msg, seg)
		}
	}
	lateText("+447700900231", "program running")
	if n := f.count(`SELECT count(*) FROM checkins WHERE enrollment_id = $1 AND answer = '2' AND source = 'sms'`, bySMS); n != 1 {
		t.Fatalf("late text answer rows: %d, want it kept", n)
	}

	// The open check-in a text answers may be a completed program's last:
	// the reply is as true there, with nothing more to send.
	if _, err := f.e.Store.DB.Exec(`UPDATE enrollments SET status = 'completed' WHERE id = $1`, ended); err != nil {
		t.Fatal(err)
	}
	lateText("+447700900233", "program completed")
	if n := f.count(`SELECT count(*) FROM checkins WHERE enrollment_id = $1 AND answer = '2' AND source = 'sms'`, ended); n != 1 {
		t.Fatalf("late text answer to a completed program: %d rows, want it kept", n)
	}

	code, page := f.do("POST", "/checkin/"+tok, "application/x-www-form-urlencoded", "a=2")
	page = html.UnescapeString(mainOf(page))
	if code != 200 || !strings.Contains(page, "We've noted your answer") || !strings.Contains(page, "won't change what we send you") ||
		strings.Contains(page, "as planned") {
		t.Fatalf("late answer by link: %d %s; want it noted, told it won't change what we send, and no promise of a next message", code, page)
	}
	// The first late answer stands; a second one is turned away as before.
	code, page = f.do("POST", "/checkin/"+tok, "application/x-www-form-urlencoded", "a=4")
	if code != 409 || !strings.Contains(page, "This check-in has closed") {
		t.Fatalf("second late answer by link: %d %s; want 409, closed", code, page)
	}
}
