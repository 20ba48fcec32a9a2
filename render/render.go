// Package render turns a program step into the exact email or SMS a person
// receives: lesson Markdown through goldmark into the HTML layout
// (html/template, escaped everywhere), a plain-text alternative from the same
// source, and SMS text with the brand prefix and STOP hint.
package render

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"regexp"
	"strings"
	texttemplate "text/template"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"

	"github.com/rekindle/rekindle/programs"
)

// Config is what a deployment adds to every message.
type Config struct {
	Lang          string // html lang attribute, default "en"
	SenderName    string // shown in the footer
	PostalAddress string // the sender's postal address, required by anti-spam law
	SMSBrand      string // prefix for every SMS, e.g. "Rekindle"
	Support       string // support resources (Markdown) for the low-mood branch
	HelpContact   string // where to get help, for HELP replies and footers
}

// Renderer holds the parsed layouts. It is safe for concurrent use.
type Renderer struct {
	cfg  Config
	html *htmltemplate.Template
	text *texttemplate.Template
	md   goldmark.Markdown
	// supportHTML is cfg.Support converted once: nearly every email carries
	// it, and converting it per email was a fifth of an email's render time.
	supportHTML htmltemplate.HTML
	// layoutPrinted says the layouts only print the personal values (see
	// onlyPrinted), so messages can be filled from skeletons.
	layoutPrinted bool
}

// New parses the email layouts from fsys (email/layout.html, email/layout.txt).
func New(fsys fs.FS, cfg Config) (*Renderer, error) {
	if cfg.Lang == "" {
		cfg.Lang = "en"
	}
	h, err := htmltemplate.ParseFS(fsys, "email/layout.html")
	if err != nil {
		return nil, fmt.Errorf("render: email/layout.html: %w", err)
	}
	t, err := texttemplate.ParseFS(fsys, "email/layout.txt")
	if err != nil {
		return nil, fmt.Errorf("render: email/layout.txt: %w", err)
	}
	r := &Renderer{
		cfg:  cfg,
		html: h.Option("missingkey=error"),
		text: t.Option("missingkey=error"),
		md:   goldmark.New(goldmark.WithExtensions(extension.Typographer)),
	}
	r.supportHTML = r.markdownHTML(cfg.Support)
	r.layoutPrinted = htmlPrinted(h) && textPrinted(t)
	return r, nil
}

// Config returns the deployment settings the renderer uses.
func (r *Renderer) Config() Config { return r.cfg }

// Compiled is a program whose content templates are parsed, once.
type Compiled struct {
	r       *Renderer
	Program *programs.Program
	content map[string]*content
}

type content struct {
	subject, preheader, sms, exercise *texttemplate.Template
	bodyHTML                          *htmltemplate.Template
	bodyText                          *texttemplate.Template
	printed                           bool // personal values are only printed (onlyPrinted)
}

// actionRE finds template actions, kept out of goldmark's way.
var actionRE = regexp.MustCompile(`\{\{.*?\}\}`)

// Compile parses every content file of p.
func (r *Renderer) Compile(p *programs.Program) (*Compiled, error) {
	c := &Compiled{r: r, Program: p, content: map[string]*content{}}
	for path, src := range p.Content {
		cc, err := r.compileContent(src)
		if err != nil {
			return nil, fmt.Errorf("render: %s/%s: %w", p.Slug, path, err)
		}
		c.content[path] = cc
	}
	return c, nil
}

func (r *Renderer) compileContent(src *programs.Content) (*content, error) {
	cc := &content{}
	var err error
	parse := func(name, text string) *texttemplate.Template {
		if err != nil {
			return nil
		}
		var t *texttemplate.Template
		t, err = texttemplate.New(name).Option("missingkey=error").Parse(text)
		if err != nil {
			err = fmt.Errorf("%s: %w", name, err)
		}
		return t
	}
	cc.subject = parse("subject", src.Subject)
	cc.preheader = parse("preheader", src.Preheader)
	cc.sms = parse("sms", src.SMS)
	cc.exercise = parse("exercise", src.Exercise)
	cc.bodyText = parse("body", markdownToText(src.Body))
	if err != nil {
		return nil, err
	}

	// Markdown to HTML once, with template actions swapped for placeholders
	// so goldmark leaves them alone; html/template then escapes what the
	// actions produce for the context they sit in.
	var actions []string
	protected := actionRE.ReplaceAllStringFunc(src.Body, func(a string) string {
		actions = append(actions, a)
		return fmt.Sprintf("RKACTION%dX", len(actions)-1)
	})
	var buf bytes.Buffer
	if err := r.md.Convert([]byte(protected), &buf); err != nil {
		return nil, fmt.Errorf("body: markdown: %w", err)
	}
	html := buf.String()
	for i, a := range actions {
		// Support resources are Markdown from the deployment: the HTML body
		// takes them already converted (see emailVars).
		a = strings.ReplaceAll(a, ".Support", ".SupportHTML")
		html = strings.ReplaceAll(html, fmt.Sprintf("RKACTION%dX", i), a)
	}
	// A lone {{.Support}} paragraph would otherwise wrap a list in <p>.
	html = strings.ReplaceAll(html, "<p>{{.SupportHTML}}</p>", "{{.SupportHTML}}")
	cc.bodyHTML, err = htmltemplate.New("body").Option("missingkey=error").Parse(html)
	if err != nil {
		return nil, fmt.Errorf("body: %w", err)
	}
	// Looked at now, before the first Execute adds html/template's escapers.
	cc.printed = htmlPrinted(cc.bodyHTML) && textPrinted(cc.subject) && textPrinted(cc.preheader) &&
		textPrinted(cc.sms) && textPrinted(cc.exercise) && textPrinted(cc.bodyText)
	return cc, nil
}

func (c *Compiled) contentOf(step *programs.Step) (*content, error) {
	cc, ok := c.content[step.ContentRef]
	if !ok {
		return nil, fmt.Errorf("render: step %s: no content %q", step.Key, step.ContentRef)
	}
	return cc, nil
}

func htmlPrinted(t *htmltemplate.Template) bool {
	for _, d := range t.Templates() {
		if !onlyPrinted(d.Tree) {
			return false
		}
	}
	return true
}

func textPrinted(t *texttemplate.Template) bool {
	for _, d := range t.Templates() {
		if !onlyPrinted(d.Tree) {
			return false
		}
	}
	return true
}

func execText(t *texttemplate.Template, v any) (string, error) {
	var sb strings.Builder
	if err := t.Execute(&sb, v); err != nil {
		return "", err
	}
	return strings.TrimSpace(sb.String()), nil
}
