package web

import (
	"strings"
	"testing"
)

// After unsubscribing from one channel by link, a person who also gets the
// other is told how to leave that one too.
func TestUnsubscribePageSaysHowToLeaveTheOtherChannel(t *testing.T) {
	f := newFixture(t)
	sub, _ := f.enroll("both@example.org", "+447700900303")
	code, page := f.do("POST", local(f.links.Unsubscribe(sub, "email")), "", "")
	if code != 200 || !strings.Contains(page, "We won&#39;t send you any more emails.") ||
		!strings.Contains(page, "reply STOP to any text from us") {
		t.Fatalf("email unsubscribe: %d\n%s", code, mainOf(page))
	}

	sub, _ = f.enroll("both2@example.org", "+447700900304")
	code, page = f.do("POST", local(f.links.Unsubscribe(sub, "sms")), "", "")
	if code != 200 || !strings.Contains(page, "We won&#39;t send you any more text messages.") ||
		!strings.Contains(page, "use the unsubscribe link at the bottom of any email from us") {
		t.Fatalf("text unsubscribe: %d\n%s", code, mainOf(page))
	}

	// With nothing left, there is nothing more to leave.
	code, page = f.do("POST", local(f.links.Unsubscribe(sub, "email")), "", "")
	if code != 200 || strings.Contains(page, "STOP") || strings.Contains(page, "unsubscribe link") {
		t.Fatalf("last channel: %d\n%s", code, mainOf(page))
	}
}
