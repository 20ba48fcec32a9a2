package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// twilioEnv is a complete Twilio configuration with kv laid over it.
func twilioEnv(kv ...string) map[string]string {
	m := map[string]string{"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef", "TWILIO_AUTH_TOKEN": "tok3n",
		"REKINDLE_TWILIO_FROM": "+12025550100"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return m
}

// `rekindle config` is pasted into tickets and chat: no secret's value may
// appear in it, whichever secret it is. The Twilio ones are secrets too, so
// they may also come from NAME_FILE or a systemd credential.
func TestEverySecretIsMaskedAndReadableFromAFile(t *testing.T) {
	secrets := map[string]string{
		"REKINDLE_SMTP_PASSWORD": "smtp-pw-LEAK",
		"TWILIO_AUTH_TOKEN":      "authtokenLEAK",
		"TWILIO_API_SECRET":      "apisecretLEAK",
		"REKINDLE_SECRET_KEY":    "secret-key-LEAK-0123456789abcdefghij",
	}
	env := twilioEnv("TWILIO_API_KEY", "SK0123456789abcdef0123456789abcdef")
	for k, v := range secrets {
		env[k] = v
	}
	var out bytes.Buffer
	if err := PrintLookup(&out, lookup(env), nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "LEAK") {
		t.Errorf("a secret shows in the printed config:\n%s", out.String())
	}
	for name := range secrets {
		if !strings.Contains(out.String(), name+"=********\t") {
			t.Errorf("%s is not shown masked:\n%s", name, out.String())
		}
	}

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "twilio-auth-token"), []byte("fromcredential\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "api-secret"), []byte("fromfile\n"), 0o600)
	env = twilioEnv("TWILIO_API_KEY", "SK0123456789abcdef0123456789abcdef", "TWILIO_API_SECRET_FILE", filepath.Join(dir, "api-secret"),
		"CREDENTIALS_DIRECTORY", dir)
	delete(env, "TWILIO_AUTH_TOKEN")
	c, src, err := LoadLookup(lookup(env), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.TwilioAuthToken != "fromcredential" || src["TWILIO_AUTH_TOKEN"] != "credential" {
		t.Errorf("TWILIO_AUTH_TOKEN from its credential: %q (%s)", c.TwilioAuthToken, src["TWILIO_AUTH_TOKEN"])
	}
	if c.TwilioAPISecret != "fromfile" || src["TWILIO_API_SECRET"] != "file" {
		t.Errorf("TWILIO_API_SECRET from its file: %q (%s)", c.TwilioAPISecret, src["TWILIO_API_SECRET"])
	}
}

// A credential that exists but cannot be read is an error naming it, not a
// secret silently left empty (and a default silently used instead).
func TestUnreadableCredentialIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "smtp-password"), 0o700); err != nil {
		t.Fatal(err)
	}
	refused(t, map[string]string{"CREDENTIALS_DIRECTORY": dir}, "REKINDLE_SMTP_PASSWORD", "credential smtp-password")
}

// A secret whose file cannot be read is named once, by that failure; the
// rule that it is required with TWILIO_ACCOUNT_SID does not name it again.
func TestRefusedSecretIsNamedOnce(t *testing.T) {
	env := twilioEnv("TWILIO_AUTH_TOKEN_FILE", filepath.Join(t.TempDir(), "missing"))
	delete(env, "TWILIO_AUTH_TOKEN")
	_, _, err := LoadLookup(lookup(env), nil)
	if err == nil || strings.Count(err.Error(), "TWILIO_AUTH_TOKEN:") != 1 {
		t.Errorf("got %v, want TWILIO_AUTH_TOKEN named once", err)
	}
}

// Shapes Twilio's console gives, checked where the operator sets them.
func TestTwilioCredentialShapes(t *testing.T) {
	refused(t, twilioEnv("TWILIO_ACCOUNT_SID", "XX0123456789abcdef0123456789abcdef"), "TWILIO_ACCOUNT_SID", "AC followed by letters and digits")
	refused(t, twilioEnv("TWILIO_AUTH_TOKEN", "tok en"), "TWILIO_AUTH_TOKEN", "may hold only letters and digits")
	refused(t, twilioEnv("TWILIO_API_KEY", "SK0123", "TWILIO_API_SECRET", "sec-ret"), "TWILIO_API_SECRET", "may hold only letters and digits")
	refused(t, twilioEnv("REKINDLE_TWILIO_FROM", "MG1"), "REKINDLE_TWILIO_FROM", "E.164")
	// Eleven characters is still an alphanumeric sender ID.
	refused(t, twilioEnv("REKINDLE_TWILIO_FROM", "Rekindle123"), "REKINDLE_TWILIO_FROM", "alphanumeric sender ID")
}

// The brand's limit is inclusive: 24 septets pass, 25 do not.
func TestSMSBrandLimitIsInclusive(t *testing.T) {
	accepted(t, map[string]string{"REKINDLE_SMS_BRAND": strings.Repeat("a", 24)})
	accepted(t, map[string]string{"REKINDLE_SMS_BRAND": strings.Repeat("a", 22) + "€"})
	refused(t, map[string]string{"REKINDLE_SMS_BRAND": strings.Repeat("a", 25)}, "REKINDLE_SMS_BRAND", "at most 24")
}

// An IPv6 literal is a host; a local relay may take a password without TLS.
func TestSMTPHostIPv6AndLocalPlainAuth(t *testing.T) {
	accepted(t, map[string]string{"REKINDLE_SMTP_HOST": "::1"})
	for _, h := range []string{"localhost", "127.0.0.1", "::1"} {
		accepted(t, map[string]string{"REKINDLE_SMTP_HOST": h, "REKINDLE_SMTP_TLS": "none",
			"REKINDLE_SMTP_USERNAME": "u", "REKINDLE_SMTP_PASSWORD": "p"})
	}
	refused(t, map[string]string{"REKINDLE_SMTP_HOST": "smtp.example.org", "REKINDLE_SMTP_TLS": "none",
		"REKINDLE_SMTP_USERNAME": "u", "REKINDLE_SMTP_PASSWORD": "p"}, "REKINDLE_SMTP_TLS", "in clear")
}
