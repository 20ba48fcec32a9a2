package render

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"

	"github.com/rekindle/rekindle/programs"
)

// Email is a rendered email.
type Email struct {
	Subject   string
	Preheader string
	Text      string
	HTML      string
}

// CheckinLinks are the one-click answer links an email check-in carries.
type CheckinLinks struct {
	Question string
	Answers  []AnswerLink
}

// LinksFor makes one answer link per accepted answer of a check-in (nil
// when the step asks nothing); url builds each answer's link.
func LinksFor(c *programs.Checkin, url func(value string) string) *CheckinLinks {
	if c == nil {
		return nil
	}
	links := &CheckinLinks{Question: c.Question}
	for _, a := range c.Answers {
		label := a.Label
		if label == "" {
			label = a.Value
		}
		links.Answers = append(links.Answers, AnswerLink{Label: label, URL: url(a.Value)})
	}
	return links
}

// AnswerLink is one answer button.
type AnswerLink struct {
	Label string
	URL   string
}

// layoutData is what email/layout.html and email/layout.txt are executed with.
type layoutData struct {
	Lang           string
	Subject        string
	Preheader      string
	Body           htmltemplate.HTML
	BodyText       string
	Exercise       string
	ProgramTitle   string
	PhaseTitle     string
	Day, Week      int
	Checkin        *CheckinLinks
	ManageURL      string
	UnsubscribeURL string
	PostalAddress  string
	SenderName     string
	// HelpContact is where to get help (REKINDLE_SUPPORT_CONTACT): the
	// footer gives it, so nobody has to reply to a sender that reads no
	// mail to find a person.
	HelpContact string
}

// Email renders step for email. checkin is nil for steps that ask nothing.
func (c *Compiled) Email(step *programs.Step, v programs.Vars, checkin *CheckinLinks) (Email, error) {
	cc, err := c.contentOf(step)
	if err != nil {
		return Email{}, err
	}
	v = c.r.withDefaults(v)
	var e Email
	var exercise string
	if e.Subject, err = execText(cc.subject, v); err != nil {
		return Email{}, fmt.Errorf("render: %s subject: %w", step.Key, err)
	}
	if e.Preheader, err = execText(cc.preheader, v); err != nil {
		return Email{}, fmt.Errorf("render: %s preheader: %w", step.Key, err)
	}
	if exercise, err = execText(cc.exercise, v); err != nil {
		return Email{}, fmt.Errorf("render: %s exercise: %w", step.Key, err)
	}
	// Builders sized for a whole email: growing by doubling copied every
	// body several times, and String() on a Builder does not copy again.
	var body strings.Builder
	body.Grow(8 << 10)
	support := c.r.supportHTML
	if v.Support != c.r.cfg.Support {
		support = c.r.markdownHTML(v.Support)
	}
	if err := cc.bodyHTML.Execute(&body, emailVars{v, support}); err != nil {
		return Email{}, fmt.Errorf("render: %s body: %w", step.Key, err)
	}
	bodyText, err := execText(cc.bodyText, v)
	if err != nil {
		return Email{}, fmt.Errorf("render: %s body: %w", step.Key, err)
	}
	if checkin != nil && checkin.Question == "" {
		checkin.Question = step.Checkin.Question
	}
	d := layoutData{
		Lang: c.r.cfg.Lang, Subject: e.Subject, Preheader: e.Preheader,
		Body: htmltemplate.HTML(body.String()), BodyText: bodyText, Exercise: exercise,
		ProgramTitle: c.Program.Title, PhaseTitle: v.Phase, Day: v.Day, Week: v.Week,
		Checkin: checkin, ManageURL: v.ManageURL, UnsubscribeURL: v.UnsubscribeURL,
		PostalAddress: c.r.cfg.PostalAddress, SenderName: c.r.cfg.SenderName, HelpContact: v.HelpContact,
	}
	var html, text strings.Builder
	html.Grow(body.Len() + 10<<10)
	text.Grow(len(bodyText) + 2<<10)
	if err := c.r.html.Execute(&html, d); err != nil {
		return Email{}, fmt.Errorf("render: %s layout.html: %w", step.Key, err)
	}
	if err := c.r.text.Execute(&text, d); err != nil {
		return Email{}, fmt.Errorf("render: %s layout.txt: %w", step.Key, err)
	}
	e.HTML = html.String()
	e.Text = strings.TrimSpace(text.String()) + "\n"
	return e, nil
}

// emailVars is what the HTML body runs with: the variables plus the
// deployment's support resources turned from Markdown into HTML.
type emailVars struct {
	programs.Vars
	SupportHTML htmltemplate.HTML
}

// markdownHTML converts operator-written Markdown (trusted config) to HTML.
func (r *Renderer) markdownHTML(md string) htmltemplate.HTML {
	var b bytes.Buffer
	if err := r.md.Convert([]byte(md), &b); err != nil {
		return htmltemplate.HTML(htmltemplate.HTMLEscapeString(md))
	}
	return htmltemplate.HTML(b.String())
}

// fallbackName is how a message greets someone who gave no name.
const fallbackName = "there"

// withDefaults fills what a message must never show blank.
func (r *Renderer) withDefaults(v programs.Vars) programs.Vars {
	if strings.TrimSpace(v.FirstName) == "" {
		v.FirstName = fallbackName
	}
	if v.Support == "" {
		v.Support = r.cfg.Support
	}
	if v.HelpContact == "" {
		v.HelpContact = r.cfg.HelpContact
	}
	return v
}
