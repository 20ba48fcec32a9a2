package config

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nyaruka/phonenumbers"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// lookup is env with os.LookupEnv's semantics: a key in m is set, even to "".
func lookup(m map[string]string) Lookup {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

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
		"REKINDLE_DEFAULT_REGION":  "UK",
		"REKINDLE_TRUSTED_PROXIES": "10.0.0.0/33",
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
	os.WriteFile(filepath.Join(dir, "secret-key"), []byte("credential-secret-0123456789abcdef"), 0o600)
	e := env(map[string]string{"REKINDLE_SMTP_PASSWORD_FILE": filepath.Join(dir, "pw"), "CREDENTIALS_DIRECTORY": dir})
	c, src, err := Load(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTPPassword != "hunter2-smtp" || src["REKINDLE_SMTP_PASSWORD"] != "file" {
		t.Fatalf("password from file: %q (%s)", c.SMTPPassword, src["REKINDLE_SMTP_PASSWORD"])
	}
	if c.SecretKey != "credential-secret-0123456789abcdef" || src["REKINDLE_SECRET_KEY"] != "credential" {
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

func TestEmptyQuietHoursMeansNone(t *testing.T) {
	e := lookup(map[string]string{"REKINDLE_QUIET_HOURS": ""})
	c, src, err := LoadLookup(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.QuietHours != "" || src["REKINDLE_QUIET_HOURS"] != "env" {
		t.Fatalf("REKINDLE_QUIET_HOURS= gave %q (%s), want none from env", c.QuietHours, src["REKINDLE_QUIET_HOURS"])
	}
	var out bytes.Buffer
	if err := PrintLookup(&out, e, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "REKINDLE_QUIET_HOURS=\t# env\n") {
		t.Fatalf("config prints other quiet hours than it uses:\n%s", out.String())
	}

	// The flag form, which always worked, prints what it uses too.
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	Flags(fs)
	if err := fs.Parse([]string{"--quiet-hours="}); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := PrintLookup(&out, lookup(nil), fs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "REKINDLE_QUIET_HOURS=\t# flag\n") {
		t.Fatalf("--quiet-hours= printed as:\n%s", out.String())
	}
}

func TestUnsetQuietHoursIsTheDefault(t *testing.T) {
	c, src, err := LoadLookup(lookup(map[string]string{"REKINDLE_EMAIL_QUIET_HOURS": ""}), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.QuietHours != "21:00-08:00" || src["REKINDLE_QUIET_HOURS"] != "default" {
		t.Fatalf("unset REKINDLE_QUIET_HOURS gave %q (%s), want the default 21:00-08:00", c.QuietHours, src["REKINDLE_QUIET_HOURS"])
	}
	if c.EmailQuietHours != "" {
		t.Fatalf("REKINDLE_EMAIL_QUIET_HOURS= gave %q, want none", c.EmailQuietHours)
	}
	// A plain getenv cannot tell empty from unset: Load keeps the default.
	if c, _, err := Load(env(map[string]string{"REKINDLE_QUIET_HOURS": ""}), nil); err != nil || c.QuietHours != "21:00-08:00" {
		t.Fatalf("Load with getenv: %+v, %v", c, err)
	}
}

func TestEmptyIsTheDefaultWhereEmptyIsNoValue(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "pw"), []byte("hunter2-smtp\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "secret-key"), []byte("credential-secret-0123456789abcdef"), 0o600)
	m := map[string]string{"REKINDLE_SMTP_PASSWORD_FILE": filepath.Join(dir, "pw"), "CREDENTIALS_DIRECTORY": dir}
	for _, v := range Table {
		if !v.EmptyOK {
			m[v.Name] = ""
		}
	}
	c, src, err := LoadLookup(lookup(m), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Table {
		if !v.EmptyOK && !v.Secret && src[v.Name] != "default" {
			t.Errorf("%s= came from %s, want the default", v.Name, src[v.Name])
		}
	}
	if c.Tick.String() != "10s" || c.DefaultRegion != "US" || c.SMSBrand != "Rekindle" || c.EmailFrom == "" || !c.AutoMigrate {
		t.Errorf("empty variables did not give the defaults: %+v", c)
	}
	if c.SMTPPassword != "hunter2-smtp" || src["REKINDLE_SMTP_PASSWORD"] != "file" {
		t.Errorf("REKINDLE_SMTP_PASSWORD= hid REKINDLE_SMTP_PASSWORD_FILE: %q (%s)", c.SMTPPassword, src["REKINDLE_SMTP_PASSWORD"])
	}
	if c.SecretKey != "credential-secret-0123456789abcdef" || src["REKINDLE_SECRET_KEY"] != "credential" {
		t.Errorf("REKINDLE_SECRET_KEY= hid the credential: %q (%s)", c.SecretKey, src["REKINDLE_SECRET_KEY"])
	}
}

func TestEmptyOKRowsAcceptEmpty(t *testing.T) {
	for _, v := range Table {
		if !v.EmptyOK {
			continue
		}
		if v.Secret {
			t.Errorf("%s: a secret's empty value must fall through to NAME_FILE and the credential", v.Name)
		}
		if err := v.set(&Config{}, ""); err != nil {
			t.Errorf("%s is EmptyOK but refuses empty: %v", v.Name, err)
		}
	}
}

func TestDefaultRegionIsChecked(t *testing.T) {
	for _, bad := range []string{"gb", "UK", "uk", "G", "GBR", " GB", "ZZ", "001"} {
		fs := flag.NewFlagSet("x", flag.ContinueOnError)
		Flags(fs)
		if err := fs.Parse([]string{"--default-region=" + bad}); err != nil {
			t.Fatal(err)
		}
		_, _, err := LoadLookup(lookup(nil), fs)
		var ce *Error
		if !errors.As(err, &ce) || ce.Name != "REKINDLE_DEFAULT_REGION" {
			t.Errorf("--default-region=%q: got %v, want an error naming REKINDLE_DEFAULT_REGION", bad, err)
			continue
		}
		if msg := err.Error(); !strings.Contains(msg, "REKINDLE_DEFAULT_REGION") || !strings.Contains(msg, fmt.Sprintf("%q", bad)) || !strings.Contains(msg, `"GB"`) {
			t.Errorf("--default-region=%q: %q should name the variable, the value and an example", bad, msg)
		}
	}
	// What `rekindle config` runs: it fails, naming the variable.
	if err := Print(io.Discard, env(map[string]string{"REKINDLE_DEFAULT_REGION": "gb"}), nil); err == nil || !strings.Contains(err.Error(), "REKINDLE_DEFAULT_REGION") {
		t.Errorf("config with REKINDLE_DEFAULT_REGION=gb: %v, want an error naming it", err)
	}

	for region, national := range map[string]string{"GB": "020 7946 0018", "DE": "030 123456", "US": "(201) 555-0123"} {
		c, _, err := Load(env(map[string]string{"REKINDLE_DEFAULT_REGION": region}), nil)
		if err != nil || c.DefaultRegion != region {
			t.Errorf("REKINDLE_DEFAULT_REGION=%s: %v, %v", region, c, err)
			continue
		}
		if _, err := phonenumbers.Parse(national, c.DefaultRegion); err != nil {
			t.Errorf("region %s refuses the national number %s: %v", region, national, err)
		}
	}
	if c, src, err := Load(env(nil), nil); err != nil || c.DefaultRegion != "US" || src["REKINDLE_DEFAULT_REGION"] != "default" {
		t.Errorf("unset REKINDLE_DEFAULT_REGION: %v, %v", c, err)
	}
}
