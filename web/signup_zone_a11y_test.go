package web

import (
	"net/url"
	"strings"
	"testing"
)

// Every field's error is read with the field: the time zone list, like the
// phone number, is described by its hint and, when refused, by its error,
// so a screen reader on the list says why it was refused.
func TestTimeZoneErrorDescribesTheList(t *testing.T) {
	f := newConfirmingFixture(t)
	code, page := f.signupForm("rekindle", url.Values{"first_name": {"Ola"}, "email": {"zone@example.org"}, "consent_email": {"yes"}, "timezone": {"Nowhere/Land"}})
	const want = `<select id="timezone" name="timezone" aria-describedby="timezone-hint timezone-error" aria-invalid="true">`
	if code != 400 || !strings.Contains(page, want) || !strings.Contains(page, `<span class="field-error" id="timezone-error">`) {
		t.Errorf("unknown zone: %d, want %s tied to its error", code, want)
	}
	_, page = f.signupForm("rekindle", url.Values{"first_name": {""}, "timezone": {"Europe/London"}})
	if !strings.Contains(page, `<select id="timezone" name="timezone" aria-describedby="timezone-hint">`) {
		t.Error("another field's error: the zone list should be described by its hint alone")
	}
}
