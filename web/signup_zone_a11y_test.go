package web

import (
	"encoding/json"
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

// An API caller has no list to choose from: a refused time zone says which
// field and what it takes (an IANA name, with an example), while the form
// keeps asking to choose from its list.
func TestAPITimeZoneErrorSaysWhatTheFieldTakes(t *testing.T) {
	f := newConfirmingFixture(t)
	for _, tz := range []string{"", "Nowhere/Land", "GMT+1 London"} {
		body, _ := json.Marshal(map[string]any{"program": "rekindle", "first_name": "Ola", "email": "zoneapi@example.org", "consent_email": true, "timezone": tz})
		code, out := api(f, string(body))
		var r struct {
			Error struct{ Field, Message string }
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil || code != 400 || r.Error.Field != "timezone" {
			t.Fatalf("API zone %q: %d %s", tz, code, out)
		}
		m := r.Error.Message
		if strings.Contains(m, "list") || !strings.Contains(m, "timezone") || !strings.Contains(m, "IANA") || !strings.Contains(m, "Europe/London") {
			t.Errorf("API zone %q: %q, want it to name the timezone field and ask for an IANA zone such as Europe/London, with no list to choose from", tz, m)
		}
	}
	_, page := f.signupForm("rekindle", url.Values{"first_name": {"Ola"}, "email": {"zone@example.org"}, "consent_email": {"yes"}, "timezone": {"Nowhere/Land"}})
	if !strings.Contains(visible(page), "Please choose your time zone from the list") {
		t.Errorf("the form's zone error no longer points to its list:\n%s", mainOf(page))
	}
}
