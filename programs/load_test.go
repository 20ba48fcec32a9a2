package programs

import (
	"errors"
	"os"
	"strings"
	"testing"
	"testing/fstest"
)

func TestLoadBasic(t *testing.T) {
	p, err := Load(os.DirFS("testdata"), "basic")
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	if p.Slug != "basic" || p.Pacing.D().Hours() != 20 {
		t.Fatalf("slug %q pacing %v", p.Slug, p.Pacing.D())
	}
	s := p.Step("ready")
	if s == nil || s.Checkin == nil || len(s.Checkin.Answers) != 3 || s.Checkin.AnswerWindow.D().Hours() != 72 {
		t.Fatalf("ready step: %+v", s)
	}
	if s.Checkin.Branches[0].Extend == nil || s.Checkin.Branches[0].Extend.Max != 2 {
		t.Fatalf("extend branch not decoded: %+v", s.Checkin.Branches[0])
	}
	if m := p.Step("mood"); m.Window == nil || m.Window.ToDay != 13 || !m.PreferFirst {
		t.Fatalf("mood step: %+v", m)
	}
	if p.Step("l2").Minute() != 9*60 || *p.Step("l2").Day != 2 {
		t.Fatalf("l2 schedule")
	}
	if c := p.Content["content/lesson.md"]; c == nil || c.Exercise == "" || c.Subject != "A lesson for day {{.Day}}" {
		t.Fatalf("content: %+v", c)
	}
	if len(p.Hash) != 16 {
		t.Fatalf("hash %q", p.Hash)
	}
}

// A value of the wrong type is reported as file:line: field: reason, the
// field named as validation names it and the reason in words, not Go's.
func TestLoadTypeErrorsNameTheField(t *testing.T) {
	const head = "slug: bad\ntitle: Bad\nversion: \"1\"\nphases: [{key: a, title: A}]\n"
	step := func(extra string) string {
		return "tracks:\n  - key: main\n    steps:\n      - key: s\n        phase: a\n        kind: lesson\n        at: \"09:00\"\n        channels: [email]\n        content: c.md\n" + extra
	}
	for _, c := range []struct{ yaml, want string }{
		{step("        day: three\n"), `bad/program.yaml:14: steps[s].day: want a whole number, not text ("three")`},
		{step("        day: [1]\n"), `bad/program.yaml:14: steps[s].day: want a whole number, not a list`},
		{step("        day: 99999999999999999999\n"), `bad/program.yaml:14: steps[s].day: 99999999999999999999 is too large for a whole number`},
		{"tracks: 5\n", `bad/program.yaml:5: tracks: want a list, not a whole number ("5")`},
		{"tracks: [{key: main, on_demand: maybe}]\n", `bad/program.yaml:5: tracks[main].on_demand: want true or false, not text ("maybe")`},
		{"tracks: [{steps: [{day: x}]}]\n", `bad/program.yaml:5: tracks[0].steps[0].day: want a whole number, not text ("x")`},
		{"quiet_hours: 21-08\n", `bad/program.yaml:5: quiet_hours: want a mapping (key: value lines), not text ("21-08")`},
		{"pacing: soon\n", `bad/program.yaml:5: pacing: "soon" is not a duration (write it like 20h or 90m)`},
		{step("        day: 1\n        checkin: {prompt: p, answer_window: later}\n"), `bad/program.yaml:15: steps[s].checkin.answer_window: "later" is not a duration`},
		{"commands: [{match: stop}]\n", `bad/program.yaml:5: commands[0].match: want a list, not text ("stop")`},
	} {
		fsys := fstest.MapFS{"bad/program.yaml": {Data: []byte(head + c.yaml)}, "bad/c.md": {Data: []byte("---\nsubject: S\n---\nbody\n")}}
		_, err := LoadAll(fsys, ".")
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: got %v\nwant %s", c.yaml, err, c.want)
		}
	}
	// Front matter too.
	fsys := fstest.MapFS{"p/program.yaml": {Data: []byte(head + step("        day: 0\n"))}, "p/c.md": {Data: []byte("---\nsubject: [a, b]\n---\nbody\n")}}
	if _, err := LoadAll(fsys, "p"); err == nil || !strings.Contains(err.Error(), "p/c.md:2: subject: want text, not a list") {
		t.Errorf("front matter: %v", err)
	}
}

// LoadAll takes a folder of program folders or one program's own folder;
// a folder with neither says so.
func TestLoadAllOneProgramFolder(t *testing.T) {
	progs, err := LoadAll(os.DirFS("testdata"), "basic")
	if err != nil || len(progs) != 1 || progs["basic"] == nil {
		t.Fatalf("one program's folder: %v, %v", progs, err)
	}
	if _, err := LoadAll(fstest.MapFS{"x/readme.md": {Data: []byte("hi")}}, "."); !errors.Is(err, ErrNoPrograms) {
		t.Fatalf("no program: %v, want ErrNoPrograms", err)
	}
}

// A command's label is the manage page's button: the shipped MOVED ON has
// one in the person's words, and a program may leave it out.
func TestCommandLabel(t *testing.T) {
	p, err := Load(Embedded(), "rekindle")
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Commands) != 1 || p.Commands[0].Label != "They have a new partner" {
		t.Errorf("shipped commands: %+v, want MOVED ON labelled \"They have a new partner\"", p.Commands)
	}
	b, err := Load(os.DirFS("testdata"), "basic")
	if err != nil || b.Commands[0].Label != "" {
		t.Fatalf("a command without a label: %+v, %v", b.Commands, err)
	}
}
