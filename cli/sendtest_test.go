package cli

import (
	"os"
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

// TestSendTestRefusesLandline: send-test --phone sent to a landline (or a
// toll-free, premium-rate... number), which enroll and the sign-up form
// refuse by scheduler.Textable. The text cannot arrive, so the provider's
// "accepted" would tell the operator nothing true. It is refused the same
// way: exit 1, one line naming --phone and why, and nothing sent, through
// Twilio or to the outbox. A mobile, and a US number that may be either,
// still go.
func TestSendTestRefusesLandline(t *testing.T) {
	fake := faketwilio.New()
	defer fake.Close()
	twilio := map[string]string{"TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000", "TWILIO_AUTH_TOKEN": "token",
		"REKINDLE_TWILIO_FROM": "+15005550006", "REKINDLE_TWILIO_API_URL": fake.URL()}
	outbox := t.TempDir()
	file := map[string]string{"REKINDLE_OUTBOX_DIR": outbox}
	for _, c := range []struct{ phone, want string }{
		{"+44 20 7946 0018", "landline"},
		{"+1 800 253 0000", "cannot receive texts"},
		{"+44 909 879 0000", "cannot receive texts"},
	} {
		for name, env := range map[string]map[string]string{"twilio": twilio, "file": file} {
			code, out, errs := run(t, env, "send-test", "--phone", c.phone)
			if code != 1 || !strings.Contains(errs, "--phone") || !strings.Contains(errs, c.want) ||
				strings.Count(strings.TrimSpace(errs), "\n") > 0 || out != "" {
				t.Errorf("%s %s: exit %d, want 1 and one line naming --phone and %q\nstdout: %s\nstderr: %s", name, c.phone, code, c.want, out, errs)
			}
		}
	}
	if msgs := fake.Messages(); len(msgs) != 0 {
		t.Errorf("fake Twilio was sent %+v", msgs)
	}
	if files, _ := os.ReadDir(outbox); len(files) != 0 {
		t.Errorf("the outbox holds %d files, want none", len(files))
	}
	for _, mobile := range []string{"+44 7400 123456", "+1 202 555 0142"} {
		if code, out, errs := run(t, twilio, "send-test", "--phone", mobile); code != 0 || !strings.Contains(out, "sent through twilio") {
			t.Errorf("%s: exit %d, want it sent: %s%s", mobile, code, out, errs)
		}
	}
	if n := len(fake.Messages()); n != 2 {
		t.Errorf("fake Twilio has %d messages, want the 2 mobiles'", n)
	}
}
