package web

import (
	"net/url"
	"strings"
	"testing"
)

// The page after a sign-up says only what is true of the messages that
// will go: no text for an email-only sign-up, no "also" when a text is all
// there is, and, when quiet hours hold the confirmation text, the time it
// will come, which is the time the text is queued for.
func TestSignupPageSaysWhenTheTextComes(t *testing.T) {
	f := newConfirmingFixture(t)
	form := func(email, phone string) url.Values { return signupValues("Ola", email, phone) }
	signup := func(email, phone string) string {
		t.Helper()
		code, page := f.signupForm("rekindle", form(email, phone))
		if code != 200 {
			t.Fatalf("sign-up %s %s: %d %s", email, phone, code, visible(page))
		}
		return visible(page)
	}
	heldUntil := func(phone string) string {
		t.Helper()
		var s string
		if err := f.e.Store.DB.Get(&s, `SELECT to_char(not_before AT TIME ZONE 'Europe/London', 'HH24:MI') FROM deliveries WHERE kind = 'confirm' AND channel = 'sms' AND to_addr = $1`, phone); err != nil {
			t.Fatal(err)
		}
		return s
	}

	// 06:00 in London: inside the texts' quiet hours (21:00-08:00).
	f.clk.Set(utc("2026-06-01T05:00:00Z"))
	page := signup("", "+447911123471")
	if at := heldUntil("+447911123471"); at != "08:00" || !strings.Contains(page, "we'll text +447911123471 at 08:00 your time") ||
		strings.Contains(page, "on its way") || strings.Contains(page, "also") || strings.Contains(page, "email") {
		t.Errorf("texts only, at night (text held until %s):\n%s", at, page)
	}
	page = signup("night@example.org", "+447911123472")
	if !strings.Contains(page, "an email with a confirm button is on its way") || !strings.Contains(page, "also text +447911123472 at 08:00 your time") ||
		strings.Contains(page, "a text is on its way") {
		t.Errorf("email and texts, at night:\n%s", page)
	}

	// Noon in London: the texts go at once.
	f.clk.Set(utc("2026-06-01T11:00:00Z"))
	page = signup("", "+447911123473")
	if at := heldUntil("+447911123473"); at != "12:00" || !strings.Contains(page, "a text is on its way to +447911123473,") ||
		strings.Contains(page, "also") || strings.Contains(page, "email") {
		t.Errorf("texts only, by day (text due %s):\n%s", at, page)
	}
	page = signup("both-by-day@example.org", "+447911123474")
	if !strings.Contains(page, "an email with a confirm button is on its way") || !strings.Contains(page, "A text is on its way to +447911123474 too") ||
		strings.Contains(page, "quiet hours") {
		t.Errorf("email and texts, by day:\n%s", page)
	}
	page = signup("day@example.org", "")
	if !strings.Contains(page, "an email with a confirm button is on its way") || strings.Contains(page, "text") || strings.Contains(page, "YES") {
		t.Errorf("email only:\n%s", page)
	}
}

// The page leads with what happens for nearly everyone (the confirmation
// is on its way) and only then says when nothing comes (the addresses are
// on file, or asked not to be contacted), the same words whoever is on
// file. It used to open every sign-up with "Unless ... is already signed
// up", the rare case first.
func TestSignupPageLeadsWithWhatHappensNext(t *testing.T) {
	f := newConfirmingFixture(t)
	f.clk.Set(utc("2026-06-01T11:00:00Z"))
	for _, tc := range []struct{ email, phone, first, exception string }{
		{"lead@example.org", "", "an email with a confirm button is on its way to lead@example.org", "unless that address is already signed up with us or has asked us not to write to it"},
		{"", "+447911123475", "a text is on its way to +447911123475", "unless that number is already signed up with us or has asked us to stop texting it"},
		{"lead2@example.org", "+447911123476", "an email with a confirm button is on its way to lead2@example.org", "unless lead2@example.org or +447911123476 is already signed up with us or has asked us not to contact it"},
	} {
		v := signupValues("Ola", tc.email, tc.phone)
		_, page := f.signupForm("rekindle", v)
		page = mainOf(page)
		_, body, _ := strings.Cut(page, "</h1>")
		body = visible("</head>" + body)
		i, j := strings.Index(body, tc.first), strings.Index(body, tc.exception)
		if strings.HasPrefix(body, "Unless") || !strings.HasPrefix(body, "Here's what happens next: ") || i < 0 || j < i {
			t.Errorf("sign-up %q %q: want the page to open with what happens next (%q), then the exception (%q):\n%s", tc.email, tc.phone, tc.first, tc.exception, body)
		}
	}
}
