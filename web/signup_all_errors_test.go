package web

import (
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// A sign-up with several things to fix says all of them at once: the form
// lists each in its error summary, linking to its field, and puts each
// beside its field, which it describes (aria-describedby), so nobody fixes
// one, sends, and meets the next. The API names every field in one 400.
func TestSignupReportsEveryFieldAtOnce(t *testing.T) {
	f := newConfirmingFixture(t)
	v := url.Values{"first_name": {""}, "email": {"not-an-address"}, "phone": {"12345"}, "timezone": {""}}
	code, page := f.signupForm("rekindle", v)
	if code != 400 {
		t.Fatalf("a form with five things to fix: %d, want 400", code)
	}
	summary := page[strings.Index(page, `<div class="error-summary"`):]
	summary = summary[:strings.Index(summary, "</div>")]
	want := []string{"first_name", "email", "consent_email", "phone", "consent_sms", "timezone"}
	var linked []string
	for _, m := range regexp.MustCompile(`<a href="#([a-z_]+)">`).FindAllStringSubmatch(summary, -1) {
		linked = append(linked, m[1])
	}
	if strings.Join(linked, " ") != strings.Join(want, " ") {
		t.Errorf("the error summary links to %v, want every field to fix, in the form's order: %v\n%s", linked, want, summary)
	}
	for _, field := range want {
		msg := regexp.MustCompile(`<span class="field-error" id="` + field + `-error">[^<]+</span>`)
		control := regexp.MustCompile(`id="` + field + `"[^>]*aria-describedby="[^"]*\b` + field + `-error\b`)
		if !msg.MatchString(page) || !control.MatchString(page) {
			t.Errorf("%s: want its message beside it, and the field described by it, in:\n%s", field, mainOf(page))
		}
	}

	code, out := api(f, `{"program":"rekindle","first_name":"","email":"not-an-address","phone":"12345","timezone":"Mars/Olympus"}`)
	var body struct {
		Errors []struct{ Field, Message string }
	}
	if err := json.Unmarshal([]byte(out), &body); err != nil || code != 400 {
		t.Fatalf("API: %d %s (%v)", code, out, err)
	}
	var fields []string
	for _, e := range body.Errors {
		if strings.TrimSpace(e.Message) == "" {
			t.Errorf("API: %s named without a message", e.Field)
		}
		fields = append(fields, e.Field)
	}
	if strings.Join(fields, " ") != strings.Join(want, " ") {
		t.Errorf("API 400 names %v, want every field to fix: %v\n%s", fields, want, out)
	}
}
