package cli

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/store"
)

// revisedProgram writes the shipped program to a folder with edits applied
// to program.yaml (old -> new, each exactly once) and returns the folder.
func revisedProgram(t *testing.T, edits ...string) string {
	t.Helper()
	dir := t.TempDir()
	err := fs.WalkDir(programs.Embedded(), ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(programs.Embedded(), p)
		if err != nil {
			return err
		}
		if filepath.Base(p) == "program.yaml" {
			s := string(b)
			for i := 0; i+1 < len(edits); i += 2 {
				if strings.Count(s, edits[i]) != 1 {
					return fmt.Errorf("edit %q does not match exactly once", edits[i])
				}
				s = strings.Replace(s, edits[i], edits[i+1], 1)
			}
			b = []byte(s)
		}
		out := filepath.Join(dir, p)
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			return err
		}
		return os.WriteFile(out, b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestProgramsMigrateMovesRunningEnrollmentsByStepMap(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.New(t)
	// The space question asked from day 1, as the shipped program did when
	// this test was written (it now waits a week): Ann's from the first
	// week is the check-in asked before the move.
	const spaceFrom, spaceEarly = "window: {from_day: 7, to_day: 19}", "window: {from_day: 1, to_day: 19}"
	env := map[string]string{"DATABASE_URL": dsn, "REKINDLE_OUTBOX_DIR": t.TempDir(), "REKINDLE_LOG_LEVEL": "error",
		"REKINDLE_SECRET_KEY": "migrate-test-secret-0123456789abcdef", "REKINDLE_PROGRAMS_DIR": revisedProgram(t, spaceFrom, spaceEarly)}
	// Monday 2026-03-02 05:00 UTC, midnight in New York.
	h := newEngineHarness(t, env, time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC))
	db := h.a.store.DB
	ny, _ := time.LoadLocation("America/New_York")

	ann, annEnr := h.enroll("Ann", "ann.migrate@example.org", "", "America/New_York")
	gone, goneEnr := h.enroll("Gus", "gus.gone@example.org", "", "America/New_York")
	moods := map[string]string{"mood": "4"} // the weekly space question stays open
	h.run(5*24*time.Hour, 3*time.Hour, moods, ann, gone)
	ben, benEnr := h.enroll("Ben", "ben.migrate@example.org", "+12025550161", "America/New_York")
	if _, err := h.a.engine.Unenroll(ctx, goneEnr, "operator"); err != nil {
		t.Fatal(err)
	}
	// To Wednesday 2026-03-11 10:00 in New York (EDT): Ann's last planned
	// step is lesson-05 (day 9, 09:00); its SMS nudge at 12:00 is next.
	h.run(4*24*time.Hour+9*time.Hour, 3*time.Hour, moods, ann, ben)
	cal, calEnr := h.enroll("Cal", "", "+12025550162", "America/New_York") // nothing planned yet
	_ = cal

	var last string
	db.Get(&last, `SELECT step_key FROM deliveries WHERE enrollment_id = $1 AND step_key NOT LIKE '%@%' ORDER BY due_at DESC, id DESC LIMIT 1`, annEnr)
	if last != "lesson-05" {
		t.Fatalf("setup: Ann's last day step is %q, want lesson-05", last)
	}
	var openSpace int64
	db.Get(&openSpace, `SELECT id FROM checkins WHERE enrollment_id = $1 AND step_key = 'space' AND answer IS NULL ORDER BY id DESC LIMIT 1`, annEnr)
	if openSpace == 0 {
		t.Fatal("setup: Ann has no unanswered space check-in")
	}

	// Version 2 renames lesson-05 and the space check-in.
	dir := revisedProgram(t, spaceFrom, spaceEarly, `version: "1.0"`, `version: "1.1"`, "- key: lesson-05\n", "- key: lesson-05-revised\n",
		"- key: space\n", "- key: space-check\n")
	progs, err := loadPrograms(dir)
	if err != nil {
		t.Fatal(err)
	}
	if err := h.a.engine.LoadPrograms(ctx, progs); err != nil {
		t.Fatal(err)
	}
	var hashes []string
	db.Select(&hashes, `SELECT hash FROM program_versions ORDER BY id`)
	if len(hashes) != 2 {
		t.Fatalf("setup: %d program versions stored, want 2", len(hashes))
	}
	code, out, errs := run(t, env, "programs", "versions")
	if code != 0 || !strings.Contains(out, "1   rekindle  1.0") || !strings.Contains(out, hashes[1]) {
		t.Fatalf("versions: exit %d\n%s%s", code, out, errs)
	}
	for _, want := range []string{"1   rekindle  1.0      " + hashes[0], "3        4"} {
		if !strings.Contains(out, want) {
			t.Errorf("versions lacks %q (3 running of 4 enrollments on version 1):\n%s", want, out)
		}
	}

	// Bad input: an error naming the step, entry or flag; nothing changes.
	// A version is named by its id, whatever digits the hashes (which the
	// program's content decides) start with.
	v1, v2 := "1", "2"
	before := fingerprint(t, db)
	to := hashes[1][:8]
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--from", v1, "--to", to, "--map", "lesson-05=lesson-05-revised"}, 1,
			`step "space" of version 1 is not in version 2: map it with --map space=NEW`},
		{[]string{"--from", v1, "--to", v2}, 1, `step "lesson-05" of version 1 is not in version 2: map it with --map lesson-05=NEW`},
		{[]string{"--from", v1, "--to", v2, "--map", "lesson-05=lesson-5,space=space-check"}, 1,
			`--map lesson-05=lesson-5: version 2 (` + hashes[1] + `) has no step "lesson-5"`},
		{[]string{"--from", v1, "--to", v2, "--map", "nosuch=lesson-05-revised"}, 1, `--map nosuch=lesson-05-revised: version 1 (` + hashes[0] + `) has no step "nosuch"`},
		{[]string{"--from", v1, "--to", v2, "--map", "lesson-05"}, 2, `--map entry "lesson-05": want old=new`},
		{[]string{"--from", v1, "--to", v2, "--map", "space=space-check,space=mood"}, 2, `--map names step "space" twice`},
		{[]string{"--from", v1, "--to", v2, "--map", "lesson-05=mood,space=space-check"}, 1,
			fmt.Sprintf("enrollment %d: it is at step lesson-05, which maps to mood, not a calendar step", annEnr)},
		{[]string{"--from", v1, "--to", v1}, 1, "--from and --to both name version 1"},
		{[]string{"--from", "zz", "--to", v2}, 1, `--from "zz": want a version id or hash prefix`},
		{[]string{"--from", "987654321", "--to", v2}, 1, "--from 987654321: no stored program version"},
		{[]string{"--to", v2}, 2, "--from and --to are required"},
	} {
		code, _, errs := run(t, env, append([]string{"programs", "migrate"}, c.args...)...)
		if code != c.code || !strings.Contains(errs, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d with %q", c.args, code, errs, c.code, c.want)
		}
	}
	if fingerprint(t, db) != before {
		t.Fatal("a refused migration changed the database")
	}

	// Dry run: who would move, masked, with their next send; no change.
	mapping := "lesson-05=lesson-05-revised,space=space-check"
	code, out, errs = run(t, env, "programs", "migrate", "--from", hashes[0][:6], "--to", to, "--map", mapping, "--dry-run")
	if code != 0 {
		t.Fatalf("dry run: exit %d %s", code, errs)
	}
	var benNext time.Time
	db.Get(&benNext, `SELECT next_due_at FROM enrollments WHERE id = $1`, benEnr)
	rows := map[string][]string{}
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 {
			rows[f[0]] = f
		}
	}
	for enr, want := range map[int64]string{
		annEnr: "a***@example.org active lesson-05 lesson-05-revised 2026-03-11 12:00 EDT (lesson-05-nudge)",
		benEnr: "b***@example.org +1******0161 active lesson-03 lesson-03 " + benNext.In(ny).Format("2006-01-02 15:04 MST") + " (lesson-03-nudge)",
		calEnr: "+1******0162 active (none on main yet) (none on main yet) 2026-03-11 08:00 EDT (welcome)",
	} {
		row := rows[fmt.Sprint(enr)]
		if len(row) < 2 {
			t.Errorf("dry run has no line for enrollment %d:\n%s", enr, out)
			continue
		}
		if got := strings.Join(row[1:], " "); got != want {
			t.Errorf("dry run, enrollment %d:\n got %q\nwant %q", enr, got, want)
		}
	}
	for _, want := range []string{"would move 3 running enrollment(s) of rekindle from version 1", "dry run: nothing changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "g***@example.org") || strings.Contains(out, "ann.migrate") || strings.Contains(out, "2025550162") {
		t.Errorf("dry run shows an unmasked contact or an ended enrollment:\n%s", out)
	}
	if fingerprint(t, db) != before {
		t.Fatal("the dry run changed the database")
	}

	// The real run moves the three running enrollments, in place.
	type place struct {
		Version int64     `db:"program_version_id"`
		Cursor  int64     `db:"cursor"`
		Next    time.Time `db:"next_due_at"`
		Crons   string    `db:"cron_cursors"`
	}
	var annBefore place
	db.Get(&annBefore, `SELECT program_version_id, cursor, next_due_at, cron_cursors::text FROM enrollments WHERE id = $1`, annEnr)
	code, out, errs = run(t, env, "programs", "migrate", "--from", v1, "--to", v2, "--map", mapping)
	if code != 0 || !strings.Contains(out, "moved 3 running enrollment(s)") {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errs)
	}
	versions := counts(t, db, `SELECT id::text || ' v' || program_version_id::text AS k, 1 AS n FROM enrollments`)
	for id, v := range map[int64]int{annEnr: 2, benEnr: 2, calEnr: 2, goneEnr: 1} {
		if versions[fmt.Sprintf("%d v%d", id, v)] != 1 {
			t.Errorf("enrollment %d: want version %d; have %v", id, v, versions)
		}
	}
	var annAfter place
	db.Get(&annAfter, `SELECT program_version_id, cursor, next_due_at, cron_cursors::text FROM enrollments WHERE id = $1`, annEnr)
	if annAfter.Cursor != annBefore.Cursor || !annAfter.Next.Equal(annBefore.Next) || !strings.Contains(annAfter.Crons, `"space-check"`) ||
		strings.Contains(annAfter.Crons, `"space"`) {
		t.Errorf("Ann's place changed: before %+v, after %+v", annBefore, annAfter)
	}
	renamed := counts(t, db, `SELECT e.id::text || ' ' || c.step_key AS k, count(*) AS n FROM checkins c JOIN enrollments e ON e.id = c.enrollment_id
		WHERE c.step_key LIKE 'space%' GROUP BY 1`)
	if renamed[fmt.Sprintf("%d space", annEnr)] != 0 || renamed[fmt.Sprintf("%d space-check", annEnr)] == 0 || renamed[fmt.Sprintf("%d space", goneEnr)] == 0 {
		t.Errorf("check-ins should follow the rename for moved enrollments only: %v", renamed)
	}
	var events int
	db.Get(&events, `SELECT count(*) FROM events WHERE kind = 'program_migrated'`)
	if events != 3 {
		t.Errorf("%d program_migrated events, want 3", events)
	}
	if code, _, errs := run(t, env, "programs", "migrate", "--from", v1, "--to", v2, "--map", mapping); code != 0 || errs != "" {
		t.Errorf("migrating an emptied version again: exit %d %s", code, errs)
	}

	// An answer to a check-in asked before the move finds its question.
	if _, err := h.a.engine.RecordAnswer(ctx, scheduler.AnswerInput{CheckinID: openSpace, Value: "yes", Source: "email-link"}); err != nil {
		t.Fatalf("answering a check-in from before the move: %v", err)
	}
	// The planner carries on from the same place: nothing is sent twice.
	h.run(3*24*time.Hour, 3*time.Hour, nil)
	sent := counts(t, db, fmt.Sprintf(`SELECT step_key AS k, count(*) AS n FROM deliveries WHERE enrollment_id = %d GROUP BY 1`, annEnr))
	if sent["lesson-05"] != 1 || sent["lesson-05-revised"] != 0 || sent["lesson-06"] != 1 || sent["space-check@2026-03-11"] != 1 || sent["space@2026-03-11"] != 0 {
		t.Errorf("Ann's deliveries after the move: %v", sent)
	}
	var calSent int
	db.Get(&calSent, `SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND step_key = 'welcome'`, calEnr)
	if calSent != 1 {
		t.Errorf("Cal, moved before anything was planned, got %d welcome messages", calSent)
	}
}

