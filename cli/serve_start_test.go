package cli

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/fakesmtp"
	"github.com/rekindle/rekindle/internal/testdb"
)

// serveStart runs serve until it logs that it is serving (or exits), stops
// it, and returns its exit code and log. env gets a database, a listen
// address and an outbox unless it names its own.
func serveStart(t *testing.T, env map[string]string) (int, string) {
	t.Helper()
	for k, v := range map[string]string{"DATABASE_URL": testdb.New(t), "REKINDLE_LISTEN": freePort(t), "REKINDLE_OUTBOX_DIR": t.TempDir()} {
		if _, ok := env[k]; !ok {
			env[k] = v
		}
	}
	srv := serveInBackground(t, env)
	logs, cancel, exited := srv.logs, srv.cancel, srv.exited
	deadline := time.After(30 * time.Second)
	for !strings.Contains(logs.String(), "rekindle serving") {
		select {
		case code := <-exited:
			return code, logs.String()
		case <-deadline:
			t.Fatalf("serve neither served nor exited; log:\n%s", logs.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	return <-exited, logs.String()
}

// A real provider with links pointing at this machine is most likely a
// forgotten REKINDLE_BASE_URL: serve says so.
func TestServeWarnsOfALocalBaseURLWithARealProvider(t *testing.T) {
	smtp, err := fakesmtp.Start(fakesmtp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	provider := func(extra ...string) map[string]string {
		env := map[string]string{"REKINDLE_SMTP_HOST": smtp.Host(), "REKINDLE_SMTP_PORT": strconv.Itoa(smtp.Port()), "REKINDLE_SMTP_TLS": "none",
			"REKINDLE_SECRET_KEY": "serve-start-secret-0123456789abcdef"}
		for i := 0; i+1 < len(extra); i += 2 {
			env[extra[i]] = extra[i+1]
		}
		return env
	}
	const warning = "REKINDLE_BASE_URL points at this machine"
	for _, c := range []struct {
		name string
		env  map[string]string
		warn bool
	}{
		{"smtp, default base URL", provider(), true},
		{"smtp, localhost", provider("REKINDLE_BASE_URL", "http://localhost:8080"), true},
		{"smtp, public base URL", provider("REKINDLE_BASE_URL", "https://rekindle.example.org"), false},
		{"file channel, default base URL", map[string]string{}, false},
	} {
		code, log := serveStart(t, c.env)
		if code != 0 || strings.Contains(log, warning) != c.warn {
			t.Errorf("%s: exit %d, warned %v, want %v; log:\n%s", c.name, code, !c.warn, c.warn, log)
		}
	}
}

// Links are signed with REKINDLE_SECRET_KEY. Without it serve refuses to
// send through a real provider (links people receive would break at the
// next restart, and across instances), warns with the file channel, and
// the commands that sign nothing say nothing about it.
func TestSecretKeyNeededWhereLinksAreSigned(t *testing.T) {
	smtp, err := fakesmtp.Start(fakesmtp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close()
	code, log := serveStart(t, map[string]string{"REKINDLE_SMTP_HOST": smtp.Host(), "REKINDLE_SMTP_PORT": strconv.Itoa(smtp.Port()),
		"REKINDLE_SMTP_TLS": "none", "REKINDLE_BASE_URL": "https://rekindle.example.org"})
	if code != 1 || !strings.Contains(log, "REKINDLE_SECRET_KEY is not set") || !strings.Contains(log, "the same on every instance") {
		t.Errorf("serve with SMTP and no key: exit %d; log:\n%s", code, log)
	}
	code, log = serveStart(t, map[string]string{})
	if code != 0 || !strings.Contains(log, "REKINDLE_SECRET_KEY is not set") || !strings.Contains(log, "several instances") {
		t.Errorf("serve with the file channel and no key: exit %d; log:\n%s", code, log)
	}

	env := map[string]string{"DATABASE_URL": testdb.New(t)}
	for _, args := range [][]string{
		{"migrate"},
		{"enroll", "--program", "rekindle", "--email", "nokey@example.org", "--tz", "UTC"},
		{"pause", "--email", "nokey@example.org"},
		{"unsubscribe", "--email", "nokey@example.org"},
		{"status"},
	} {
		code, out, errs := run(t, env, args...)
		if code != 0 || strings.Contains(out+errs, "REKINDLE_SECRET_KEY") {
			t.Errorf("%s: exit %d: %s%s; want no word of the key", args[0], code, out, errs)
		}
	}
}

// A shutdown budget that does not fit in the unit's TimeoutStopSec=30s
// would end in SIGKILL mid-shutdown: serve says so at start, naming the
// setting.
func TestServeWarnsOfAShutdownTimeoutPastTheUnitsStopTimeout(t *testing.T) {
	const warning = "REKINDLE_SHUTDOWN_TIMEOUT=30s is not shorter than the unit's TimeoutStopSec=30s"
	code, log := serveStart(t, map[string]string{"REKINDLE_SHUTDOWN_TIMEOUT": "30s"})
	if code != 0 || !strings.Contains(log, warning) {
		t.Errorf("REKINDLE_SHUTDOWN_TIMEOUT=30s: exit %d; want a warning %q; log:\n%s", code, warning, log)
	}
	code, log = serveStart(t, map[string]string{"REKINDLE_SHUTDOWN_TIMEOUT": "29s"})
	if code != 0 || strings.Contains(log, "REKINDLE_SHUTDOWN_TIMEOUT") {
		t.Errorf("REKINDLE_SHUTDOWN_TIMEOUT=29s: exit %d; want no warning; log:\n%s", code, log)
	}
}
