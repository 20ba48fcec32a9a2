package web

import (
	"strings"
	"testing"
)

// The sign-up page gives the support contact, as every other page does:
// someone with a question before signing up (or stuck on the form) has
// somewhere to ask.
func TestSignupPageGivesTheSupportContact(t *testing.T) {
	f := newFixture(t)
	code, page := f.do("GET", "/subscribe/basic", "", "")
	if code != 200 || !strings.Contains(visible(page), "Questions before you sign up? You can reach us at help@rekindle.test.") {
		t.Errorf("sign-up page: %d, want the support contact:\n%s", code, visible(page))
	}
}