// A number names a version id, never a hash prefix: --from 1 is version 1
// also when a stored hash starts with 1 (or 12 with 12). A hash prefix
// with a letter in it still names its version.
func TestVersionRefNumberIsAnID(t *testing.T) {
	vs := []store.VersionInfo{
		{ID: 1, Slug: "rekindle", Hash: "9c0ffee1"},
		{ID: 2, Slug: "rekindle", Hash: "1abc2def"},
		{ID: 12, Slug: "rekindle", Hash: "12ab34cd"},
		{ID: 3, Slug: "rekindle", Hash: "4567abcd"},
		{ID: 4, Slug: "rekindle", Hash: "45aa0000"},
	}
	for ref, want := range map[string]int64{
		"1": 1, "12": 12, " 2 ": 2, "01": 1,
		"1a": 2, "1ABC": 2, "12a": 12, "9c": 1, "4567a": 3, "45a": 4,
	} {
		v, err := resolveVersion(vs, "--from", ref)
		if err != nil || v.ID != want {
			t.Errorf("--from %q: version %d, %v; want version %d", ref, v.ID, err, want)
		}
	}
	for ref, want := range map[string]string{
		"45":   "--from 45: no stored program version has that id; a number names a version id, never a hash (version 3 has hash 4567abcd, version 4 has hash 45aa0000: give its hash up to the first letter, or its id)",
		"7":    "--from 7: no stored program version has that id (see",
		"4":    "", // id 4, not the hashes starting with 4
		"ab":   "--from ab: no stored program version has a hash starting with that",
		"4xyz": `--from "4xyz": want a version id or hash prefix`,
	} {
		v, err := resolveVersion(vs, "--from", ref)
		switch {
		case want == "" && (err != nil || v.ID != 4):
			t.Errorf("--from %q: version %d, %v; want version 4", ref, v.ID, err)
		case want != "" && (err == nil || !strings.Contains(err.Error(), want)):
			t.Errorf("--from %q: version %d, %v; want an error with %q", ref, v.ID, err, want)
		}
	}
	// Hash prefixes that are letters and digits alike still have to be
	// unique.
	vs = append(vs, store.VersionInfo{ID: 5, Slug: "rekindle", Hash: "1abff000"})
	if _, err := resolveVersion(vs, "--to", "1ab"); err == nil || !strings.Contains(err.Error(), "--to 1ab is ambiguous (id 2 hash 1abc2def, id 5 hash 1abff000)") {
		t.Errorf("--to 1ab: %v; want ambiguous", err)
	}
}
