package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/scheduler"
)

// smsProgram writes program p into dir/b (a folder of programs, as an
// operator keeps them): an email lesson, then an SMS-only nudge whose
// text is sms. It returns the folder of programs.
func smsProgram(t *testing.T, sms string) string {
	t.Helper()
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "b", "lessons"), 0o755)
	writeFile(t, filepath.Join(dir, "b", "program.yaml"), "slug: p\ntitle: P\nversion: \"1\"\nphases: [{key: a, title: A}]\ntracks:\n  - key: main\n    steps:\n"+
		"      - {key: lesson, phase: a, kind: lesson, day: 0, at: \"09:00\", channels: [email], content: lessons/1.md}\n"+
		"      - {key: nudge, phase: a, kind: lesson, day: 0, at: \"12:00\", channels: [sms], content: lessons/1.md}\n")
	setSMS(t, dir, sms)
	return dir
}

// setSMS rewrites the lesson of smsProgram with text as its SMS, on line 4.
func setSMS(t *testing.T, dir, sms string) {
	t.Helper()
	writeFile(t, filepath.Join(dir, "b", "lessons", "1.md"), "---\nsubject: Day one\npreheader: A start\nsms: \""+sms+"\"\n---\nHi {{.FirstName}}.\n")
}

func writeFile(t *testing.T, name, text string) {
	t.Helper()
	if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// One curly quote makes the SMS need UCS-2: validate fails, and so does
// every command that loads programs, naming the file, the sms field's line
// and the reason; nothing of it is used.
func TestProgramsLoadRefusesWhatValidateFails(t *testing.T) {
	dir := smsProgram(t, "It\u2019s day one. Notice what you feel today and give it a name.")
	want := filepath.Join(dir, "b", "lessons", "1.md") + ":4: sms: step nudge: needs UCS-2 because of \"\u2019\""
	code, _, errs := run(t, nil, "programs", "validate", dir)
	if code != 1 || !strings.Contains(errs, want) {
		t.Fatalf("validate: exit %d: %s\nwant %s", code, errs, want)
	}
	for _, args := range [][]string{
		{"programs", "preview", "p", "nudge", "--programs-dir", dir},
		{"programs", "timeline", "p", "--tz", "UTC", "--start", "2026-03-05", "--programs-dir", dir},
	} {
		if code, out, errs := run(t, nil, args...); code != 1 || !strings.Contains(errs, want) || out != "" {
			t.Errorf("%v: exit %d\nstdout: %s\nstderr: %s\nwant %s", args, code, out, errs, want)
		}
	}

	dsn := testdb.New(t)
	env := map[string]string{"DATABASE_URL": dsn, "REKINDLE_PROGRAMS_DIR": dir}
	if code, out, errs := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	code, out, errs := run(t, env, "enroll", "--program", "p", "--email", "ana@example.org", "--phone", "+351912345678", "--tz", "UTC")
	if code != 1 || !strings.Contains(errs, want) {
		t.Errorf("enroll: exit %d\nstdout: %s\nstderr: %s\nwant %s", code, out, errs, want)
	}
	db := sqlx.MustOpen("postgres", dsn)
	defer db.Close()
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM enrollments`); err != nil || n != 0 {
		t.Errorf("%d enrollments (%v), want none", n, err)
	}

	code, log := serveStart(t, map[string]string{"REKINDLE_PROGRAMS_DIR": dir})
	if code != 1 || !strings.Contains(log, want) {
		t.Errorf("serve: exit %d, want 1 naming the problem; log:\n%s", code, log)
	}
}

// wiredFor is the app serve runs, on a fresh database, with vars as its
// environment; its log is returned for the test to read.
func wiredFor(t *testing.T, vars map[string]string) (*app, *bytes.Buffer) {
	t.Helper()
	logs := &bytes.Buffer{}
	vars["DATABASE_URL"] = testdb.New(t)
	env := &Env{Stdout: logs, Stderr: logs, Lookup: func(k string) (string, bool) { v, ok := vars[k]; return v, ok }}
	cfg, err := loadConfig(env, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := wire(context.Background(), env, cfg, wireOptions{migrate: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	return a, logs
}

// On SIGHUP serve reloads programs through the same check: a program that
// does not validate is refused and the running ones stay.
func TestProgramsReloadRefusesWhatValidateFails(t *testing.T) {
	dir := smsProgram(t, "Day one. Notice what you feel today and give it a name.")
	ctx := context.Background()
	a, logs := wiredFor(t, map[string]string{"REKINDLE_PROGRAMS_DIR": dir})
	running := a.progs["p"]

	setSMS(t, dir, "It\u2019s day one. Notice what you feel today and give it a name.")
	a.reload(ctx)
	want := filepath.Join(dir, "b", "lessons", "1.md") + `:4: sms: step nudge: needs UCS-2`
	if a.progs["p"] != running || !strings.Contains(logs.String(), "reload refused") || !strings.Contains(logs.String(), want) {
		t.Fatalf("reload took a program that does not validate; log:\n%s", logs.String())
	}

	setSMS(t, dir, "Day one. Notice what you feel and name it.")
	a.reload(ctx)
	if a.progs["p"] == running || a.progs["p"].Content["lessons/1.md"].SMS != "Day one. Notice what you feel and name it." {
		t.Fatalf("a valid change was not reloaded; log:\n%s", logs.String())
	}
}

// The reload checks texts as this deployment sends them, with its own SMS
// brand in front: a text that fits two segments under the default brand but
// not under the configured one is refused on SIGHUP, as it would be at the
// next start.
func TestProgramsReloadChecksWithTheDeploymentsBrand(t *testing.T) {
	dir := smsProgram(t, "Day one. Notice what you feel today and give it a name.")
	ctx := context.Background()
	a, logs := wiredFor(t, map[string]string{"REKINDLE_PROGRAMS_DIR": dir, "REKINDLE_SMS_BRAND": "Harbour Street Coach"})
	running := a.progs["p"]

	long := strings.Repeat("Notice what you feel today. ", 9) + "Breathe slowly now"
	setSMS(t, dir, long)
	if _, err := loadPrograms(dir); err != nil {
		t.Fatalf("the text does not even fit under the default brand, so this test proves nothing: %v", err)
	}
	a.reload(ctx)
	if a.progs["p"] != running || !strings.Contains(logs.String(), "reload refused") || !strings.Contains(logs.String(), "3 segments") {
		t.Fatalf("reload took a text of three segments under this deployment's brand; log:\n%s", logs.String())
	}
}

// A text of two segments without the STOP hint is a warning: the program
// loads, and validate passes saying so, at the file and line.
func TestProgramsLoadWarningsDoNotBlock(t *testing.T) {
	dir := smsProgram(t, strings.Repeat("Notice what you feel today. ", 7))
	progs, err := loadPrograms(dir)
	if err != nil || progs["p"] == nil {
		t.Fatalf("a warning blocked the load: %v", err)
	}
	code, out, errs := run(t, nil, "programs", "validate", dir)
	want := "warning: " + filepath.Join(dir, "b", "lessons", "1.md") + ":4: sms: step nudge: 2 segments without the STOP hint"
	if code != 0 || !strings.Contains(out, want) || !strings.Contains(out, "ok: 1 program(s) valid, 1 warning(s)") {
		t.Fatalf("exit %d\n%s%s\nwant %s", code, out, errs, want)
	}
	if progs, err := loadPrograms(""); err != nil || progs["rekindle"] == nil {
		t.Fatalf("the shipped program does not load: %v", err)
	}
}

// Three segments with the hint (two without) is refused, at the sms line of
// the file under the folder given, not at the program's slug.
func TestProgramsValidateNamesTheRealPathOfAnSMS(t *testing.T) {
	dir := smsProgram(t, strings.Repeat("Notice what you feel today. ", 10))
	code, _, errs := run(t, nil, "programs", "validate", dir)
	want := filepath.Join(dir, "b", "lessons", "1.md") + ":4: sms: step nudge: 3 segments with the STOP hint (2 without), at most 2 allowed"
	if code != 1 || !strings.Contains(errs, want) || strings.Contains(errs, "p/lessons/1.md") {
		t.Fatalf("exit %d: %s\nwant %s", code, errs, want)
	}
}

// A file is not a folder of programs: the error names it.
func TestProgramsValidateRefusesAFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "program.yaml")
	writeFile(t, file, "slug: p\n")
	code, _, errs := run(t, nil, "programs", "validate", file)
	if code != 1 || !strings.Contains(errs, "programs folder "+file+": not a folder") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}

// timeline --start is within ten years of today (exit 2 naming it), and a
// schedule that stops advancing is an error, not 10,000 copies of a line.
func TestProgramsTimelineStartIsBounded(t *testing.T) {
	code, out, errs := run(t, nil, "programs", "timeline", "rekindle", "--tz", "UTC", "--start", "9999-12-31")
	if code != 2 || !strings.Contains(errs, "--start 9999-12-31: want a day within 10 years of today") || out != "" {
		t.Fatalf("exit %d, %d bytes of output: %s", code, len(out), errs)
	}
	in9 := time.Now().AddDate(9, 0, 0).Format("2006-01-02")
	if code, out, errs := run(t, nil, "programs", "timeline", "rekindle", "--tz", "UTC", "--start", in9); code != 0 || out == "" {
		t.Fatalf("--start %s: exit %d: %s", in9, code, errs)
	}

	progs, err := loadPrograms("")
	if err != nil {
		t.Fatal(err)
	}
	e := scheduler.New(nil, nil, nil, scheduler.Config{}, nil, nil)
	tl, err := timeline(e, progs["rekindle"], time.UTC, time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC), []string{"email", "sms"})
	if err == nil || !strings.Contains(err.Error(), "the schedule does not") {
		t.Fatalf("a timeline past the year 9999: %d entries, err %v", len(tl), err)
	}
}

// preview shows the step on its own channel unless told otherwise, and
// refuses a channel the step does not use, or --html for an SMS.
func TestProgramsPreviewChannel(t *testing.T) {
	code, out, errs := run(t, nil, "programs", "preview", "rekindle", "lesson-01-nudge")
	if code != 0 || strings.Contains(out, "Subject:") || !strings.Contains(out, "segment(s))") {
		t.Fatalf("an SMS-only step with no --channel: exit %d\n%s%s", code, out, errs)
	}
	if code, out, _ := run(t, nil, "programs", "preview", "rekindle", "lesson-01"); code != 0 || !strings.HasPrefix(out, "Subject:") {
		t.Fatalf("an email step with no --channel: exit %d\n%s", code, out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"lesson-01-nudge", "--channel", "email"}, "--channel email: step lesson-01-nudge is sent by sms only"},
		{[]string{"lesson-01", "--channel", "sms", "--html"}, "--html"},
		{[]string{"lesson-01-nudge", "--html"}, "--html"},
	} {
		code, out, errs := run(t, nil, append([]string{"programs", "preview", "rekindle"}, c.args...)...)
		if code != 2 || !strings.Contains(errs, c.want) || out != "" {
			t.Errorf("%v: exit %d, want 2 naming %s\nstdout: %s\nstderr: %s", c.args, code, c.want, out, errs)
		}
	}
}

// programs -h lists the subcommands and succeeds; a stray word after
// versions is refused, named.
func TestProgramsHelpAndStrayArguments(t *testing.T) {
	for _, h := range []string{"-h", "--help", "help"} {
		code, out, errs := run(t, nil, "programs", h)
		if code != 0 || !strings.Contains(out+errs, "migrate --from V --to V [--map old=new") || !strings.Contains(out+errs, "timeline PROGRAM") {
			t.Errorf("programs %s: exit %d\n%s%s", h, code, out, errs)
		}
	}
	env := map[string]string{"DATABASE_URL": testdb.New(t)} // a database that answers: only the stray word is wrong
	if code, out, errs := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	if code, _, errs := run(t, env, "programs", "versions", "extra", "--bogus"); code != 2 || !strings.Contains(errs, `unexpected argument "extra"`) {
		t.Errorf("versions extra --bogus: exit %d: %s", code, errs)
	}
}
