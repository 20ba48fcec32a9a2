package config

import (
	"errors"
	"strings"
	"testing"
)

// A provider set up halfway is refused at load, naming the setting to fix,
// instead of failing later with the channel's own field names (or, for a
// missing auth token, refusing every Twilio webhook).
func TestProviderSettingsAreCheckedTogether(t *testing.T) {
	const sid = "AC0123456789abcdef0123456789abcdef"
	twilio := map[string]string{"TWILIO_ACCOUNT_SID": sid, "TWILIO_AUTH_TOKEN": "tok3n", "REKINDLE_TWILIO_FROM": "+12025550100"}
	smtp := map[string]string{"REKINDLE_SMTP_HOST": "smtp.example.org", "REKINDLE_SMTP_USERNAME": "u", "REKINDLE_SMTP_PASSWORD": "p"}
	with := func(base map[string]string, kv ...string) map[string]string {
		m := map[string]string{}
		for k, v := range base {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, c := range []struct {
		env        map[string]string
		name, want string
	}{
		{with(twilio, "TWILIO_AUTH_TOKEN", ""), "TWILIO_AUTH_TOKEN", "Twilio signs every webhook"},
		{with(twilio, "TWILIO_AUTH_TOKEN", "", "TWILIO_API_KEY", "SK01", "TWILIO_API_SECRET", "s3cret"), "TWILIO_AUTH_TOKEN", "also when TWILIO_API_KEY sends"},
		{with(twilio, "REKINDLE_TWILIO_FROM", ""), "REKINDLE_TWILIO_FROM", "REKINDLE_TWILIO_MESSAGING_SERVICE_SID"},
		{with(twilio, "TWILIO_API_KEY", "SK01"), "TWILIO_API_SECRET", "required with TWILIO_API_KEY"},
		{with(twilio, "TWILIO_API_SECRET", "s3cret"), "TWILIO_API_KEY", "required with TWILIO_API_SECRET"},
		{with(twilio, "TWILIO_ACCOUNT_SID", "my-account"), "TWILIO_ACCOUNT_SID", "AC followed by"},
		{with(twilio, "REKINDLE_TWILIO_FROM", "", "REKINDLE_TWILIO_MESSAGING_SERVICE_SID", "service"), "REKINDLE_TWILIO_MESSAGING_SERVICE_SID", "MG followed by"},
		{with(smtp, "REKINDLE_SMTP_PASSWORD", ""), "REKINDLE_SMTP_PASSWORD", "required with REKINDLE_SMTP_USERNAME"},
		{with(smtp, "REKINDLE_SMTP_USERNAME", ""), "REKINDLE_SMTP_USERNAME", "required with REKINDLE_SMTP_PASSWORD"},
		{with(smtp, "REKINDLE_SMTP_TLS", "none"), "REKINDLE_SMTP_TLS", "in clear to smtp.example.org"},
		{with(smtp, "REKINDLE_SMTP_HOST", "smtp.example.org:587"), "REKINDLE_SMTP_HOST", "without scheme or port"},
	} {
		_, _, err := Load(env(c.env), nil)
		var ce *Error
		if !errors.As(err, &ce) || ce.Name != c.name || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: got %v, want an error naming %s with %q", c.env, err, c.name, c.want)
		}
		if err != nil && (strings.Contains(err.Error(), "s3cret") || strings.Contains(err.Error(), "tok3n")) {
			t.Errorf("the error quotes a secret: %v", err)
		}
	}
	for _, ok := range []map[string]string{
		twilio, smtp,
		with(twilio, "REKINDLE_TWILIO_FROM", "", "REKINDLE_TWILIO_MESSAGING_SERVICE_SID", "MG0123456789abcdef0123456789abcdef"),
		with(twilio, "TWILIO_API_KEY", "SK01", "TWILIO_API_SECRET", "s3cret"),
		with(smtp, "REKINDLE_SMTP_HOST", "127.0.0.1", "REKINDLE_SMTP_TLS", "none"),
		{"REKINDLE_SMTP_HOST": "mail.internal", "REKINDLE_SMTP_TLS": "none"},
		// No provider: what is set for one is not checked.
		{"TWILIO_AUTH_TOKEN": "tok3n", "REKINDLE_SMTP_PASSWORD": "p"},
	} {
		if _, _, err := Load(env(ok), nil); err != nil {
			t.Errorf("%v: %v", ok, err)
		}
	}
}

// The key that signs links is 32 characters at least, as documented; the
// error does not repeat it.
func TestSecretKeyLength(t *testing.T) {
	_, _, err := Load(env(map[string]string{"REKINDLE_SECRET_KEY": strings.Repeat("k", 31)}), nil)
	var ce *Error
	if !errors.As(err, &ce) || ce.Name != "REKINDLE_SECRET_KEY" || !strings.Contains(err.Error(), "at least 32 characters") ||
		strings.Contains(err.Error(), "kkkk") {
		t.Errorf("31 characters: %v", err)
	}
	if _, _, err := Load(env(map[string]string{"REKINDLE_SECRET_KEY": strings.Repeat("k", 32)}), nil); err != nil {
		t.Errorf("32 characters: %v", err)
	}
}

// One run names every setting to fix: two values refused on their own and a
// provider configured halfway are reported together, one line each, each
// naming its variable; a rule about a refused setting does not name it twice.
func TestEveryBadSettingIsReportedAtOnce(t *testing.T) {
	_, _, err := Load(env(map[string]string{
		"REKINDLE_TICK": "often", "REKINDLE_SMTP_TLS": "ssl",
		"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef", "REKINDLE_TWILIO_FROM": "+12025550100",
		"REKINDLE_SMTP_HOST": "smtp.example.org", "REKINDLE_SMTP_USERNAME": "u",
	}), nil)
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	for _, name := range []string{"REKINDLE_TICK", "REKINDLE_SMTP_TLS", "TWILIO_AUTH_TOKEN", "REKINDLE_SMTP_PASSWORD"} {
		n := 0
		for _, l := range lines {
			if strings.HasPrefix(l, "config: "+name+":") {
				n++
			}
		}
		if n != 1 {
			t.Errorf("%s named on %d lines, want 1:\n%s", name, n, err)
		}
	}
	if len(lines) != 4 {
		t.Errorf("%d lines, want one for each of the 4 bad settings:\n%s", len(lines), err)
	}
}
