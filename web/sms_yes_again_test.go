package web

import (
	"strings"
	"testing"
)

// YES from a number already confirmed, with no check-in asking anything
// (the confirmation text was answered twice), is told that it is already
// done, not thanked for a written reply that "this number can't read".
// YES still answers a check-in that waits for it.
func TestYesAgainSaysAlreadyConfirmed(t *testing.T) {
	f := newFixture(t)
	const phone = "+447700900246"
	f.enroll("yesagain@example.org", phone)
	for _, body := range []string{"YES", "y"} {
		out := twimlMessage(t, f.sms(phone, body))
		if !strings.HasPrefix(out, "You're already confirmed, so there's nothing more to do.") || strings.Contains(out, "written replies") {
			t.Errorf("%q from a confirmed number, nothing asked: %q, want it already confirmed", body, out)
		}
	}
	if out := twimlMessage(t, f.sms(phone, "hello")); !strings.Contains(out, "written replies") {
		t.Errorf("a written reply: %q, want the written-reply answer", out)
	}
}
