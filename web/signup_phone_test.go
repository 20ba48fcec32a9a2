package web

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// signupError posts a sign-up with the given phone and returns the status
// and the error's field and message.
func signupError(f *fixture, phone string) (int, string, string) {
	f.t.Helper()
	body, _ := json.Marshal(map[string]any{"program": "basic", "first_name": "Ann", "phone": phone, "timezone": "Europe/London", "consent_sms": true})
	code, out := api(f, string(body))
	var r struct {
		Error struct{ Field, Message string }
	}
	if code != 202 {
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			f.t.Fatalf("phone %q: %d %s", phone, code, out)
		}
	}
	return code, r.Error.Field, r.Error.Message
}

// The error for a phone number that is not one gives an example: the
// example itself must be a number the sign-up takes, or the advice leads
// nowhere. (It was +1 555 010 0199, which has no real area code.)
func TestPhoneErrorExampleIsAccepted(t *testing.T) {
	f := newFixture(t)
	code, field, msg := signupError(f, "12345")
	if code != 400 || field != "phone" {
		t.Fatalf("a short number: %d %q %q", code, field, msg)
	}
	m := regexp.MustCompile(`e\.g\. (\+[0-9 ]*[0-9])`).FindStringSubmatch(msg)
	if m == nil {
		t.Fatalf("the phone error %q gives no example", msg)
	}
	if code, field, msg := signupError(f, m[1]); code != 202 {
		t.Errorf("the example %q from the phone error is refused: %d %s %q", m[1], code, field, msg)
	}
}

// A landline cannot receive texts: a sign-up giving one is refused with an
// error on the phone field that says why, instead of taking a number the
// confirmation text can never reach. Mobiles are taken, and numbers that
// may be either (every US number) too.
func TestLandlineIsRefusedForTexts(t *testing.T) {
	f := newFixture(t)
	for _, landline := range []string{"+44 20 7946 0018", "020 7946 0019"} {
		code, field, msg := signupError(f, landline)
		if code != 400 || field != "phone" || !strings.Contains(msg, "landline") || !strings.Contains(msg, "can't receive texts") {
			t.Errorf("landline %q: %d %q %q, want a phone error saying a landline can't receive texts", landline, code, field, msg)
		}
	}
	if n := f.count(`SELECT count(*) FROM subscribers`); n != 0 {
		t.Errorf("a landline sign-up was stored: %d subscribers", n)
	}
	for _, mobile := range []string{"07400 123456", "+1 202 555 0142"} {
		if code, field, msg := signupError(f, mobile); code != 202 {
			t.Errorf("%q: %d %q %q, want it taken", mobile, code, field, msg)
		}
	}
}
