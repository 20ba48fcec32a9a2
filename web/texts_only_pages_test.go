package web

import (
	"net/url"
	"strings"
	"testing"
	"time"
)

// Texts carry no link to pause or leave; emails do. A page that tells
// someone how to pause or leave says "email" only of emails, and tells
// someone signing up by phone alone what works by text: PAUSE or STOP.
func TestPagesDoNotPromiseLinksInTexts(t *testing.T) {
	f := newFixture(t)
	form := func(email, phone string) url.Values { return signupValues("Bo", email, phone) }
	for _, c := range []struct {
		email, phone, want, not string
	}{
		{"", "07400 123480", "If you&#39;re already in the program, you can reply PAUSE or STOP to any of our texts.", "has a link"},
		{"both@example.org", "07400 123481", "every email we send has a link to pause it or leave, and you can reply PAUSE or STOP to any of our texts.", "every message"},
		{"mail@example.org", "", "every email we send has a link to pause it or leave.", "texts"},
	} {
		code, page := f.signupForm("basic", form(c.email, c.phone))
		page = mainOf(page)
		if code != 200 || !strings.Contains(page, c.want) || strings.Contains(page, c.not) {
			t.Errorf("sign-up with email %q, phone %q: %d, want %q and not %q:\n%s", c.email, c.phone, code, c.want, c.not, page)
		}
	}

	// The confirmed page after the email link promises links in emails only.
	var enr int64
	if err := f.e.Store.DB.Get(&enr, `SELECT e.id FROM enrollments e JOIN subscribers s ON s.id = e.subscriber_id WHERE s.email = 'both@example.org'`); err != nil {
		t.Fatal(err)
	}
	code, page := f.do("POST", local(f.links.Confirm(enr, 48*time.Hour)), "", "")
	if code != 200 || !strings.Contains(page, "Every email has a link to pause or unsubscribe") || strings.Contains(page, "Every message has a link") {
		t.Errorf("confirmed page: %d, want links promised in emails only:\n%s", code, mainOf(page))
	}
}
