package config

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// withFlags parses args into a flag set registered with Flags.
func withFlags(t *testing.T, args ...string) *flag.FlagSet {
	t.Helper()
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	Flags(fs)
	if err := fs.Parse(args); err != nil {
		t.Fatal(err)
	}
	return fs
}

// A flag given as "" is what an empty variable is: where empty means the
// default, the flag counts as not given (the environment, then the default
// applies), so --listen= does not listen on a random port of every
// interface. Where empty means none (--quiet-hours=), it still does.
func TestEmptyFlagIsLikeAnEmptyVariable(t *testing.T) {
	fs := withFlags(t, "--listen=", "--sms-brand=", "--outbox-dir=", "--default-region=", "--tick=", "--database-url=", "--quiet-hours=")
	var out bytes.Buffer
	if err := PrintLookup(&out, lookup(nil), fs); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"REKINDLE_LISTEN=127.0.0.1:8080\t# default\n", "REKINDLE_SMS_BRAND=Rekindle\t# default\n",
		"REKINDLE_OUTBOX_DIR=./outbox\t# default\n", "REKINDLE_DEFAULT_REGION=US\t# default\n",
		"REKINDLE_TICK=10s\t# default\n", "DATABASE_URL=postgres://postgres@127.0.0.1:5432/rekindle?sslmode=disable\t# default\n",
		"REKINDLE_QUIET_HOURS=\t# flag\n",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("config with empty flags: want %q in:\n%s", want, out.String())
		}
	}
	// The environment still applies under an empty flag, as it would under
	// no flag.
	c, src, err := LoadLookup(lookup(map[string]string{"REKINDLE_LISTEN": "10.0.0.1:9000", "REKINDLE_SMS_BRAND": "Kindle"}),
		withFlags(t, "--listen=", "--sms-brand="))
	if err != nil || c.Listen != "10.0.0.1:9000" || c.SMSBrand != "Kindle" || src["REKINDLE_LISTEN"] != "env" {
		t.Errorf("--listen= with REKINDLE_LISTEN set: %q %q (%s), %v", c.Listen, c.SMSBrand, src["REKINDLE_LISTEN"], err)
	}
	// --programs= does not hide --programs-dir, nor the other way round.
	if c, _, err := LoadLookup(lookup(nil), withFlags(t, "--programs-dir=", "--programs", "b")); err != nil || c.ProgramsDir != "b" {
		t.Errorf("--programs-dir= --programs b: %q, %v", c.ProgramsDir, err)
	}
}

// A bad value given as a flag is named by its variable and by the flag.
func TestBadFlagNamesTheFlag(t *testing.T) {
	_, _, err := LoadLookup(lookup(nil), withFlags(t, "--smtp-tls=ssl"))
	if err == nil || !strings.Contains(err.Error(), "REKINDLE_SMTP_TLS (--smtp-tls)") {
		t.Errorf("--smtp-tls=ssl: %v, want REKINDLE_SMTP_TLS (--smtp-tls) named", err)
	}
	_, _, err = LoadLookup(lookup(map[string]string{"TWILIO_ACCOUNT_SID": "AC0123", "TWILIO_AUTH_TOKEN": "tok3n"}),
		withFlags(t, "--twilio-from=0800 RING ME"))
	if err == nil || !strings.Contains(err.Error(), "REKINDLE_TWILIO_FROM (--twilio-from)") || strings.Contains(err.Error(), "tok3n") {
		t.Errorf("--twilio-from with a bad number: %v, want REKINDLE_TWILIO_FROM (--twilio-from) named", err)
	}
}

// refused loads m and wants an error naming name and holding want.
func refused(t *testing.T, m map[string]string, name, want string) {
	t.Helper()
	_, _, err := LoadLookup(lookup(m), nil)
	if err == nil || !strings.Contains(err.Error(), "config: "+name+":") || !strings.Contains(err.Error(), want) {
		t.Errorf("%v: got %v, want an error naming %s with %q", m, err, name, want)
	}
}

func accepted(t *testing.T, m map[string]string) *Config {
	t.Helper()
	c, _, err := LoadLookup(lookup(m), nil)
	if err != nil {
		t.Errorf("%v: %v", m, err)
	}
	return c
}

