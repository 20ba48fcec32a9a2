package web

import (
	"strings"
	"testing"

	"github.com/rekindle/rekindle/smsseg"
)

// PAUSE from someone whose program is already paused says so, and until
// when for a timed pause (the day in their own zone, as the manage page
// says it), instead of "There's nothing running to pause", which read as
// if their program had ended. Nothing changes: the pause keeps its end.
func TestPauseWhilePausedSaysAlreadyPausedAndUntilWhen(t *testing.T) {
	f := newFixture(t)
	const phone = "+447700900244"
	_, enr := f.enroll("pausedagain@example.org", phone)

	// 2026-06-01 05:00 UTC, London: ten days on is Thursday 11 June.
	f.sms(phone, "pause 10")
	out := twimlMessage(t, f.sms(phone, "pause"))
	if !strings.Contains(out, "already paused until Thursday 11 June") || strings.Contains(out, "nothing running") {
		t.Errorf("PAUSE during a 10-day pause: %q, want it already paused until Thursday 11 June", out)
	}
	if seg := smsseg.Count(out); seg.Encoding != smsseg.GSM7 || seg.Segments != 1 {
		t.Errorf("the reply %q is %+v; want one GSM-7 segment", out, seg)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'paused' AND paused_until IS NOT NULL`, enr); n != 1 {
		t.Error("PAUSE during a timed pause changed the pause")
	}

	f.sms(phone, "resume")
	f.sms(phone, "pause")
	out = twimlMessage(t, f.sms(phone, "pause 3"))
	if !strings.Contains(out, "already paused.") || !strings.Contains(out, "RESUME") || strings.Contains(out, "nothing running") {
		t.Errorf("PAUSE 3 during a pause until RESUME: %q, want it already paused and RESUME named", out)
	}
}
