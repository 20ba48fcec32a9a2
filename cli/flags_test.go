package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/internal/testdb"
)

// Every command that loads programs takes the folder as --programs-dir (the
// setting's own flag) and as --programs; README documents both.
func TestProgramsFolderFlagEverywhere(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-folder")
	dsn := testdb.New(t)
	env := map[string]string{"DATABASE_URL": dsn, "REKINDLE_LISTEN": freePort(t), "REKINDLE_OUTBOX_DIR": t.TempDir()}
	if code, _, errs := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	for _, flag := range []string{"--programs-dir", "--programs"} {
		for _, args := range [][]string{
			{"serve", flag, missing},
			{"demo", "--database-url", dsn, flag, missing},
			{"enroll", "--program", "rekindle", "--email", "f@example.org", "--tz", "UTC", flag, missing},
			{"pause", "--email", "f@example.org", flag, missing},
			{"programs", "validate", flag, missing},
			{"programs", "timeline", "rekindle", "--tz", "UTC", "--start", "2026-03-02", flag, missing},
			{"programs", "preview", "rekindle", "lesson-01", flag, missing},
		} {
			code, _, errs := run(t, env, args...)
			if code != 1 || !strings.Contains(errs, "programs folder") || !strings.Contains(errs, missing) {
				t.Errorf("%s: exit %d: %s; want the folder refused by name", strings.Join(args, " "), code, errs)
			}
		}
		// config shows the setting, and refuses it, naming it.
		code, out, errs := run(t, env, "config", flag, missing)
		if code != 1 || !strings.Contains(out, "REKINDLE_PROGRAMS_DIR="+missing+"\t# flag") ||
			!strings.Contains(errs, "REKINDLE_PROGRAMS_DIR ("+flag+"): programs folder "+missing+": no such folder") {
			t.Errorf("config %s: exit %d: %s%s; want the setting shown, then refused naming it and the flag", flag, code, out, errs)
		}
	}
	if code, out, errs := run(t, env, "programs", "validate", "--programs", "../programs"); code != 0 || !strings.Contains(out, "ok: 1 program(s) valid") {
		t.Errorf("validate --programs ../programs: exit %d: %s%s", code, out, errs)
	}
}

// A missing REKINDLE_PROGRAMS_DIR is named as the setting, not only as a
// folder, by config and by the commands that load programs; the commands
// that plan nothing go on without programs (an opt-out is never held up).
func TestProgramsDirNamedAsTheSetting(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such-folder")
	dsn := testdb.New(t)
	env := map[string]string{"DATABASE_URL": dsn, "REKINDLE_PROGRAMS_DIR": missing}
	if code, _, errs := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %s", errs)
	}
	want := "REKINDLE_PROGRAMS_DIR: programs folder " + missing + ": no such folder"
	for _, args := range [][]string{{"config"}, {"serve"}, {"enroll", "--program", "rekindle", "--email", "f@example.org", "--tz", "UTC"},
		{"programs", "preview", "rekindle", "lesson-01"}} {
		code, _, errs := run(t, env, args...)
		if code != 1 || !strings.Contains(errs, want) {
			t.Errorf("%s: exit %d: %s; want %q", strings.Join(args, " "), code, errs, want)
		}
	}
	if code, out, errs := run(t, env, "unsubscribe", "--email", "f@example.org"); code != 0 || !strings.Contains(errs, want) {
		t.Errorf("unsubscribe: exit %d: %s%s; want it done, with a warning naming the setting", code, out, errs)
	}
}
