package web

import (
	"strings"
	"testing"
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
