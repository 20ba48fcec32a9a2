package web

import (
	"strings"
	"testing"
)

// Someone who unsubscribed from our emails and signs up again is sent
// nothing (the address stays suppressed until support lifts it), and the
// page must not say which addresses opted out. So the page every email
// sign-up gets says, as it does for STOP and START, what such a person can
// do: write to the support contact, and once the address is off the
// do-not-email list, sign up again and confirm (lifting sends nothing by
// itself). A sign-up by text alone is not told about emails.
func TestSignupPageTellsAnEmailOptOutWhomToWrite(t *testing.T) {
	f := newConfirmingFixture(t)
	f.clk.Set(utc("2026-06-01T11:00:00Z"))
	const want = "If you once unsubscribed from our emails, write to us at help@rekindle.test."
	for _, tc := range []struct {
		email, phone string
		says         bool
	}{
		{"wayback@example.org", "", true},
		{"wayback2@example.org", "+447911123481", true},
		{"", "+447911123482", false},
	} {
		v := signupValues("Ola", tc.email, tc.phone)
		code, page := f.signupForm("rekindle", v)
		page = visible(page)
		if code != 200 || strings.Contains(page, want) != tc.says || tc.says && !saysEmailWayBack(page) {
			t.Errorf("sign-up %q %q: %d, want the way back to emails said: %v\n%s", tc.email, tc.phone, code, tc.says, page)
		}
	}
}
