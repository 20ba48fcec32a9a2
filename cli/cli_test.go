package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/internal/testdb"
)

func run(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, &out, &errb, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	return code, out.String(), errb.String()
}

func TestProgramsValidateShipped(t *testing.T) {
	code, out, errs := run(t, nil, "programs", "validate")
	if code != 0 || !strings.Contains(out, "ok: 1 program(s) valid") {
		t.Fatalf("exit %d\n%s\n%s", code, out, errs)
	}
	if strings.Contains(out, "warning:") {
		t.Fatalf("the shipped program has SMS over one segment:\n%s", out)
	}
}

func TestProgramsValidateBrokenNamesFileAndLine(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(dir+"/bad", 0o755)
	os.WriteFile(dir+"/bad/program.yaml", []byte("slug: bad\ntitle: Bad\nversion: \"1\"\nphases: [{key: a, title: A}]\ntracks:\n  - key: main\n    steps:\n      - {key: s, phase: a, kind: lesson, day: 0, at: \"09:00\", channels: [email], content: nope.md}\n"), 0o644)
	code, _, errs := run(t, nil, "programs", "validate", dir)
	if code != 1 || !strings.Contains(errs, "bad/program.yaml:8: steps[s].content: nope.md: file not found") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

func TestTimelineJSON(t *testing.T) {
	code, out, errs := run(t, nil, "programs", "timeline", "rekindle", "--tz", "America/New_York", "--start", "2026-03-05", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	lessons := 0
	var prev string
	for _, l := range lines {
		var e map[string]string
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		for _, k := range []string{"step", "phase", "channel", "local", "utc"} {
			if e[k] == "" {
				t.Fatalf("line lacks %s: %s", k, l)
			}
		}
		if e["utc"] < prev {
			t.Fatalf("timeline out of order at %s", l)
		}
		prev = e["utc"]
		if e["channel"] == "email" && strings.HasPrefix(e["step"], "lesson-") {
			lessons++
			if !strings.Contains(e["local"], "T09:00:00") {
				t.Fatalf("email lesson not at 09:00 local: %s", l)
			}
		}
		if e["channel"] == "sms" {
			hh := e["local"][11:13]
			if hh >= "21" || hh < "08" {
				t.Fatalf("SMS inside quiet hours: %s", l)
			}
		}
	}
	if lessons < 24 {
		t.Fatalf("%d email lessons, want at least 24", lessons)
	}
}

func TestUsageAndBadInput(t *testing.T) {
	if code, _, _ := run(t, nil, "nonsense"); code != 2 {
		t.Fatalf("unknown command: exit %d, want 2", code)
	}
	if code, _, errs := run(t, nil, "programs", "timeline", "rekindle", "--tz", "Mars/Base", "--start", "2026-01-01"); code != 1 || !strings.Contains(errs, "--tz") {
		t.Fatalf("bad zone: exit %d %s", code, errs)
	}
	if code, _, errs := run(t, map[string]string{"REKINDLE_TICK": "often"}, "config"); code != 1 || !strings.Contains(errs, "REKINDLE_TICK") {
		t.Fatalf("bad config: exit %d %s", code, errs)
	}
}

func TestEnrollStatusPauseAgainstPostgres(t *testing.T) {
	dsn := testdb.New(t)
	env := map[string]string{"DATABASE_URL": dsn}
	if code, out, errs := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	if code, _, errs := run(t, env, "enroll", "--program", "rekindle", "--email", "not-an-address", "--tz", "Europe/Lisbon"); code != 1 || !strings.Contains(errs, "--email") {
		t.Fatalf("bad email: %d %s", code, errs)
	}
	code, out, errs := run(t, env, "enroll", "--program", "rekindle", "--email", "Ana@Example.org", "--phone", "+351912345678", "--tz", "Europe/Lisbon", "--name", "Ana")
	if code != 0 || !strings.Contains(out, "enrolled") {
		t.Fatalf("enroll: %d %s %s", code, out, errs)
	}
	if code, _, errs := run(t, env, "enroll", "--program", "rekindle", "--email", "ana@example.org", "--tz", "Europe/Lisbon"); code != 1 || !strings.Contains(errs, "already enrolled") {
		t.Fatalf("second enroll: %d %s", code, errs)
	}
	if code, _, errs := run(t, env, "enroll", "--program", "rekindle", "--email", "bo@example.org", "--tz", "Nowhere/City"); code != 1 || !strings.Contains(errs, "--tz") {
		t.Fatalf("bad tz: %d %s", code, errs)
	}
	if code, out, _ := run(t, env, "pause", "--email", "ana@example.org"); code != 0 || !strings.Contains(out, "pause: rekindle") {
		t.Fatalf("pause: %d %s", code, out)
	}
	code, out, _ = run(t, env, "status", "--json")
	var st struct {
		Enrollments []struct {
			Program, Status string
			N               int
		}
	}
	if code != 0 || json.Unmarshal([]byte(out), &st) != nil || len(st.Enrollments) != 1 || st.Enrollments[0].Status != "paused" {
		t.Fatalf("status: %d %s", code, out)
	}
	if code, _, _ := run(t, env, "resume", "--email", "ana@example.org"); code != 0 {
		t.Fatal("resume failed")
	}
	if code, _, _ := run(t, env, "unenroll", "--phone", "+351912345678"); code != 0 {
		t.Fatal("unenroll by phone failed")
	}
}

// The binary reads the environment as it is: REKINDLE_QUIET_HOURS set to
// nothing turns SMS quiet hours off (unset keeps 21:00-08:00), and a region
// code phone numbers cannot be read with is refused, naming it.
func TestConfigReadsTheEnvironmentAsSet(t *testing.T) {
	code, out, errs := run(t, map[string]string{"REKINDLE_QUIET_HOURS": ""}, "config")
	if code != 0 || !strings.Contains(out, "REKINDLE_QUIET_HOURS=\t# env") {
		t.Fatalf("empty quiet hours: exit %d\n%s%s", code, out, errs)
	}
	code, out, errs = run(t, nil, "config")
	if code != 0 || !strings.Contains(out, "REKINDLE_QUIET_HOURS=21:00-08:00\t# default") {
		t.Fatalf("unset quiet hours: exit %d\n%s%s", code, out, errs)
	}
	code, _, errs = run(t, map[string]string{"REKINDLE_DEFAULT_REGION": "gb"}, "config")
	if code != 1 || !strings.Contains(errs, `REKINDLE_DEFAULT_REGION: "gb"`) || !strings.Contains(errs, `"GB"`) {
		t.Fatalf("region gb: exit %d: %s", code, errs)
	}
}

// An opt-out the operator received by mail is recorded as the person's own:
// the address is suppressed and its consent revoked; the programs go on by
// text until the number is unsubscribed too; an address not on file is
// suppressed all the same.
func TestUnsubscribeRecordsAnOptOut(t *testing.T) {
	dsn := testdb.New(t)
	env := map[string]string{"DATABASE_URL": dsn}
	if code, out, errs := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	if code, out, errs := run(t, env, "enroll", "--program", "rekindle", "--email", "uma@example.org", "--phone", "+351912345679", "--tz", "Europe/Lisbon"); code != 0 {
		t.Fatalf("enroll: %d %s %s", code, out, errs)
	}
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	count := func(q string) int {
		t.Helper()
		var n int
		if err := db.Get(&n, q); err != nil {
			t.Fatal(err)
		}
		return n
	}
	code, out, errs := run(t, env, "unsubscribe", "--email", "Uma@example.org")
	if code != 0 || !strings.Contains(out, "1 program(s) still running") {
		t.Fatalf("unsubscribe --email: %d %s %s", code, out, errs)
	}
	if count(`SELECT count(*) FROM suppressions WHERE channel = 'email' AND address = 'uma@example.org'`) != 1 ||
		count(`SELECT count(*) FROM subscribers WHERE email_status = 'revoked' AND sms_status = 'confirmed'`) != 1 ||
		count(`SELECT count(*) FROM consents WHERE channel = 'email' AND action = 'revoked' AND source = 'operator'`) != 1 ||
		count(`SELECT count(*) FROM enrollments WHERE status = 'active'`) != 1 {
		t.Fatal("after unsubscribe --email: want the email suppressed and revoked, the texts and the program going on")
	}
	if code, out, errs := run(t, env, "unsubscribe", "--phone", "+351912345679"); code != 0 || !strings.Contains(out, "0 program(s)") {
		t.Fatalf("unsubscribe --phone: %d %s %s", code, out, errs)
	}
	if count(`SELECT count(*) FROM enrollments WHERE status = 'unenrolled'`) != 1 {
		t.Fatal("no channel left, but the program still runs")
	}
	if code, out, errs := run(t, env, "unsubscribe", "--email", "stranger@example.org"); code != 0 || !strings.Contains(out, "not on file") {
		t.Fatalf("unsubscribe a stranger: %d %s %s", code, out, errs)
	}
	if count(`SELECT count(*) FROM suppressions WHERE address = 'stranger@example.org'`) != 1 {
		t.Fatal("an address not on file was not suppressed")
	}
}
