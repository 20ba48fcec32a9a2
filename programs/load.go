package programs

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// FileName is the program definition inside a program folder.
const FileName = "program.yaml"

// ErrNoPrograms means a folder holds no program: no program.yaml in it, nor
// in any folder directly under it.
var ErrNoPrograms = errors.New("no " + FileName + " in it or in any folder directly under it")

// LoadAll loads every program folder (a folder holding program.yaml) directly
// under root in fsys, or root itself when it is a program folder. It returns
// the programs by slug, or a *ValidationError listing every problem in every
// program; on error nothing is returned.
func LoadAll(fsys fs.FS, root string) (map[string]*Program, error) {
	if _, err := fs.Stat(fsys, path.Join(root, FileName)); err == nil {
		p, err := Load(fsys, root)
		if err != nil {
			return nil, err
		}
		return map[string]*Program{p.Slug: p}, nil
	}
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
		return nil, fmt.Errorf("programs: %q: %w", root, ErrNoPrograms)
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
		return nil, &ValidationError{Problems: distinct(l.problems)}
	}
	p.index()
	return p, nil
}

// distinct drops repeats of a problem, keeping the first of each: a
// content file two steps share is one file, with its problems once.
func distinct(problems []Problem) []Problem {
	seen := map[Problem]bool{}
	out := problems[:0]
	for _, p := range problems {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
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

// yamlError turns a go-yaml error into a located problem. An error about a
// value's type names the field it is in (its path of keys, as validation
// names fields) and says what is wanted, not which Go type was.
func (l *loader) yamlError(file string, err error) {
	var ye yaml.Error
	if errors.As(err, &ye) && ye.GetToken() != nil {
		tok := ye.GetToken()
		field, reason := "yaml", ye.GetMessage()
		var uf *yaml.UnknownFieldError
		var te *yaml.TypeError
		var ne *yaml.UnexpectedNodeTypeError
		var oe *yaml.OverflowError
		switch {
		case errors.As(err, &uf):
			field = tok.Value
			if strings.TrimSpace(field) == "" {
				field = strconv.Quote(field) // a blank key stays visible
			}
		case errors.As(err, &te):
			reason = fmt.Sprintf("want %s, not %s", goKind(te.DstType), goKind(te.SrcType))
			if k := te.SrcType; k != nil && k.Kind() != reflect.Slice && k.Kind() != reflect.Map {
				reason += fmt.Sprintf(" (%q)", tok.Value)
			}
			field = l.fieldAt(tok, field)
		case errors.As(err, &ne):
			reason = fmt.Sprintf("want %s, not %s", nodeKind(ne.Expected), nodeKind(ne.Actual))
			if scalar(ne.Actual) {
				reason += fmt.Sprintf(" (%q)", tok.Value)
			}
			field = l.fieldAt(tok, field)
		case errors.As(err, &oe):
			reason = fmt.Sprintf("%s is too large for %s", oe.SrcNum, goKind(oe.DstType))
			field = l.fieldAt(tok, field)
		}
		l.problems = append(l.problems, Problem{file, tok.Position.Line, field, reason})
		return
	}
	// A duration that does not parse comes back from time.ParseDuration
	// without a place: find it.
	if strings.HasPrefix(err.Error(), "time: ") {
		if field, tok := l.badDuration(); tok != nil {
			l.problems = append(l.problems, Problem{file, tok.Position.Line, field,
				fmt.Sprintf("%q is not a duration (write it like 20h or 90m)", tok.Value)})
			return
		}
	}
	l.problems = append(l.problems, Problem{file, 1, "yaml", err.Error()})
}

// durationFields are the keys whose values are Durations.
var durationFields = map[string]bool{"pacing": true, "answer_window": true}

// badDuration finds the first duration field whose value does not parse.
func (l *loader) badDuration() (string, *token.Token) {
	var field string
	var found *token.Token
	l.walk(func(path []string, key string, n ast.Node) bool {
		if found != nil {
			return false
		}
		if s, ok := n.(ast.ScalarNode); ok && durationFields[key] && n.GetToken() != nil {
			if _, err := time.ParseDuration(fmt.Sprint(s.GetValue())); err != nil {
				field, found = fieldName(path), n.GetToken()
				return false
			}
		}
		return true
	})
	return field, found
}

// fieldAt names the field whose value is at tok, e.g. steps[lesson-01].day
// or phases[0].title; fallback when it is not found.
func (l *loader) fieldAt(tok *token.Token, fallback string) string {
	name := ""
	l.walk(func(path []string, _ string, n ast.Node) bool {
		if name != "" {
			return false
		}
		if t := n.GetToken(); t != nil && (t == tok || t.Position.Offset == tok.Position.Offset && t.Position.Line == tok.Position.Line) && len(path) > 0 {
			name = fieldName(path)
			return false
		}
		return true
	})
	if name == "" {
		return fallback
	}
	return name
}

// fieldName joins a path of keys and list entries as validation names
// fields: a step is steps[its key], whichever track it is in.
func fieldName(path []string) string {
	if len(path) > 0 && path[0] == "" {
		path = path[1:]
	}
	for i := len(path) - 1; i > 0; i-- {
		if strings.HasPrefix(path[i], "steps[") && !strings.HasPrefix(path[i], "steps[#") {
			path = path[i:]
			break
		}
	}
	var b strings.Builder
	for i, p := range path {
		if i > 0 && !strings.HasPrefix(p, "[") {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return strings.ReplaceAll(b.String(), "[#", "[")
}

// walk visits every node of the parsed file, outer nodes first, with the
// path of keys and list entries to it and the key it is the value of;
// visit returns false to stop descending.
func (l *loader) walk(visit func(path []string, key string, n ast.Node) bool) {
	if l.ast == nil {
		return
	}
	var rec func(path []string, key string, n ast.Node)
	rec = func(path []string, key string, n ast.Node) {
		if n == nil || !visit(path, key, n) {
			return
		}
		switch n := n.(type) {
		case *ast.DocumentNode:
			rec(path, key, n.Body)
		case *ast.TagNode:
			rec(path, key, n.Value)
		case *ast.AnchorNode:
			rec(path, key, n.Value)
		case *ast.MappingNode:
			for _, mv := range n.Values {
				rec(path, key, mv)
			}
		case *ast.MappingValueNode:
			k := keyName(n.Key)
			rec(append(path[:len(path):len(path)], k), k, n.Value)
		case *ast.SequenceNode:
			last := path[len(path)-1:]
			for i, v := range n.Values {
				item := fmt.Sprintf("[#%d]", i)
				if k := itemKey(v); k != "" {
					item = "[" + k + "]"
				}
				p := append(path[:len(path)-1:len(path)-1], last[0]+item)
				rec(p, key, v)
			}
		}
	}
	for _, doc := range l.ast.Docs {
		rec([]string{""}, "", doc)
	}
}

func keyName(k ast.MapKeyNode) string {
	if s, ok := k.(ast.ScalarNode); ok {
		return fmt.Sprint(s.GetValue())
	}
	return k.String()
}

// itemKey is the key: a list entry gives itself (steps, tracks, phases).
func itemKey(n ast.Node) string {
	var values []*ast.MappingValueNode
	switch n := n.(type) {
	case *ast.MappingNode:
		values = n.Values
	case *ast.MappingValueNode:
		values = []*ast.MappingValueNode{n}
	}
	for _, mv := range values {
		if keyName(mv.Key) == "key" {
			if s, ok := mv.Value.(ast.ScalarNode); ok {
				return fmt.Sprint(s.GetValue())
			}
		}
	}
	return ""
}

// goKind says in words what a Go type holds.
func goKind(t reflect.Type) string {
	if t == nil {
		return "a value"
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "a mapping (key: value lines)"
	}
	return t.String()
}

// nodeKind says in words what a YAML node is.
func nodeKind(t ast.NodeType) string {
	switch t {
	case ast.SequenceType:
		return "a list"
	case ast.MappingType, ast.MappingValueType:
		return "a mapping (key: value lines)"
	case ast.IntegerType:
		return "a whole number"
	case ast.FloatType, ast.InfinityType, ast.NanType:
		return "a number"
	case ast.StringType, ast.LiteralType:
		return "text"
	case ast.BoolType:
		return "true or false"
	case ast.NullType:
		return "nothing"
	}
	return t.YAMLName()
}

func scalar(t ast.NodeType) bool {
	switch t {
	case ast.IntegerType, ast.FloatType, ast.StringType, ast.BoolType, ast.InfinityType, ast.NanType:
		return true
	}
	return false
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
		if f, perr := parser.ParseBytes(front, 0); perr == nil {
			sub.ast = f // to name the field of a type error
		}
		sub.yamlError(file, err)
		for i := range sub.problems {
			sub.problems[i].Line++ // the opening --- line
		}
		return nil, sub.problems
	}
	lines := contentLines(front, body)
	for _, part := range []struct{ name, text string }{{"subject", fm.Subject}, {"preheader", fm.Preheader}, {"sms", fm.SMS}, {"exercise", fm.Exercise}} {
		if strings.ContainsRune(part.text, 0) {
			return nil, []Problem{{file, lines[part.name], part.name, nulReason}}
		}
	}
	c := &Content{Path: ref, Subject: strings.TrimSpace(fm.Subject), Preheader: strings.TrimSpace(fm.Preheader),
		SMS: strings.TrimSpace(fm.SMS), Exercise: strings.TrimSpace(fm.Exercise), Body: strings.TrimSpace(string(body)),
		file: file, lines: lines}
	return c, nil
}

// frontFields are the front-matter fields of a content file.
var frontFields = []string{"subject", "preheader", "sms", "exercise"}

// contentLines finds the line of each front-matter field (its key; line 2,
// the first of the front matter, for one not given) and of the body's
// first text, in a file whose front matter (after the opening --- line) is
// front and whose text after the closing --- line is body.
func contentLines(front, body []byte) map[string]int {
	closing := 2 + bytes.Count(front, []byte("\n")) + 1 // the closing --- line
	lead := len(body) - len(bytes.TrimLeftFunc(body, unicode.IsSpace))
	lines := map[string]int{"body": closing + 1 + bytes.Count(body[:lead], []byte("\n"))}
	for _, name := range frontFields {
		lines[name] = 2
	}
	f, err := parser.ParseBytes(front, 0)
	if err != nil {
		return lines
	}
	for _, doc := range f.Docs {
		if doc == nil {
			continue
		}
		var values []*ast.MappingValueNode
		switch n := doc.Body.(type) {
		case *ast.MappingNode:
			values = n.Values
		case *ast.MappingValueNode:
			values = []*ast.MappingValueNode{n}
		}
		for _, mv := range values {
			if tok := mv.Key.GetToken(); tok != nil && slices.Contains(frontFields, keyName(mv.Key)) {
				lines[keyName(mv.Key)] = tok.Position.Line + 1 // after the opening --- line
			}
		}
	}
	return lines
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
