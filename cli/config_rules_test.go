package cli

import (
	"strings"
	"testing"
)

// An incomplete Twilio setup fails `rekindle config` and serve alike,
// naming the variables, before serve touches the database.
func TestIncompleteTwilioRefusedByConfigAndServe(t *testing.T) {
	env := map[string]string{"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef",
		"TWILIO_API_KEY": "SK0123", "TWILIO_API_SECRET": "apiSecret0123",
		"DATABASE_URL": "postgres://postgres@127.0.0.1:1/none?sslmode=disable"} // never reached
	for _, cmd := range []string{"config", "serve"} {
		code, _, errs := run(t, env, cmd)
		for _, want := range []string{"TWILIO_AUTH_TOKEN: required with TWILIO_ACCOUNT_SID", "403", "REKINDLE_TWILIO_FROM: required"} {
			if code != 1 || !strings.Contains(errs, want) {
				t.Errorf("%s: exit %d: %s; want %q", cmd, code, errs, want)
			}
		}
		if strings.Contains(errs, "apiSecret0123") || strings.Contains(errs, "MessagingServiceSID") {
			t.Errorf("%s: %s", cmd, errs)
		}
	}
}
