package web

import (
	"strings"
	"testing"
)

// HELP says what the texts are as the consent does: short nudges and
// check-ins, not the lessons, which come by email only.
func TestHelpSaysTextsAreNudgesNotLessons(t *testing.T) {
	f := newFixture(t)
	f.enroll("nudges@example.org", "+447700900261")
	for _, phone := range []string{"+447700900261", "+447700900262"} {
		msg := twimlMessage(t, f.sms(phone, "HELP"))
		if !strings.Contains(msg, "short coaching nudges and check-ins by text") || strings.Contains(msg, "lessons and check-ins by text") {
			t.Errorf("HELP from %s: %q, want it to say the texts are short nudges and check-ins", phone, msg)
		}
		if n, ok := gsmSeptets(msg); !ok || n > 2*153 {
			t.Errorf("HELP from %s is %d septets (GSM-7: %v), want at most two segments", phone, n, ok)
		}
	}
}