func TestListenIsHostPort(t *testing.T) {
	for _, bad := range []string{"garbage", "8080", "127.0.0.1", "127.0.0.1:", "127.0.0.1:65536", "127.0.0.1:99999", "127.0.0.1:http",
		"127.0.0.1:-1", "127.0.0.1:+80", "local host:8080", "http://127.0.0.1:8080", "::1:8080", " 127.0.0.1:8080"} {
		refused(t, map[string]string{"REKINDLE_LISTEN": bad}, "REKINDLE_LISTEN", "want host:port with a port from 0 to 65535")
	}
	for _, ok := range []string{"127.0.0.1:8080", ":8080", "0.0.0.0:80", "[::1]:8080", "[::]:65535", "localhost:0", "rekindle.internal:8080"} {
		accepted(t, map[string]string{"REKINDLE_LISTEN": ok})
	}
}

func TestRatesAreFiniteAndSensible(t *testing.T) {
	for _, name := range []string{"REKINDLE_EMAIL_RATE", "REKINDLE_SMS_RATE"} {
		for _, bad := range []string{"NaN", "nan", "Inf", "+Inf", "-Inf", "infinity", "1e-300", "0.001", "0", "-1", "1e400", "2e6", "ten"} {
			refused(t, map[string]string{name: bad}, name, "a number from 0.01 (one every 100 seconds) to 1000000")
		}
		for _, ok := range []string{"0.01", "0.5", "1", "1000", "1e6"} {
			accepted(t, map[string]string{name: ok})
		}
	}
}

