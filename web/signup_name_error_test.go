package web

import (
	"net/url"
	"strings"
	"testing"
)

// A first name the form refuses gets a message naming the field and what
// is wrong with it: a long one is asked to be shorter, one with a "<" is
// told about the character, not asked to be shorter.
func TestFirstNameErrorSaysWhatIsWrong(t *testing.T) {
	f := newConfirmingFixture(t)
	for _, tc := range []struct{ name, want, not string }{
		{strings.Repeat("a", 101), "100 characters or fewer", "such as &lt;"},
		{"Sam<3", "a character we can&#39;t use, such as &lt; or &gt;", "shorter"},
		{"Sam\u0007", "a character we can&#39;t use", "shorter"},
	} {
		v := url.Values{"first_name": {tc.name}, "email": {"name@example.org"}, "consent_email": {"yes"}, "timezone": {"Europe/London"}}
		code, page := f.signupForm("rekindle", v)
		msg := ""
		if i := strings.Index(page, `id="first_name-error">`); i >= 0 {
			msg = page[i : i+strings.Index(page[i:], "</span>")]
		}
		if code != 400 || !strings.Contains(msg, tc.want) || strings.Contains(msg, tc.not) {
			t.Errorf("first name %q: %d, message %q; want it to say %q", tc.name, code, msg, tc.want)
		}
	}
}
