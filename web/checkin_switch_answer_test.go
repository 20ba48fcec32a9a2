package web

import (
	"strings"
	"testing"

	"github.com/rekindle/rekindle/smsseg"
)

// A check-in answer that switches the program's track (the readiness
// question's "they have a new partner") is answered with what changes:
// the next lessons are that track's. The email page no longer says the
// next message "will arrive as planned", and the text reply says more than
// "Thanks for letting us know".
func TestSwitchingAnswerSaysTheProgramChangesCourse(t *testing.T) {
	f := newFixture(t)
	const phone = "+447700900243"
	_, byText := f.enroll("switch-text@example.org", phone)
	_, byEmail := f.enroll("switch-email@example.org", "")
	_, ready := f.enroll("switch-ready@example.org", "")
	f.planUntil(utc("2026-06-05T18:30:00Z")) // the readiness check-ins are open

	const want = "your next lessons are the other ones"
	out := twimlMessage(t, f.sms(phone, "3"))
	if !strings.HasPrefix(out, "Thanks for letting us know.") || !strings.Contains(out, want) {
		t.Errorf("new partner by text: %q, want thanks and %q", out, want)
	}
	if seg := smsseg.Count(out); seg.Encoding != smsseg.GSM7 || seg.Segments > 2 {
		t.Errorf("the reply %q is %+v; want at most two GSM-7 segments", out, seg)
	}

	code, page := f.do("POST", "/checkin/"+tokenOf(t, f, byEmail), "application/x-www-form-urlencoded", "a=new-partner")
	if code != 200 || !strings.Contains(page, want) || strings.Contains(page, "as planned") {
		t.Errorf("new partner by the email page: %d, want %q and no \"as planned\":\n%s", code, want, page)
	}
	for _, enr := range []int64{byText, byEmail} {
		if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND track = 'other'`, enr); n != 1 {
			t.Errorf("enrollment %d did not switch, as the replies say", enr)
		}
	}

	code, page = f.do("POST", "/checkin/"+tokenOf(t, f, ready), "application/x-www-form-urlencoded", "a=ready")
	if code != 200 || !strings.Contains(page, "as planned") || strings.Contains(page, "changes course") {
		t.Errorf("an answer that switches nothing: %d, want the usual \"as planned\":\n%s", code, page)
	}
}

// tokenOf is the link token of an enrollment's readiness check-in.
func tokenOf(t *testing.T, f *fixture, enr int64) string {
	t.Helper()
	var tok string
	if err := f.e.Store.DB.Get(&tok, `SELECT token FROM checkins WHERE enrollment_id = $1 AND step_key = 'ready'`, enr); err != nil {
		t.Fatal(err)
	}
	return tok
}

// "Not yet" holds the next phase back: the email page says for how long,
// rather than that the next message "will arrive as planned".
func TestNotYetAnswerSaysHowLongTheProgramWaits(t *testing.T) {
	f := newFixture(t)
	_, enr := f.enroll("notyet@example.org", "")
	f.planUntil(utc("2026-06-05T18:30:00Z"))
	code, page := f.do("POST", "/checkin/"+tokenOf(t, f, enr), "application/x-www-form-urlencoded", "a=not-ready")
	got := visible(page)
	if code != 200 || !strings.Contains(got, "We'll give you 7 more days before the program moves on.") || strings.Contains(got, "as planned") {
		t.Errorf("not yet by the email page: %d, want how long the program waits:\n%s", code, got)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND shift_days = 7`, enr); n != 1 {
		t.Error("the answer did not hold the program back, as the page says")
	}
}
