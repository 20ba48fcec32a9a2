package web

import (
	"strings"
	"testing"
)

// HELP offers the words that work where the number stands: a sign-up
// waiting for its YES is told to reply YES (there is nothing to pause yet),
// a running program PAUSE, a paused one RESUME, a number we don't know and
// one that texted STOP no PAUSE (after STOP it would be ignored; START
// brings texts back).
func TestHelpFitsWhereTheNumberStands(t *testing.T) {
	f := newFixture(t)
	if code, out := api(f, `{"program":"basic","first_name":"Kit","phone":"07400 123470","timezone":"Europe/London","consent_sms":true}`); code != 202 {
		t.Fatalf("sign-up: %d %s", code, out)
	}
	f.enroll("running@example.org", "+447700900234")
	f.enroll("paused@example.org", "+447700900235")
	f.sms("+447700900235", "PAUSE")
	f.enroll("stopped@example.org", "+447700900236")
	f.sms("+447700900236", "STOP")

	for _, c := range []struct {
		who, phone, want, not string
	}{
		{"a sign-up waiting for YES", "+447400123470", "Reply YES to confirm and start our texts, STOP to opt out.", "PAUSE"},
		{"a running program", "+447700900234", "Reply PAUSE for a break, STOP to opt out.", "YES"},
		{"a paused program", "+447700900235", "Reply RESUME to continue, STOP to opt out.", "PAUSE"},
		{"a number we don't know", "+447700900299", "Reply STOP to opt out.", "PAUSE"},
		{"a number that texted STOP", "+447700900236", "You've opted out of our texts, so we don't text you now. Reply START to get them again.", "PAUSE"},
	} {
		msg := twimlMessage(t, f.sms(c.phone, "HELP"))
		if !strings.HasSuffix(msg, c.want) || strings.Contains(msg, c.not) {
			t.Errorf("HELP from %s: %q, want it to end %q and not offer %s", c.who, msg, c.want, c.not)
		}
		if !strings.Contains(msg, "Msg & data rates may apply") || !strings.Contains(msg, "Help: help@rekindle.test.") {
			t.Errorf("HELP from %s: %q lacks the rates or where to get help", c.who, msg)
		}
		if n, ok := gsmSeptets(msg); !ok || n > 2*153 {
			t.Errorf("HELP from %s is %d septets (GSM-7: %v), want at most two segments", c.who, n, ok)
		}
	}
}
