package programs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
)

// FileName is the program definition inside a program folder.
const FileName = "program.yaml"

// LoadAll loads every program folder (a folder holding program.yaml) directly
// under root in fsys. It returns the programs by slug, or a *ValidationError
// listing every problem in every program; on error nothing is returned.
func LoadAll(fsys fs.FS, root string) (map[string]*Program, error) {
	entries, err := fs.ReadDir(fsys, root)
	if err != nil {
		return nil, fmt.Errorf("programs: %w", err)
	}
	out := map[string]*Program{}
	var problems []Problem
	for _, e := range entries {
		if !e.IsDir() || e.Name() == "testdata" {
			continue
		}
		dir := path.Join(root, e.Name())
		if _, err := fs.Stat(fsys, path.Join(dir, FileName)); err != nil {
			continue
		}
		p, err := Load(fsys, dir)
		var ve *ValidationError
		switch {
		case errors.As(err, &ve):
			problems = append(problems, ve.Problems...)
			continue
		case err != nil:
			return nil, err
		}
		if prev, dup := out[p.Slug]; dup {
			problems = append(problems, Problem{path.Join(dir, FileName), 1, "slug",
				fmt.Sprintf("%q is already used by %s", p.Slug, prev.Title)})
			continue
		}
		out[p.Slug] = p
	}
	if len(problems) > 0 {
		return nil, &ValidationError{Problems: problems}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("programs: no program folder (with %s) under %q", FileName, root)
	}
	return out, nil
}

// Load reads and validates the program in folder dir of fsys.
func Load(fsys fs.FS, dir string) (*Program, error) {
	file := path.Join(dir, FileName)
	src, err := fs.ReadFile(fsys, file)
	if err != nil {
		return nil, fmt.Errorf("programs: %w", err)
	}
	l := &loader{fsys: fsys, dir: dir, file: file, src: src}
	p := l.load()
	if len(l.problems) > 0 {
		return nil, &ValidationError{Problems: l.problems}
	}
	p.index()
	return p, nil
}

// FromJSON rebuilds a program stored in the database. The definition was
// validated when it was first loaded; it is indexed again here.
func FromDefinition(p *Program) *Program {
	p.index()
	return p
}

type loader struct {
	fsys     fs.FS
	dir      string
	file     string
	src      []byte
	ast      *ast.File
	problems []Problem
}

// problem records a problem at the YAML node found by yamlPath (falling back
// to the nearest parent that exists, then line 1).
func (l *loader) problem(yamlPath, field, reason string) {
	l.problems = append(l.problems, Problem{l.file, l.line(yamlPath), field, reason})
}

func (l *loader) line(yamlPath string) int {
	if l.ast == nil {
		return 1
	}
	for p := yamlPath; p != "" && p != "$"; {
		if yp, err := yaml.PathString(p); err == nil {
			if n, err := yp.FilterFile(l.ast); err == nil && n != nil && n.GetToken() != nil {
				return n.GetToken().Position.Line
			}
		}
		i := strings.LastIndexAny(p, ".[")
		if i <= 0 {
			break
		}
		p = p[:i]
	}
	return 1
}

func (l *loader) load() *Program {
	if line, reason, bad := notText(l.src); bad {
		l.problems = append(l.problems, Problem{l.file, line, "encoding", reason})
		return nil
	}
	f, err := parser.ParseBytes(l.src, 0)
	if err != nil {
		l.yamlError(l.file, err)
		return nil
	}
	l.ast = f
	if l.nulStrings(); len(l.problems) > 0 {
		return nil
	}
	var p Program
	if err := yaml.UnmarshalWithOptions(l.src, &p, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		l.yamlError(l.file, err)
		return nil
	}
	if p.Content != nil || p.Hash != "" {
		l.problem("$.content", "content", "content is read from the files steps name; remove this field")
		return nil
	}
	p.Content = map[string]*Content{}
	l.validate(&p)
	if len(l.problems) > 0 {
		return nil
	}
	p.Hash = l.hash(&p)
	return &p
}

// yamlError turns a go-yaml error into a located problem.
func (l *loader) yamlError(file string, err error) {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		tok := ye.GetToken()
		field := "yaml"
		var uf *yaml.UnknownFieldError
		if errors.As(err, &uf) {
			field = tok.Value
			if strings.TrimSpace(field) == "" {
				field = strconv.Quote(field) // a blank key stays visible
			}
		}
		l.problems = append(l.problems, Problem{file, tok.Position.Line, field, ye.GetMessage()})
		return
	}
	l.problems = append(l.problems, Problem{file, 1, "yaml", err.Error()})
}

