package web

import (
	"strings"
	"testing"
)

// A pause for a number of days ends by itself: the manage page says on
// which day, in the person's calendar, rather than "until you resume". A
// pause without an end still says it lasts until they resume.
func TestManagePageNamesTheDayATimedPauseEnds(t *testing.T) {
	f := newFixture(t)
	sub, _ := f.enroll("timed@example.org", "+447700900212")
	// Monday 1 June, 06:00 in London: three days takes it to Thursday 4 June.
	if out := twimlMessage(t, f.sms("+447700900212", "pause 3 days")); !strings.Contains(out, "Paused for 3 days") {
		t.Fatalf("PAUSE 3 DAYS: %q", out)
	}
	_, page := f.do("GET", local(f.links.Manage(sub)), "", "")
	if got := visible(page); !strings.Contains(got, "Paused until Thursday 4 June.") || strings.Contains(got, "until you resume") {
		t.Errorf("manage page during a 3-day pause:\n%s", got)
	}

	f.sms("+447700900212", "resume")
	f.sms("+447700900212", "pause")
	_, page = f.do("GET", local(f.links.Manage(sub)), "", "")
	if got := visible(page); !strings.Contains(got, "Paused. Nothing will be sent until you resume.") || strings.Contains(got, "Paused until") {
		t.Errorf("manage page during a pause with no end:\n%s", got)
	}
}
