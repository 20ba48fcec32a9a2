package web

import (
	"strings"
	"testing"

	"github.com/rekindle/rekindle/smsseg"
)

// MOVED ON is answered by what it did. The first one switches the track,
// and the reply says the next lessons are that track's, not a vague "we've
// adjusted your program". Sent again, it changes nothing, and the reply
// says so instead of claiming another adjustment. While paused, the reply
// says the new lessons wait for RESUME. Every reply fits in two GSM-7
// segments.
func TestMovedOnReplySaysWhatChanged(t *testing.T) {
	f := newFixture(t)
	const phone = "+447700900241"
	_, enr := f.enroll("movedon@example.org", phone)

	check := func(what, out string) {
		t.Helper()
		if seg := smsseg.Count(out); seg.Encoding != smsseg.GSM7 || seg.Segments > 2 {
			t.Errorf("%s: the reply %q is %+v; want at most two GSM-7 segments", what, out, seg)
		}
	}
	out := twimlMessage(t, f.sms(phone, "moved on"))
	check("first MOVED ON", out)
	if !strings.Contains(out, "your next lessons are the other ones") || strings.Contains(out, "adjusted") {
		t.Errorf("first MOVED ON: %q, want it to name the lessons that come next", out)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND track = 'other'`, enr); n != 1 {
		t.Fatal("MOVED ON did not switch the track")
	}

	out = twimlMessage(t, f.sms(phone, "Moved on."))
	check("second MOVED ON", out)
	if !strings.Contains(out, "nothing has changed") || strings.Contains(out, "adjusted") || strings.Contains(out, "changes course") {
		t.Errorf("MOVED ON again: %q, want it to say nothing has changed", out)
	}

	// Paused: the switch is made, and the new lessons wait for RESUME.
	const phone2 = "+447700900242"
	_, enr2 := f.enroll("movedon-paused@example.org", phone2)
	f.sms(phone2, "pause")
	out = twimlMessage(t, f.sms(phone2, "moved on"))
	check("MOVED ON while paused", out)
	if !strings.Contains(out, "your next lessons are the other ones") || !strings.Contains(out, "paused") || !strings.Contains(out, "RESUME") {
		t.Errorf("MOVED ON while paused: %q, want the next lessons named and that they wait for RESUME", out)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND track = 'other' AND status = 'paused'`, enr2); n != 1 {
		t.Fatal("MOVED ON while paused did not switch the track, or resumed the program")
	}
}

// MOVED ON from someone whose program is not running is answered by where
// they stand, not thanked as a written reply the number cannot read: before
// YES, that YES starts the program and MOVED ON can then change its
// course; after the program has ended, that it has, and nothing is left to
// change.
func TestMovedOnOutsideARunningProgramSaysWhereTheyStand(t *testing.T) {
	f := newFixture(t)
	check := func(what, out string, want ...string) {
		t.Helper()
		if seg := smsseg.Count(out); seg.Encoding != smsseg.GSM7 || seg.Segments > 2 {
			t.Errorf("%s: the reply %q is %+v; want at most two GSM-7 segments", what, out, seg)
		}
		if out == writtenReply || strings.Contains(out, "written replies") {
			t.Errorf("%s: %q, the answer to a written reply", what, out)
		}
		for _, w := range want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: %q, want it to say %q", what, out, w)
			}
		}
	}
	if code, out := api(f, `{"program":"basic","first_name":"Kit","phone":"07400 123471","timezone":"Europe/London","consent_sms":true}`); code != 202 {
		t.Fatalf("sign-up: %d %s", code, out)
	}
	check("MOVED ON before YES", twimlMessage(t, f.sms("+447400123471", "moved on")), "hasn't started yet", "reply YES to start it", "MOVED ON again")
	if n := f.count(`SELECT count(*) FROM enrollments WHERE status = 'pending' AND track <> 'other'`); n != 1 {
		t.Error("MOVED ON before YES changed the sign-up")
	}

	const phone = "+447700900243"
	_, enr := f.enroll("movedon-ended@example.org", phone)
	if _, err := f.e.Store.DB.Exec(`UPDATE enrollments SET status = 'completed' WHERE id = $1`, enr); err != nil {
		t.Fatal(err)
	}
	check("MOVED ON after the program ended", twimlMessage(t, f.sms(phone, "Moved on")), "program has already ended", "nothing left for us to change")
}
