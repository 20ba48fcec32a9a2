package config

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestDefaultsAndOverrides(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	Flags(fs)
	if err := fs.Parse([]string{"--tick", "2s"}); err != nil {
		t.Fatal(err)
	}
	c, src, err := Load(env(map[string]string{"REKINDLE_TICK": "5s", "REKINDLE_SMS_RATE": "3"}), fs)
	if err != nil {
		t.Fatal(err)
	}
	if c.Tick.String() != "2s" || src["REKINDLE_TICK"] != "flag" {
		t.Fatalf("a flag overrides the environment: %v from %s", c.Tick, src["REKINDLE_TICK"])
	}
	if c.SMSRate != 3 || c.EmailRate != 10 || c.QuietHours != "21:00-08:00" || !c.AutoMigrate {
		t.Fatalf("env and defaults: %+v", c)
	}
}

func TestBadValueNamesTheVariable(t *testing.T) {
	for name, val := range map[string]string{
		"REKINDLE_TICK": "soon", "REKINDLE_SMTP_TLS": "ssl", "REKINDLE_QUIET_HOURS": "9pm-8am",
		"REKINDLE_SMTP_PORT": "70000", "REKINDLE_BASE_URL": "example.org", "REKINDLE_SECRET_KEY": "short",
	} {
		_, _, err := Load(env(map[string]string{name: val}), nil)
		var ce *Error
		if !errors.As(err, &ce) || ce.Name != name {
			t.Errorf("%s=%s: got %v, want an error naming %s", name, val, err, name)
		}
	}
}

func TestSecretsFromFileAndCredentialAreMasked(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("hunter2-smtp\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "secret-key"), []byte("credential-secret-0123456789"), 0o600)
	e := env(map[string]string{"REKINDLE_SMTP_PASSWORD_FILE": filepath.Join(dir, "pw"), "CREDENTIALS_DIRECTORY": dir})
	c, src, err := Load(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPPassword != "hunter2-smtp" || src["REKINDLE_SMTP_PASSWORD"] != "file" {
		t.Fatalf("password from file: %q (%s)", c.SMTPPassword, src["REKINDLE_SMTP_PASSWORD"])
	}
	if c.SecretKey != "credential-secret-0123456789" || src["REKINDLE_SECRET_KEY"] != "credential" {
		t.Fatalf("secret key from credential: %q", c.SecretKey)
	}
	var out bytes.Buffer
	if err := Print(&out, e, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "hunter2") || strings.Contains(out.String(), "credential-secret") {
		t.Fatalf("a secret leaked into the printed config:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "REKINDLE_SMTP_PASSWORD=********") {
		t.Fatalf("masked secret missing:\n%s", out.String())
	}
}
