package web

import (
	"net/url"
	"strings"
	"testing"
)

// A missing consent tick is an error on a checkbox: like every other
// field's, its message has an id, and the box it belongs to is marked
// invalid and described by it, so a screen reader on the box (where the
// error summary's link lands) reads why. The other box is left alone.
func TestConsentErrorIsTiedToItsCheckbox(t *testing.T) {
	f := newConfirmingFixture(t)
	for _, tc := range []struct {
		field, other string
		form         url.Values
	}{
		{"consent_email", "consent_sms", url.Values{"first_name": {"Ola"}, "email": {"tick@example.org"}, "timezone": {"Europe/London"}}},
		{"consent_sms", "consent_email", url.Values{"first_name": {"Ola"}, "phone": {"+447911123483"}, "timezone": {"Europe/London"}}},
	} {
		code, page := f.signupForm("rekindle", tc.form)
		if code != 400 {
			t.Fatalf("%s unticked: %d, want 400", tc.field, code)
		}
		wantBox := `id="` + tc.field + `" name="` + tc.field + `" value="yes" aria-invalid="true" aria-describedby="` + tc.field + `-error">`
		wantMsg := `<span class="field-error" id="` + tc.field + `-error">Please tick the box`
		if !strings.Contains(page, wantBox) || !strings.Contains(page, wantMsg) {
			t.Errorf("%s unticked: want the box %s tied to the message %s in:\n%s", tc.field, wantBox, wantMsg, page[strings.Index(page, "<fieldset>"):])
		}
		if strings.Contains(page, `id="`+tc.other+`" name="`+tc.other+`" value="yes" aria-invalid`) {
			t.Errorf("%s unticked: the other box, %s, is marked invalid too", tc.field, tc.other)
		}
	}
}
