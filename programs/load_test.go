package programs

import (
	"os"
	"testing"
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
