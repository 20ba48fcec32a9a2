package web

import (
	"strings"
	"testing"
)

// After STOP, a number hears nothing more from us unless it texts a
// keyword: an ordinary text (a check-in answer, PAUSE, a hello) gets an
// empty reply and changes nothing. HELP still answers and START still
// resubscribes; after START ordinary texts are answered again. The same
// holds for a number we never had on file that texted STOP.
func TestOptedOutNumberGetsNoReplyToOrdinaryTexts(t *testing.T) {
	f := newFixture(t)
	const known, stranger = "+447700900209", "+447700900210"
	_, enr := f.enroll("quiet@example.org", known)
	for _, phone := range []string{known, stranger} {
		if out := twimlMessage(t, f.sms(phone, "STOP")); !strings.Contains(out, "unsubscribed") {
			t.Fatalf("%s: STOP reply %q", phone, out)
		}
	}
	before := f.state()
	for _, phone := range []string{known, stranger} {
		for _, body := range []string{"hello?", "3", "PAUSE", "RESUME", "why am I still getting this"} {
			if out := f.sms(phone, body); strings.Contains(out, "<Message>") {
				t.Errorf("%s texted %q after STOP and got a reply: %s", phone, body, out)
			}
		}
	}
	after := f.state()
	after["inbound_messages"] = before["inbound_messages"] // each text is logged, nothing else
	sameState(t, "ordinary texts after STOP", before, after)
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'active'`, enr); n != 1 {
		t.Error("PAUSE after STOP paused the program; texts are the channel they left")
	}

	for _, phone := range []string{known, stranger} {
		if out := twimlMessage(t, f.sms(phone, "HELP")); !strings.Contains(out, "Reply START") || !strings.Contains(out, "help@rekindle.test") {
			t.Errorf("%s: HELP after STOP: %q, want the help text", phone, out)
		}
		if out := twimlMessage(t, f.sms(phone, "START")); !strings.Contains(out, "resubscribed") {
			t.Errorf("%s: START after STOP: %q", phone, out)
		}
	}
	if out := twimlMessage(t, f.sms(known, "hello?")); !strings.Contains(out, "can't read written replies") {
		t.Errorf("an ordinary text after START: %q, want the usual reply to written text", out)
	}
	if out := twimlMessage(t, f.sms(stranger, "hello?")); !strings.Contains(out, "don't have this number") {
		t.Errorf("an unknown number's text after START: %q, want the usual answer", out)
	}
}
