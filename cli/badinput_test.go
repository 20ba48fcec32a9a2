package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/lib/pq"

	"github.com/rekindle/rekindle/internal/testdb"
)

// badCommand is one command line with malformed input and what it must get.
type badCommand struct {
	name string
	args []string
	env  map[string]string // on top of DATABASE_URL and an empty outbox
	code int               // 2 usage, 1 error
	want string            // what the message must name: the flag, field or file
}

// TestBadInputCLI runs every command with malformed input against a real
// database holding one enrolled person: each exits 1 or 2 with one message
// naming the flag at fault, and no table gains or loses a row.
func TestBadInputCLI(t *testing.T) {
	env, db := sweepDB(t)

	broken := t.TempDir()
	os.MkdirAll(filepath.Join(broken, "bad"), 0o755)
	os.WriteFile(filepath.Join(broken, "bad", "program.yaml"), []byte("slug: bad\ntitle: Bad\nversion: \"1\"\nphases: [{key: a, title: A}]\ntracks:\n  - key: main\n    steps:\n      - {key: s, phase: a, kind: lesson, day: 0, at: \"09:00\", channels: [email], content: nope.md}\n"), 0o644)
	enroll := func(kv ...string) []string {
		flags := map[string]string{"--program": "rekindle", "--email": "bo@example.org", "--tz": "Europe/Lisbon"}
		args := []string{"enroll"}
		for i := 0; i+1 < len(kv); i += 2 {
			flags[kv[i]] = kv[i+1]
		}
		for _, k := range []string{"--program", "--email", "--phone", "--tz", "--name", "--start"} {
			if v, ok := flags[k]; ok && v != "<del>" {
				args = append(args, k, v)
			}
		}
		return args
	}
	known := []string{"--email", "ana@example.org"}
	nowhere := map[string]string{"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=2"}

	cases := []badCommand{
		{name: "no command", args: nil, code: 2, want: "usage"},
		{name: "unknown command", args: []string{"enrol"}, code: 2, want: `"enrol"`},

		{name: "enroll: no --program", args: enroll("--program", "<del>"), code: 2, want: "--program"},
		{name: "enroll: no --tz", args: enroll("--tz", "<del>"), code: 2, want: "--tz"},
		{name: "enroll: no contact", args: enroll("--email", "<del>"), code: 2, want: "--email or --phone"},
		{name: "enroll: unknown flag", args: append(enroll(), "--colour", "blue"), code: 2, want: "colour"},
		{name: "enroll: stray argument", args: append(enroll(), "sam@example.org"), code: 2, want: `"sam@example.org"`},
		{name: "enroll: bad email", args: enroll("--email", "not-an-address"), code: 1, want: "--email"},
		{name: "enroll: email with a NUL", args: enroll("--email", "bo\x00@example.org"), code: 1, want: "--email"},
		{name: "enroll: bad phone", args: enroll("--phone", "12345"), code: 1, want: "--phone"},
		{name: "enroll: unknown zone", args: enroll("--tz", "Nowhere/City"), code: 1, want: "--tz"},
		{name: "enroll: the server's Local zone", args: enroll("--tz", "Local"), code: 1, want: "--tz"},
		{name: "enroll: bad start", args: enroll("--start", "2026-13-45"), code: 1, want: "--start"},
		{name: "enroll: unknown program", args: enroll("--program", "nope"), code: 1, want: "--program"},
		{name: "enroll: name with a NUL", args: enroll("--name", "B\x00o"), code: 1, want: "--name"},
		{name: "enroll: name not UTF-8", args: enroll("--name", "B\xffo"), code: 1, want: "--name"},
		{name: "enroll: name with a newline", args: enroll("--name", "Bo\nDROP"), code: 1, want: "--name"},
		{name: "enroll: already enrolled", args: enroll("--email", "ana@example.org"), code: 1, want: "already enrolled"},

		{name: "pause: no contact", args: []string{"pause"}, code: 2, want: "--email or --phone"},
		{name: "pause: both contacts", args: []string{"pause", "--email", "ana@example.org", "--phone", "+351912345678"}, code: 2, want: "--email or --phone"},
		{name: "pause: bad email", args: []string{"pause", "--email", "ana at example.org"}, code: 1, want: "--email"},
		{name: "pause: bad phone", args: []string{"pause", "--phone", "call me"}, code: 1, want: "--phone"},
		{name: "pause: --days not a number", args: append([]string{"pause", "--days", "three"}, known...), code: 2, want: "-days"},
		{name: "pause: negative --days", args: append([]string{"pause", "--days", "-3"}, known...), code: 2, want: "--days"},
		{name: "pause: stray argument", args: append([]string{"pause"}, append(known, "now")...), code: 2, want: `"now"`},
		{name: "pause: nobody by that email", args: []string{"pause", "--email", "zed@example.org"}, code: 1, want: "no subscriber"},
		{name: "resume: no contact", args: []string{"resume"}, code: 2, want: "--email or --phone"},
		{name: "resume: --days is pause's", args: append([]string{"resume", "--days", "3"}, known...), code: 2, want: "-days"},
		{name: "resume: bad phone", args: []string{"resume", "--phone", "+1"}, code: 1, want: "--phone"},
		{name: "resume: nothing paused", args: append([]string{"resume"}, known...), code: 1, want: "nothing to resume"},
		{name: "unenroll: no contact", args: []string{"unenroll"}, code: 2, want: "--email or --phone"},
		{name: "unenroll: bad email", args: []string{"unenroll", "--email", "@example.org"}, code: 1, want: "--email"},
		{name: "unenroll: stray argument", args: append([]string{"unenroll"}, append(known, "oops")...), code: 2, want: `"oops"`},

		{name: "status: --json=maybe", args: []string{"status", "--json=maybe"}, code: 2, want: "-json"},
		{name: "status: unknown flag", args: []string{"status", "--verbose"}, code: 2, want: "-verbose"},
		{name: "status: bad --database-url", args: []string{"status", "--database-url", "mysql://nope"}, code: 1, want: "database"},

		{name: "migrate: unknown flag", args: []string{"migrate", "--down"}, code: 2, want: "-down"},
		{name: "migrate: bad --database-url", args: []string{"migrate", "--database-url", "::not a url"}, code: 1, want: "database"},

		{name: "programs: no subcommand", args: []string{"programs"}, code: 2, want: "validate"},
		{name: "programs: unknown subcommand", args: []string{"programs", "lint"}, code: 2, want: `"lint"`},
		{name: "programs validate: no such folder", args: []string{"programs", "validate", filepath.Join(broken, "missing")}, code: 1, want: "missing"},
		{name: "programs validate: broken program", args: []string{"programs", "validate", broken}, code: 1, want: "bad/program.yaml:8: steps[s].content: nope.md: file not found"},
		{name: "programs timeline: no --tz", args: []string{"programs", "timeline", "rekindle", "--start", "2026-03-05"}, code: 2, want: "--tz"},
		{name: "programs timeline: unknown zone", args: []string{"programs", "timeline", "rekindle", "--tz", "Mars/Base", "--start", "2026-03-05"}, code: 1, want: "--tz"},
		{name: "programs timeline: bad start", args: []string{"programs", "timeline", "rekindle", "--tz", "UTC", "--start", "03/05/2026"}, code: 1, want: "--start"},
		{name: "programs timeline: bad channels", args: []string{"programs", "timeline", "rekindle", "--tz", "UTC", "--start", "2026-03-05", "--channels", "email,fax"}, code: 1, want: "--channels"},
		{name: "programs timeline: unknown program", args: []string{"programs", "timeline", "nope", "--tz", "UTC", "--start", "2026-03-05"}, code: 1, want: `"nope"`},
		{name: "programs preview: no step", args: []string{"programs", "preview", "rekindle"}, code: 2, want: "STEP"},
		{name: "programs preview: unknown step", args: []string{"programs", "preview", "rekindle", "lesson-99"}, code: 1, want: `"lesson-99"`},
		{name: "programs preview: bad channel", args: []string{"programs", "preview", "rekindle", "lesson-01", "--channel", "fax"}, code: 2, want: "--channel"},

		{name: "send-test: no address", args: []string{"send-test"}, code: 2, want: "--email or --phone"},
		{name: "send-test: both", args: []string{"send-test", "--email", "a@example.org", "--phone", "+351912345678"}, code: 2, want: "--email or --phone"},
		{name: "send-test: bad email", args: []string{"send-test", "--email", "a@"}, code: 1, want: "--email"},
		{name: "send-test: bad phone", args: []string{"send-test", "--phone", "555"}, code: 1, want: "--phone"},

		{name: "config: bad environment value", args: []string{"config"}, env: map[string]string{"REKINDLE_TICK": "often"}, code: 1, want: "REKINDLE_TICK"},
		{name: "config: bad flag value", args: []string{"config", "--smtp-tls", "sometimes"}, code: 1, want: "REKINDLE_SMTP_TLS"},
		{name: "config: unknown flag", args: []string{"config", "--colour"}, code: 2, want: "-colour"},

		{name: "demo: zero speed", args: []string{"demo", "--speed", "0"}, code: 2, want: "--speed"},
		{name: "demo: speed not a number", args: []string{"demo", "--speed", "fast"}, code: 2, want: "-speed"},
		{name: "demo: bad replies", args: []string{"demo", "--replies", "mood"}, code: 1, want: "--replies"},
		// The demo makes its own database on DATABASE_URL's server: an unreachable
		// one proves bad flags are refused before anything is created.
		{name: "demo: unknown zone", args: []string{"demo", "--tz", "Mars/Base"}, env: nowhere, code: 1, want: "--tz"},
		{name: "demo: bad email", args: []string{"demo", "--email", "demo"}, env: nowhere, code: 1, want: "--email"},
		{name: "demo: bad phone", args: []string{"demo", "--phone", "12"}, env: nowhere, code: 1, want: "--phone"},
		{name: "demo: name with a NUL", args: []string{"demo", "--name", "S\x00m"}, env: nowhere, code: 1, want: "--name"},
		{name: "demo: bad timeout", args: []string{"demo", "--timeout", "soon"}, code: 2, want: "-timeout"},

		{name: "serve: unknown flag", args: []string{"serve", "--port", "80"}, code: 2, want: "-port"},
		{name: "serve: bad tick", args: []string{"serve", "--tick", "often"}, code: 1, want: "REKINDLE_TICK"},
		{name: "serve: bad base URL", args: []string{"serve", "--base-url", "rekindle.example.org"}, code: 1, want: "REKINDLE_BASE_URL"},
		{name: "serve: short secret key", args: []string{"serve"}, env: map[string]string{"REKINDLE_SECRET_KEY": "short"}, code: 1, want: "REKINDLE_SECRET_KEY"},
	}
	cases = append(cases, []badCommand{
		{name: "subscribers: no subcommand", args: []string{"subscribers"}, code: 2, want: "show"},
		{name: "subscribers: unknown subcommand", args: []string{"subscribers", "delete", "--id", "1"}, code: 2, want: `"delete"`},
		{name: "subscribers: nobody named", args: []string{"subscribers", "show"}, code: 2, want: "--email, --phone or --id"},
		{name: "subscribers: negative id", args: []string{"subscribers", "show", "--id", "-1"}, code: 2, want: "--id"},
		{name: "subscribers: id not a number", args: []string{"subscribers", "show", "--id", "one"}, code: 2, want: "-id"},
		{name: "subscribers: --yes on show", args: []string{"subscribers", "show", "--id", "1", "--yes"}, code: 2, want: "--yes"},
		{name: "subscribers: bad email", args: []string{"subscribers", "erase", "--email", "x", "--yes"}, code: 1, want: "--email"},
		{name: "subscribers: erase nobody", args: []string{"subscribers", "erase", "--email", "zed@example.org", "--yes"}, code: 1, want: "--email"},

		{name: "programs migrate: no --from", args: []string{"programs", "migrate", "--to", "1"}, code: 2, want: "--from"},
		{name: "programs migrate: bad --map", args: []string{"programs", "migrate", "--from", "1", "--to", "2", "--map", "lesson-01"}, want: "--map"},
		{name: "programs migrate: no such version", args: []string{"programs", "migrate", "--from", "999", "--to", "1"}, code: 1, want: "--from"},
		{name: "programs versions: stray flag", args: []string{"programs", "versions", "--all"}, code: 2, want: "-all"},

		{name: "bench: negative enrollments", args: []string{"bench", "--enrollments", "-5"}, code: 2, want: "enrollments"},
		{name: "bench: stray argument", args: []string{"bench", "fast"}, code: 2, want: `"fast"`},
		{name: "bench: unknown flag", args: []string{"bench", "--turbo"}, code: 2, want: "-turbo"},
	}...)

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := map[string]string{"DATABASE_URL": env["DATABASE_URL"], "REKINDLE_OUTBOX_DIR": t.TempDir(), "REKINDLE_LOG_LEVEL": "error"}
			for k, v := range c.env {
				e[k] = v
			}
			before := testdb.RowCounts(t, db)
			code, out, errs := run(t, e, c.args...)
			if c.code != 0 && code != c.code || c.code == 0 && code != 1 && code != 2 {
				t.Errorf("exit %d, want %d\nstdout: %s\nstderr: %s", code, c.code, out, errs)
			}
			if !strings.Contains(errs, c.want) {
				t.Errorf("stderr does not name %q:\n%s", c.want, errs)
			}
			if c.code == 1 && strings.Count(strings.TrimSpace(errs), "\n") > 0 && !strings.Contains(c.want, ".yaml:") {
				t.Errorf("an error takes one line:\n%s", errs)
			}
			testdb.SameRows(t, c.name, before, testdb.RowCounts(t, db))
		})
	}
}
