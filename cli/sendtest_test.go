package cli

import (
	"strings"
	"testing"

	"github.com/rekindle/rekindle/internal/faketwilio"
)

// send-test goes through the configured provider: here the real twilio-go
// client against the fake Twilio API.
func TestSendTestThroughTwilio(t *testing.T) {
	fake := faketwilio.New()
	defer fake.Close()
	env := map[string]string{"TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000", "TWILIO_AUTH_TOKEN": "token",
		"REKINDLE_TWILIO_FROM": "+15005550006", "REKINDLE_TWILIO_API_URL": fake.URL()}
	code, out, errs := run(t, env, "send-test", "--phone", "+14155550100")
	if code != 0 || !strings.Contains(out, "sent through twilio: id SM") {
		t.Fatalf("exit %d: %s %s", code, out, errs)
	}
	msgs := fake.Messages()
	if len(msgs) != 1 || msgs[0].To != "+14155550100" || !strings.Contains(msgs[0].Body, "STOP") {
		t.Fatalf("fake Twilio recorded %+v", msgs)
	}
}
