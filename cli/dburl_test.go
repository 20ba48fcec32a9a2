package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A DATABASE_URL that cannot be used is named in the error, and its
// password never shown: neither by serve, demo and the admin commands
// checking it, nor by the driver quoting it.
func TestDatabaseURLPasswordNeverInErrors(t *testing.T) {
	const pw = "hunter2-pw"
	urls := []string{
		"postgres://root:" + pw + "@h:notaport/x",                   // does not parse
		"postgres://root:" + pw + "@127.0.0.1:5432/x?sslmode=bogus", // the driver refuses it
		"host=127.0.0.1 password=" + pw + " dbname=x sslmode=bogus", // the same as settings
		"host=127.0.0.1 password=" + pw + " dbname=x stray",         // the driver quotes the rest
	}
	cmds := [][]string{
		{"serve"}, {"demo"}, {"status"}, {"migrate"}, {"config"},
		{"enroll", "--program", "rekindle", "--email", "a@example.org", "--tz", "UTC"},
		{"subscribers", "show", "--email", "a@example.org"},
		{"pause", "--email", "a@example.org"},
	}
	for _, u := range urls {
		for _, args := range cmds {
			code, out, errs := run(t, map[string]string{"DATABASE_URL": u}, args...)
			if args[0] == "config" && code == 0 {
				if strings.Contains(out, pw) {
					t.Errorf("config with %q printed the password:\n%s", u, out)
				}
				continue
			}
			if code != 1 || strings.Contains(out+errs, pw) {
				t.Errorf("%s with DATABASE_URL %q: exit %d, want 1 without the password: %s%s", args[0], u, code, out, errs)
			}
		}
		for _, args := range [][]string{{"demo", "--database-url", u}, {"status", "--database-url", u}} {
			code, out, errs := run(t, nil, args...)
			if code != 1 || strings.Contains(out+errs, pw) {
				t.Errorf("%s --database-url %q: exit %d, want 1 without the password: %s%s", args[0], u, code, out, errs)
			}
		}
	}
	// A URL that does not parse is refused naming the setting.
	code, _, errs := run(t, map[string]string{"DATABASE_URL": urls[0]}, "serve")
	if code != 1 || !strings.Contains(errs, "DATABASE_URL") || !strings.Contains(errs, "invalid port") {
		t.Errorf("serve: exit %d: %s; want DATABASE_URL named with the reason", code, errs)
	}
}

// demo takes DATABASE_URL wherever the configuration finds it, a systemd
// credential too, and makes its database on that server.
func TestDemoUsesTheConfiguredDatabaseURL(t *testing.T) {
	dir := t.TempDir()
	const pw = "cred-pw-0451"
	// Nothing listens on port 1: the demo must try there, not the default.
	if err := os.WriteFile(filepath.Join(dir, "database-url"), []byte("postgres://u:"+pw+"@127.0.0.1:1/x?sslmode=disable\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"CREDENTIALS_DIRECTORY": dir}
	code, out, errs := run(t, env, "demo")
	if code != 1 || !strings.Contains(errs, "connect to PostgreSQL") || strings.Contains(out+errs, pw) {
		t.Fatalf("demo: exit %d: %s%s; want a connection error without the password", code, out, errs)
	}
	code, out, errs = run(t, env, "config")
	if code != 0 || !strings.Contains(out, "DATABASE_URL=postgres://u:********@127.0.0.1:1/x?sslmode=disable\t# credential") {
		t.Fatalf("config: exit %d: %s%s", code, out, errs)
	}
}

// --database-url stands in for DATABASE_URL: a bad value in the environment
// does not stop demo or bench given a good one, and it is the flag's server
// they try.
func TestDatabaseURLFlagOverridesABadEnvironment(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://root:pw@h:notaport/x"}
	for _, cmd := range []string{"demo", "bench"} {
		code, out, errs := run(t, env, cmd, "--database-url", "postgres://u@127.0.0.1:1/x?sslmode=disable")
		if code != 1 || strings.Contains(errs, "invalid port") || !strings.Contains(errs, "127.0.0.1:1") {
			t.Errorf("%s --database-url: exit %d: %s%s; want the flag's server tried, not the environment's refused", cmd, code, out, errs)
		}
	}
}
