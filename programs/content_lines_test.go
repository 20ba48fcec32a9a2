package programs

import (
	"errors"
	"strings"
	"testing"
	"testing/fstest"
)

// A template error in a content file is reported on the line it is on: a
// front-matter value on its field's line, the body on the body's line of
// the error; and once, though several steps share the file.
func TestContentTemplateErrorsNameTheirLine(t *testing.T) {
	for _, c := range []struct {
		name, file string
		want       []string // exact file:line: field: prefixes, each once
	}{
		{"unknown variable in the body", "---\nsubject: A lesson\npreheader: x\nsms: y\n---\n\nHi there,\n\nA lesson for {{.Nickname}}.\n",
			[]string{"p/content/lesson.md:9: body: <.Nickname>: can't evaluate field Nickname"}},
		{"syntax error in the body, front matter of four lines", "---\nsubject: A lesson\npreheader: x\nsms: y\nexercise: z\n---\nHi,\n\n{{if}}\n",
			[]string{"p/content/lesson.md:9: body: missing value for if"}},
		{"front-matter fields", "---\nsubject: A lesson\n\npreheader: Week {{.Wek}}\nsms: >\n  Day {{.Day\n---\nHi.\n",
			[]string{"p/content/lesson.md:4: preheader: <.Wek>: can't evaluate field Wek", "p/content/lesson.md:5: sms: unclosed action"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := basicFS(t, func(s string) string { return s + "\n" })
			m["p/content/lesson.md"] = &fstest.MapFile{Data: []byte(c.file)}
			_, err := Load(m, "p")
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("want a ValidationError, got %v", err)
			}
			for _, want := range c.want {
				n := 0
				for _, pr := range ve.Problems {
					if strings.HasPrefix(pr.String(), want) {
						n++
					}
				}
				if n != 1 {
					t.Errorf("%d problems starting %q (content/lesson.md serves seven steps), want 1; got:\n%v", n, want, err)
				}
			}
			if len(ve.Problems) != len(c.want) {
				t.Errorf("%d problems, want %d:\n%v", len(ve.Problems), len(c.want), err)
			}
		})
	}
}

// A loaded content file knows where it came from: its path in the folder
// loaded and the line of each field, for problems found after loading (an
// SMS that renders too long).
func TestContentKnowsItsFileAndLines(t *testing.T) {
	m := basicFS(t, func(s string) string { return s + "\n" })
	m["p/content/lesson.md"] = &fstest.MapFile{Data: []byte("---\r\nsubject: A lesson\r\n\r\npreheader: x\r\nsms: >\r\n  Today's lesson\r\n  is in your inbox.\r\n---\r\n\r\n\r\nHi {{.FirstName}}.\r\n")}
	p, err := Load(m, "p")
	if err != nil {
		t.Fatal(err)
	}
	c := p.Content["content/lesson.md"]
	if c.File() != "p/content/lesson.md" {
		t.Errorf("File() = %q", c.File())
	}
	for field, want := range map[string]int{"subject": 2, "preheader": 4, "sms": 5, "exercise": 2, "body": 11} {
		if got := c.Line(field); got != want {
			t.Errorf("Line(%q) = %d, want %d", field, got, want)
		}
	}
}
