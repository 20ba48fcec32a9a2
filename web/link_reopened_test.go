package web

import (
	"strings"
	"testing"
	"time"
)

// An unsubscribe or confirm link opened again after it was used says
// plainly that it is already done, instead of offering its button again
// as if nothing had happened.
func TestUsedLinkOpenedAgainSaysItIsDone(t *testing.T) {
	f := newFixture(t)
	sub, _ := f.enroll("twice@example.org", "+447700900237")
	unsub := local(f.links.Unsubscribe(sub, "email"))
	if code, page := f.do("POST", unsub, "", ""); code != 200 || !strings.Contains(page, "You&#39;re unsubscribed") {
		t.Fatalf("unsubscribe: %d\n%s", code, mainOf(page))
	}
	before := f.state()
	code, page := f.do("GET", unsub, "", "")
	if code != 200 || !strings.Contains(page, "You&#39;ve already unsubscribed from our emails, so there&#39;s nothing more to do.") ||
		strings.Contains(page, "Yes, unsubscribe me") {
		t.Errorf("unsubscribe link opened again: %d, want it to say it is done:\n%s", code, mainOf(page))
	}
	sameState(t, "opening a used unsubscribe link", before, f.state())

	code, out := api(f, `{"program":"basic","first_name":"Cy","email":"cy@example.org","timezone":"Europe/London","consent_email":true}`)
	if code != 202 {
		t.Fatalf("sign-up: %d %s", code, out)
	}
	var enr int64
	if err := f.e.Store.DB.Get(&enr, `SELECT e.id FROM enrollments e JOIN subscribers s ON s.id = e.subscriber_id WHERE s.email = 'cy@example.org'`); err != nil {
		t.Fatal(err)
	}
	confirm := local(f.links.Confirm(enr, 48*time.Hour))
	if code, page := f.do("POST", confirm, "", ""); code != 200 || !strings.Contains(page, "You&#39;re confirmed") {
		t.Fatalf("confirm: %d\n%s", code, mainOf(page))
	}
	before = f.state()
	code, page = f.do("GET", confirm, "", "")
	if code != 200 || !strings.Contains(page, "You&#39;re already confirmed") || !strings.Contains(page, "There&#39;s nothing more to do.") ||
		strings.Contains(page, "Confirm my sign-up") {
		t.Errorf("confirm link opened again: %d, want it to say it is done:\n%s", code, mainOf(page))
	}
	sameState(t, "opening a used confirm link", before, f.state())
}