func TestTwilioSenderAndAPIKeyShapes(t *testing.T) {
	twilio := func(kv ...string) map[string]string {
		m := map[string]string{"TWILIO_ACCOUNT_SID": "AC0123456789abcdef0123456789abcdef", "TWILIO_AUTH_TOKEN": "tok3n",
			"REKINDLE_TWILIO_FROM": "+12025550100"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	for _, bad := range []string{"12025550100", "+1 202 555 0100", "+1-202-555-0100", "+0123456789", "+1234567", "+1234567890123456",
		"garbage!", "phone number", "Rekindle Ltd.", "0", "1234", "1234567", " Rekindle"} {
		refused(t, twilio("REKINDLE_TWILIO_FROM", bad), "REKINDLE_TWILIO_FROM", "E.164, + and 8 to 15 digits")
	}
	// An alphanumeric sender ID cannot be replied to: no YES, STOP or answer.
	for _, alpha := range []string{"Rekindle", "REKINDLE 2"} {
		refused(t, twilio("REKINDLE_TWILIO_FROM", alpha), "REKINDLE_TWILIO_FROM", "alphanumeric sender ID, which people cannot reply to")
	}
	for _, ok := range []string{"+12025550100", "+447911123456", "+49301234567", "12345", "123456",
		"MG0123456789abcdef0123456789abcdef"} {
		accepted(t, twilio("REKINDLE_TWILIO_FROM", ok))
	}
	// Not checked without Twilio, as the other Twilio settings.
	accepted(t, map[string]string{"REKINDLE_TWILIO_FROM": "garbage!"})

	refused(t, twilio("TWILIO_API_KEY", "AB0123456789", "TWILIO_API_SECRET", "s3cret"), "TWILIO_API_KEY", "SK followed by letters and digits")
	refused(t, twilio("TWILIO_API_KEY", "0123456789", "TWILIO_API_SECRET", "s3cret"), "TWILIO_API_KEY", "SK followed by letters and digits")
	accepted(t, twilio("TWILIO_API_KEY", "SK0123456789abcdef0123456789abcdef", "TWILIO_API_SECRET", "s3cret"))
}

func TestTemplatesDirMustBeAFolder(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "layout.html")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	refused(t, map[string]string{"REKINDLE_TEMPLATES_DIR": "/nonexistent/templates"}, "REKINDLE_TEMPLATES_DIR", `"/nonexistent/templates": no such folder`)
	refused(t, map[string]string{"REKINDLE_TEMPLATES_DIR": file}, "REKINDLE_TEMPLATES_DIR", "is a file, not a folder")
	if c := accepted(t, map[string]string{"REKINDLE_TEMPLATES_DIR": dir}); c != nil && c.TemplatesDir != dir {
		t.Errorf("REKINDLE_TEMPLATES_DIR=%s gave %q", dir, c.TemplatesDir)
	}
	accepted(t, map[string]string{"REKINDLE_TEMPLATES_DIR": ""})
}

// REKINDLE_SMTP_HOST is checked trimmed, so it is used and printed trimmed:
// a leading space would otherwise reach the SMTP dial.
func TestSMTPHostIsTrimmed(t *testing.T) {
	m := map[string]string{"REKINDLE_SMTP_HOST": " smtp.example.org\t"}
	if c := accepted(t, m); c != nil && c.SMTPHost != "smtp.example.org" {
		t.Errorf("REKINDLE_SMTP_HOST=%q gave %q", m["REKINDLE_SMTP_HOST"], c.SMTPHost)
	}
	var out bytes.Buffer
	if err := PrintLookup(&out, lookup(m), nil); err != nil || !strings.Contains(out.String(), "REKINDLE_SMTP_HOST=smtp.example.org\t# env\n") {
		t.Errorf("config printed %v:\n%s", err, out.String())
	}
	// Only spaces is no SMTP server, like empty.
	if c := accepted(t, map[string]string{"REKINDLE_SMTP_HOST": "  "}); c != nil && c.SMTPHost != "" {
		t.Errorf("REKINDLE_SMTP_HOST of spaces gave %q", c.SMTPHost)
	}
}

// Links are made by adding a path to REKINDLE_BASE_URL, so a query or a
// fragment in it would swallow the path.
func TestBaseURLHasNoQueryOrFragment(t *testing.T) {
	for _, bad := range []string{"https://example.org/path?x=1", "https://example.org/#top", "https://example.org?", "http://127.0.0.1:8080/?a=b#c"} {
		refused(t, map[string]string{"REKINDLE_BASE_URL": bad}, "REKINDLE_BASE_URL", "without a query (?...) or fragment (#...)")
	}
	for _, ok := range []string{"https://example.org", "https://example.org/path/", "http://127.0.0.1:8080"} {
		accepted(t, map[string]string{"REKINDLE_BASE_URL": ok})
	}
}

// The same start and end could mean all day or never; the error says how
// to turn quiet hours off.
func TestQuietHoursStartAndEndDiffer(t *testing.T) {
	refused(t, map[string]string{"REKINDLE_QUIET_HOURS": "08:00-08:00"}, "REKINDLE_QUIET_HOURS",
		"for no quiet hours set it to nothing (REKINDLE_QUIET_HOURS= or --quiet-hours=)")
	refused(t, map[string]string{"REKINDLE_EMAIL_QUIET_HOURS": "00:00-00:00"}, "REKINDLE_EMAIL_QUIET_HOURS",
		"for no quiet hours set it to nothing (REKINDLE_EMAIL_QUIET_HOURS= or --email-quiet-hours=)")
	accepted(t, map[string]string{"REKINDLE_QUIET_HOURS": "08:00-08:01", "REKINDLE_EMAIL_QUIET_HOURS": "22:00-07:00"})
}

// REKINDLE_SMS_BRAND starts every text: a character outside GSM-7 would
// make every text UCS-2, so it is refused here, naming the variable,
// rather than blamed on a lesson file when programs are checked.
func TestSMSBrandIsPlainAndShort(t *testing.T) {
	refused(t, map[string]string{"REKINDLE_SMS_BRAND": "Rekindle \u2013 Coaching"}, "REKINDLE_SMS_BRAND", "is not in the GSM-7 alphabet")
	refused(t, map[string]string{"REKINDLE_SMS_BRAND": "Rekindle Coaching from the Harbour Street team"}, "REKINDLE_SMS_BRAND", "at most 24")
	accepted(t, map[string]string{"REKINDLE_SMS_BRAND": "Harbour Street Coach"})
	accepted(t, map[string]string{})
}

// Characters from GSM-7's extension table ([ ] { } and others) take two
// septets each, so the brand's length is counted as SMS counts it.
func TestSMSBrandLengthCountsSeptets(t *testing.T) {
	refused(t, map[string]string{"REKINDLE_SMS_BRAND": "[Harbour] {Street} [Co]"}, "REKINDLE_SMS_BRAND", "as SMS counts them; at most 24")
}
