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
	form := func(email, phone string) url.Values {
		v := url.Values{"first_name": {"Ola"}, "timezone": {"Europe/London"}}
		if email != "" {
			v.Set("email", email)
			v.Set("consent_email", "yes")
		}
		if phone != "" {
			v.Set("phone", phone)
			v.Set("consent_sms", "yes")
		}
		return v
	}
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
	if at := heldUntil("+447911123471"); at != "08:00" || !strings.Contains(page, "we'll text it at 08:00 your time") ||
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
	if at := heldUntil("+447911123473"); at != "12:00" || !strings.Contains(page, "a text is on its way to it") ||
		strings.Contains(page, "also") || strings.Contains(page, "email") {
		t.Errorf("texts only, by day (text due %s):\n%s", at, page)
	}
	page = signup("both-by-day@example.org", "+447911123474")
	if !strings.Contains(page, "an email with a confirm button is on its way") || !strings.Contains(page, "a text is on its way to +447911123474 too") ||
		strings.Contains(page, "quiet hours") {
		t.Errorf("email and texts, by day:\n%s", page)
	}
	page = signup("day@example.org", "")
	if !strings.Contains(page, "an email with a confirm button is on its way") || strings.Contains(page, "text") || strings.Contains(page, "YES") {
		t.Errorf("email only:\n%s", page)
	}
}