// hash fingerprints the definition and every content file it uses.
func (l *loader) hash(p *Program) string {
	h := sha256.New()
	h.Write(l.src)
	paths := make([]string, 0, len(p.Content))
	for k := range p.Content {
		paths = append(paths, k)
	}
	sort.Strings(paths)
	for _, k := range paths {
		c := p.Content[k]
		fmt.Fprintf(h, "\x00%s\x00%s\x00%s\x00%s\x00%s\x00%s", k, c.Subject, c.Preheader, c.SMS, c.Exercise, c.Body)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// readContent loads a content file: YAML front matter between "---" lines,
// then the Markdown body.
func (l *loader) readContent(ref string) (*Content, []Problem) {
	file := path.Join(l.dir, ref)
	raw, err := fs.ReadFile(l.fsys, file)
	if err != nil {
		return nil, []Problem{{File: file, Line: 1, Field: "content", Reason: "cannot read: " + errors.Unwrap(err).Error()}}
	}
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	if line, reason, bad := notText(raw); bad {
		return nil, []Problem{{file, line, "encoding", reason}}
	}
	if !bytes.HasPrefix(raw, []byte("---\n")) {
		return nil, []Problem{{file, 1, "front matter", "the file must start with a --- line"}}
	}
	front, body, ok := bytes.Cut(raw[4:], []byte("\n---\n"))
	if !ok {
		if bytes.HasSuffix(raw[4:], []byte("\n---")) {
			front, body = raw[4:len(raw)-4], nil
		} else {
			return nil, []Problem{{file, 1, "front matter", "no closing --- line"}}
		}
	}
	var fm struct {
		Subject   string `yaml:"subject"`
		Preheader string `yaml:"preheader"`
		SMS       string `yaml:"sms"`
		Exercise  string `yaml:"exercise"`
	}
	if err := yaml.UnmarshalWithOptions(front, &fm, yaml.DisallowUnknownField(), yaml.Strict()); err != nil {
		sub := &loader{}
		sub.yamlError(file, err)
		for i := range sub.problems {
			sub.problems[i].Line++ // the opening --- line
		}
		return nil, sub.problems
	}
	for _, part := range []struct{ name, text string }{{"subject", fm.Subject}, {"preheader", fm.Preheader}, {"sms", fm.SMS}, {"exercise", fm.Exercise}} {
		if strings.ContainsRune(part.text, 0) {
			return nil, []Problem{{file, 2, part.name, nulReason}}
		}
	}
	c := &Content{Path: ref, Subject: strings.TrimSpace(fm.Subject), Preheader: strings.TrimSpace(fm.Preheader),
		SMS: strings.TrimSpace(fm.SMS), Exercise: strings.TrimSpace(fm.Exercise), Body: strings.TrimSpace(string(body))}
	return c, nil
}

const nulReason = "contains a NUL character (\\0), which cannot be stored; remove it"

// notText finds the first line that is not UTF-8 text without NUL bytes: the
// stored definition (PostgreSQL jsonb) cannot hold either as written.
func notText(b []byte) (line int, reason string, bad bool) {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return 1 + bytes.Count(b[:i], []byte("\n")), "not valid UTF-8; save the file as UTF-8", true
		case r == 0:
			return 1 + bytes.Count(b[:i], []byte("\n")), nulReason, true
		}
		i += size
	}
	return 0, "", false
}

// nulStrings reports YAML strings whose escapes ("\0", "\x00") decode to NUL.
func (l *loader) nulStrings() {
	for _, doc := range l.ast.Docs {
		if doc == nil || doc.Body == nil {
			continue
		}
		for _, n := range ast.Filter(ast.StringType, doc.Body) {
			s, ok := n.(*ast.StringNode)
			if !ok || !strings.ContainsRune(s.Value, 0) || s.GetToken() == nil {
				continue
			}
			field := "text"
			if mv, ok := ast.Parent(doc.Body, s).(*ast.MappingValueNode); ok && mv.Key != nil && mv.Key != ast.MapKeyNode(s) {
				field = mv.Key.String()
			}
			l.problems = append(l.problems, Problem{l.file, s.GetToken().Position.Line, field, nulReason})
		}
	}
}
