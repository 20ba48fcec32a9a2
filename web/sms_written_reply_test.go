package web

import (
	"strings"
	"testing"

	"github.com/rekindle/rekindle/smsseg"
)

// Lesson texts end with questions to think over ("What's one thing you'd
// change?"), and people answer them. With no check-in waiting for an
// answer (none sent yet, or the latest one answered), such a reply is
// thanked, told plainly that written replies are not read here and the
// questions are theirs to keep, and given the words that work; never
// "didn't catch that". Nothing is recorded as an answer.
func TestWrittenReplyWithNoCheckinWaitingIsThanked(t *testing.T) {
	f := newFixture(t)
	const phone = "+447700900231"
	f.enroll("reflect@example.org", phone)
	check := func(when, body string) {
		t.Helper()
		out := twimlMessage(t, f.sms(phone, body))
		for _, want := range []string{"Thanks for writing.", "can't read written replies", "for you to think over", "PAUSE", "HELP", "STOP"} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: %q got %q, want it to say %q", when, body, out, want)
			}
		}
		if strings.Contains(out, "didn't catch") || strings.Contains(out, "Sorry") {
			t.Errorf("%s: %q got %q, want thanks, not an apology for not understanding", when, body, out)
		}
		if seg := smsseg.Count(out); seg.Encoding != smsseg.GSM7 || seg.Segments != 1 {
			t.Errorf("%s: the reply %q is %+v; want one GSM-7 segment", when, out, seg)
		}
	}
	check("before any check-in", "I'd stop checking their profile every night")

	f.planUntil(utc("2026-06-05T18:30:00Z")) // the readiness check-in is open
	if out := twimlMessage(t, f.sms(phone, "not yet")); !strings.HasPrefix(out, "Thanks for letting us know") {
		t.Fatalf("answer to the readiness check-in: %q", out)
	}
	check("after the latest check-in was answered", "Honestly I think I'd listen more")
	if n := f.count(`SELECT count(*) FROM checkins WHERE answer IS NOT NULL AND answer <> 'not-ready'`); n != 0 {
		t.Errorf("a written reply was recorded as a check-in answer")
	}
}
