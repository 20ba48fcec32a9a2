package web

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// The error summary links to what needs fixing. When the form itself is
// the trouble (it was open too long, or its token is missing), the link
// "#form" must land on the form: the page has an element with that id.
func TestFormExpiredErrorLinksToTheForm(t *testing.T) {
	f := newFixture(t)
	v := url.Values{"csrf": {"stale"}, "first_name": {"Bo"}, "email": {"bo@example.org"}, "consent_email": {"yes"}, "timezone": {"Europe/London"}}
	code, page := f.do("POST", "/subscribe/basic", "application/x-www-form-urlencoded", v.Encode())
	if code != 403 {
		t.Fatalf("a stale form: %d\n%s", code, mainOf(page))
	}
	m := regexp.MustCompile(`<div class="error-summary"[^>]*>\s*<h2>[^<]*</h2>\s*<p><a href="#([a-z_]+)">`).FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no error summary link on the page:\n%s", mainOf(page))
	}
	if m[1] != "form" || !strings.Contains(page, ` id="`+m[1]+`"`) {
		t.Errorf("the error summary links to #%s, and no element has that id:\n%s", m[1], mainOf(page))
	}
}
