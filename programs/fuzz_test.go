package programs

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"unicode/utf8"
)

// fuzzFS is a program folder "p" holding the basic test program's content
// and the shipped program's content, so either program.yaml seed loads.
func fuzzFS(f *testing.F) fstest.MapFS {
	f.Helper()
	m := fstest.MapFS{}
	copyTree := func(fsys fs.FS, root string) {
		err := fs.WalkDir(fsys, root, func(name string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(name, FileName) {
				return err
			}
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			m["p/"+strings.TrimPrefix(name, root+"/")] = &fstest.MapFile{Data: b}
			return nil
		})
		if err != nil {
			f.Fatal(err)
		}
	}
	copyTree(os.DirFS("testdata"), "basic")
	copyTree(Embedded(), "rekindle")
	return m
}

// FuzzLoad loads a fuzzed program.yaml, with one fuzzed content file
// (content/lesson.md, used by the basic program). Whatever the bytes, Load
// must not panic; a refusal is a *ValidationError whose every problem reads
// "file:line: field: reason" on one line; a program it accepts is complete
// and survives the JSON round trip the database stores it through.
func FuzzLoad(f *testing.F) {
	base := fuzzFS(f)
	basic, err := os.ReadFile("testdata/basic/program.yaml")
	if err != nil {
		f.Fatal(err)
	}
	shipped, err := fs.ReadFile(Embedded(), "rekindle/program.yaml")
	if err != nil {
		f.Fatal(err)
	}
	lesson := base["p/content/lesson.md"].Data
	f.Add(basic, lesson)
	f.Add(shipped, lesson)
	f.Add([]byte("slug: x\n"), []byte("---\nsubject: x\n---\n"))
	f.Add([]byte("slug: [\n"), []byte("---\n"))
	f.Add([]byte("{{{{"), []byte("---\nsubject: {{.Nope}}\n---\nbody"))
	f.Add([]byte("slug: basic\ntitle: T\nversion: \"1\"\nphases: [{key: a, title: A}]\ntracks:\n  - key: main\n    steps:\n      - {key: s, phase: a, kind: lesson, cron: \"@every 1h\", window: {from_day: 0, to_day: 1}, channels: [email], content: content/lesson.md}\n"), lesson)
	f.Add(basic, []byte("---\nsubject: Hi\nsms: Hi\n---\nA body with a NUL \x00 and \xff"))
	f.Add([]byte(strings.Replace(string(basic), "title: Basic", `title: "Ba\0sic"`, 1)), lesson)
	f.Add([]byte(strings.Replace(string(basic), "pacing: 20h", "pacing: -20h\nquiet_hours: {start: \"25:00\", end: \"x\"}", 1)), lesson)

	f.Fuzz(func(t *testing.T, yamlSrc, content []byte) {
		m := fstest.MapFS{}
		for k, v := range base {
			m[k] = v
		}
		m["p/"+FileName] = &fstest.MapFile{Data: yamlSrc}
		m["p/content/lesson.md"] = &fstest.MapFile{Data: content}

		p, err := Load(m, "p")
		if err != nil {
			if p != nil {
				t.Fatal("Load returned a program and an error: nothing half-loaded may be used")
			}
			checkProblems(t, err)
			return
		}
		checkLoaded(t, p)
		again, err := Load(m, "p")
		if err != nil || again.Hash != p.Hash {
			t.Fatalf("loading the same bytes twice: hash %q then %q (%v)", p.Hash, hashOf(again), err)
		}
	})
}

func hashOf(p *Program) string {
	if p == nil {
		return ""
	}
	return p.Hash
}

// checkProblems asserts the error lists located problems, one a line.
func checkProblems(t *testing.T, err error) {
	t.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("want a *ValidationError for a bad program, got %T: %v", err, err)
	}
	if len(ve.Problems) == 0 {
		t.Fatal("a ValidationError with no problems")
	}
	for _, pr := range ve.Problems {
		if pr.File == "" || pr.Line < 1 || strings.TrimSpace(pr.Field) == "" || strings.TrimSpace(pr.Reason) == "" {
			t.Fatalf("problem without file, line, field or reason: %#v", pr)
		}
		s := pr.String()
		if strings.ContainsAny(s, "\r\n") {
			t.Fatalf("a problem spans lines, breaking one-problem-a-line output: %q", s)
		}
		if !utf8.ValidString(s) {
			t.Fatalf("a problem is not valid UTF-8: %q", s)
		}
		want := oneLine(pr.File + ":" + strconv.Itoa(pr.Line) + ": " + pr.Field + ": ")
		if !strings.HasPrefix(s, want) {
			t.Fatalf("problem %q is not shaped file:line: field: reason", s)
		}
	}
	if n := strings.Count(ve.Error(), "\n") + 1; n != len(ve.Problems) {
		t.Fatalf("%d problems printed on %d lines", len(ve.Problems), n)
	}
}

// checkLoaded asserts an accepted program is usable: every step is indexed,
// and the definition stored as JSON (PostgreSQL jsonb) comes back the same.
func checkLoaded(t *testing.T, p *Program) {
	t.Helper()
	if len(p.Hash) != 16 || len(p.Phases) == 0 || len(p.Tracks) == 0 || p.StartTrack() == "" {
		t.Fatalf("accepted an incomplete program: %+v", p)
	}
	for _, tr := range p.Tracks {
		for _, s := range tr.Steps {
			if p.Step(s.Key) != s {
				t.Fatalf("step %q is not indexed", s.Key)
			}
			if p.Content[s.ContentRef] == nil {
				t.Fatalf("step %q: content %q not loaded", s.Key, s.ContentRef)
			}
			if s.IsCron() && s.Schedule() == nil {
				t.Fatalf("step %q: cron %q not parsed", s.Key, s.Cron)
			}
		}
	}
	walkStrings(reflect.ValueOf(p), func(s string) {
		// PostgreSQL's jsonb refuses NUL, and JSON replaces invalid UTF-8:
		// the definition every enrollment is pinned to would not be stored
		// as loaded.
		if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
			t.Fatalf("an accepted program holds text PostgreSQL cannot store as it is: %q", s)
		}
	})
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatalf("an accepted program does not encode as JSON: %v", err)
	}
	var back Program
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatalf("decode the stored definition: %v", err)
	}
	b2, _ := json.Marshal(FromDefinition(&back))
	if string(b2) != string(b) {
		t.Fatalf("the stored definition does not round-trip:\n%s\n%s", b, b2)
	}
}

// walkStrings calls fn on every exported string reachable from v.
func walkStrings(v reflect.Value, fn func(string)) {
	switch v.Kind() {
	case reflect.String:
		fn(v.String())
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), fn)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				walkStrings(v.Field(i), fn)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			walkStrings(v.Index(i), fn)
		}
	case reflect.Map:
		for it := v.MapRange(); it.Next(); {
			walkStrings(it.Key(), fn)
			walkStrings(it.Value(), fn)
		}
	}
}
