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
