package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// programs validate takes a folder of programs or one program's folder, and
// names files by the path it was given.
func TestProgramsValidateNamesThePathGiven(t *testing.T) {
	code, out, errs := run(t, nil, "programs", "validate", "../programs/rekindle")
	if code != 0 || !strings.Contains(out, "ok: 1 program(s) valid") {
		t.Fatalf("one program's folder: exit %d\n%s%s", code, out, errs)
	}
	empty := t.TempDir()
	code, _, errs = run(t, nil, "programs", "validate", empty)
	if code != 1 || !strings.Contains(errs, "programs folder "+empty+": no program.yaml in it or in any folder directly under it") {
		t.Fatalf("empty folder: exit %d: %s", code, errs)
	}
	dir := filepath.Join(t.TempDir(), "mine")
	os.MkdirAll(filepath.Join(dir, "lessons"), 0o755)
	os.WriteFile(filepath.Join(dir, "program.yaml"), []byte("slug: mine\ntitle: Mine\nversion: \"1\"\nphases: [{key: a, title: A}]\ntracks:\n  - key: main\n    steps:\n      - {key: s, phase: a, kind: lesson, day: three, at: \"09:00\", channels: [email], content: lessons/1.md}\n"), 0o644)
	code, _, errs = run(t, nil, "programs", "validate", dir)
	if want := filepath.Join(dir, "program.yaml") + `:8: steps[s].day: want a whole number, not text ("three")`; code != 1 || !strings.Contains(errs, want) {
		t.Fatalf("exit %d: %s\nwant %s", code, errs, want)
	}
}

// A text that needs UCS-2 fails, saying why, even in one segment.
func TestProgramsValidateRefusesUCS2(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "p")
	os.MkdirAll(filepath.Join(dir, "lessons"), 0o755)
	os.WriteFile(filepath.Join(dir, "program.yaml"), []byte("slug: p\ntitle: P\nversion: \"1\"\nphases: [{key: a, title: A}]\ntracks:\n  - key: main\n    steps:\n      - {key: s, phase: a, kind: lesson, day: 0, at: \"09:00\", channels: [sms], content: lessons/1.md}\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "lessons", "1.md"), []byte("---\nsubject: Hello\nsms: \"It\u2019s day one.\"\n---\nBody.\n"), 0o644)
	code, _, errs := run(t, nil, "programs", "validate", dir)
	if code != 1 || !strings.Contains(errs, "needs UCS-2 because of \"\u2019\", which cuts a segment from 160 characters to 70") {
		t.Fatalf("exit %d: %s", code, errs)
	}
}
