package web

import (
	"strings"
	"testing"

	"github.com/rekindle/rekindle/smsseg"
)

// PAUSE with a number of days says how long in plain English: "1 day", not
// "1 days"; more than one is still "days".
func TestPauseForOneDaySaysOneDay(t *testing.T) {
	f := newFixture(t)
	f.enroll("oneday@example.org", "+447700900211")
	out := twimlMessage(t, f.sms("+447700900211", "pause 1"))
	if !strings.HasPrefix(out, "Paused for 1 day.") {
		t.Errorf("PAUSE 1: %q, want it to start \"Paused for 1 day.\"", out)
	}
	f.sms("+447700900211", "resume")
	out = twimlMessage(t, f.sms("+447700900211", "pause for 2 days"))
	if !strings.HasPrefix(out, "Paused for 2 days.") {
		t.Errorf("PAUSE FOR 2 DAYS: %q, want it to start \"Paused for 2 days.\"", out)
	}
}

// PAUSE with a length it cannot take (more than 999 days, or weeks) says
// that nothing changed and what it takes, and pauses nothing: not "didn't
// catch that", nor thanks as for a written reply.
func TestPauseOutOfRangeSaysNothingChangedAndTheRange(t *testing.T) {
	f := newFixture(t)
	const phone = "+447700900233"
	_, enr := f.enroll("longpause@example.org", phone)
	before := f.state()
	for _, body := range []string{"PAUSE 1000 days", "pause for 2 weeks", "Pause -3"} {
		out := twimlMessage(t, f.sms(phone, body))
		if !strings.HasPrefix(out, "Nothing has changed.") || !strings.Contains(out, "1 to 999 days") || !strings.Contains(out, "RESUME") {
			t.Errorf("%q: %q, want nothing changed and the range 1 to 999 days", body, out)
		}
		if seg := smsseg.Count(out); seg.Encoding != smsseg.GSM7 || seg.Segments != 1 {
			t.Errorf("the reply %q is %+v; want one GSM-7 segment", out, seg)
		}
	}
	after := f.state()
	after["inbound_messages"] = before["inbound_messages"]
	sameState(t, "an out-of-range PAUSE", before, after)
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'active'`, enr); n != 1 {
		t.Error("an out-of-range PAUSE paused the program")
	}
}
