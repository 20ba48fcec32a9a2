package web

import (
	"context"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/smsseg"
)

// HELP from someone whose program has ended (finished, or left from the
// manage page) no longer promises "a few texts a week": it says the
// program has ended and no texts come, with the help contact and STOP.
func TestHelpAfterTheProgramEndedPromisesNoTexts(t *testing.T) {
	f := newFixture(t)
	const phone = "+447700900248"
	_, enr := f.enroll("ended@example.org", phone)
	if _, err := f.e.Unenroll(context.Background(), enr, "left from the manage page"); err != nil {
		t.Fatal(err)
	}
	out := twimlMessage(t, f.sms(phone, "HELP"))
	if !strings.Contains(out, "Your program has ended, so we don't text you now.") || strings.Contains(out, "a week") ||
		!strings.Contains(out, "help@rekindle.test") || !strings.Contains(out, "STOP") {
		t.Errorf("HELP after the program ended: %q, want it ended, no texts a week, help and STOP", out)
	}
	if seg := smsseg.Count(out); seg.Encoding != smsseg.GSM7 || seg.Segments > 2 {
		t.Errorf("the reply %q is %+v; want at most two GSM-7 segments", out, seg)
	}
}
