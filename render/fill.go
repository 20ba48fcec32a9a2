package render

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"unsafe"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/smsseg"
)

// Personal is what differs between two people who get the same step on the
// same program day: everything else in a message is the same for both.
type Personal struct {
	FirstName      string
	ManageURL      string
	UnsubscribeURL string
	CheckinToken   string // the check-in's answer token; empty when the step asks nothing
}

// The personal values in slot order, and the markers that stand for them in
// a skeleton. A marker is letters and digits only, so every escaper
// html/template might apply leaves it as it is and it can be found again.
const (
	slotName = iota
	slotManage
	slotUnsubscribe
	slotToken
	slotCount
)

const markerPrefix, markerSuffix = "zRkSlot", "Qz"

func marker(slot int) string { return fmt.Sprintf("%s%d%s", markerPrefix, slot, markerSuffix) }

func (p Personal) values() [slotCount]string {
	return [slotCount]string{p.FirstName, p.ManageURL, p.UnsubscribeURL, p.CheckinToken}
}

// piece is one rendered text (a subject, a body) cut at its markers: lits
// holds the text between them, slots which value goes in each gap.
type piece struct {
	lits  []string
	slots []int
	html  bool // values are escaped as html/template escapes text and quoted attributes
	size  int
}

func cut(s string, html bool) piece {
	p := piece{html: html, size: len(s)}
	for {
		i := strings.Index(s, markerPrefix)
		if i < 0 || i+len(markerPrefix)+1+len(markerSuffix) > len(s) {
			break
		}
		j := i + len(markerPrefix)
		slot := int(s[j] - '0')
		if slot < 0 || slot >= slotCount || !strings.HasPrefix(s[j+1:], markerSuffix) {
			break // not one of ours; the probe comparison will refuse this skeleton
		}
		p.lits = append(p.lits, s[:i])
		p.slots = append(p.slots, slot)
		s = s[j+1+len(markerSuffix):]
	}
	p.lits = append(p.lits, s)
	return p
}

func (p *piece) fill(v *[slotCount]string) string {
	if len(p.slots) == 0 {
		return p.lits[0]
	}
	b := p.appendTo(make([]byte, 0, p.filledSize(v)), v)
	// As strings.Builder does: b is never written again.
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// filledSize is about how long the piece is once filled with v: the
// markers' length to spare, and a quarter more for escaped characters.
func (p *piece) filledSize(v *[slotCount]string) int {
	n := p.size
	for _, s := range p.slots {
		n += len(v[s]) + len(v[s])/4
	}
	return n
}

// appendTo appends the piece filled with v to b.
func (p *piece) appendTo(b []byte, v *[slotCount]string) []byte {
	for i, s := range p.slots {
		b = append(b, p.lits[i]...)
		if p.html {
			b = appendHTMLEscaped(b, v[s])
		} else {
			b = append(b, v[s]...)
		}
	}
	return append(b, p.lits[len(p.lits)-1]...)
}

// appendHTMLEscaped appends s as html/template writes a string into HTML
// text or a quoted attribute value (its htmlReplacementTable). Skeletons
// are checked against html/template itself before they are used (see
// probe).
func appendHTMLEscaped(b []byte, s string) []byte {
	last := 0
	for i := 0; i < len(s); i++ {
		var r string
		switch s[i] {
		case 0:
			r = "\uFFFD"
		case '"':
			r = "&#34;"
		case '&':
			r = "&amp;"
		case '\'':
			r = "&#39;"
		case '+':
			r = "&#43;"
		case '<':
			r = "&lt;"
		case '>':
			r = "&gt;"
		default:
			continue
		}
		b = append(b, s[last:i]...)
		b = append(b, r...)
		last = i + 1
	}
	return append(b, s[last:]...)
}

// skeleton is one step's message for one channel and program day, rendered
// once with markers where the personal values go. An email has four pieces
// (subject, preheader, text, HTML), an SMS one.
type skeleton struct {
	pieces []piece
	// slow is set when the skeleton could not be trusted to give what the
	// templates give (a template that does more with a value than print
	// it): that step is rendered in full every time.
	slow bool
}

// text fills an SMS skeleton, whose one piece is the text.
func (k *skeleton) text(p Personal) string {
	v := p.values()
	return k.pieces[0].fill(&v)
}

// appendEmail fills an email skeleton into b's spare capacity: the four
// texts are views of the grown buffer it returns (see Fast.AppendEmail).
func (k *skeleton) appendEmail(b []byte, p Personal) (Email, []byte) {
	v := p.values()
	n := 0
	for i := range k.pieces {
		n += k.pieces[i].filledSize(&v)
	}
	b = slices.Grow(b, n)
	var ends [4]int
	for i := range k.pieces {
		b = k.pieces[i].appendTo(b, &v)
		ends[i] = len(b)
	}
	var out [4]string
	from := 0
	for i, end := range ends {
		out[i] = unsafe.String(unsafe.SliceData(b[from:]), end-from)
		from = end
	}
	return Email{Subject: out[0], Preheader: out[1], Text: out[2], HTML: out[3]}, b
}

// Fast renders a step for one person by filling a skeleton of it that is
// rendered once per step, channel and program day. A render with
// html/template costs tens of microseconds; filling a skeleton is a copy.
// Each skeleton is checked when it is made: filled with awkward probe
// values (markup, quotes, ampersands, plus signs), it must give byte for
// byte what the templates give for them, or that step is always rendered
// in full. It is safe for concurrent use.
type Fast struct {
	c *Compiled
	// checkinURL makes a check-in answer link from a token and an answer.
	checkinURL func(token, value string) string

	mu    sync.RWMutex
	skels map[skelKey]*skeleton
}

type skelKey struct {
	step      *programs.Step
	channel   string
	day, week int
	phase     string
	stopHint  bool
}

// maxSkeletons bounds the cache: steps times channels times the days a
// repeating step can fall on is a few thousand for a long program.
const maxSkeletons = 1 << 14

// Fast returns a skeleton renderer for c whose check-in links are made by
// checkinURL.
func (c *Compiled) Fast(checkinURL func(token, value string) string) *Fast {
	return &Fast{c: c, checkinURL: checkinURL, skels: map[skelKey]*skeleton{}}
}

// Compiled is the program f renders.
func (f *Fast) Compiled() *Compiled { return f.c }

// Email renders step as email for one person. v holds the values shared by
// everyone on that program day (ProgramTitle, Day, Week, Phase).
func (f *Fast) Email(step *programs.Step, v programs.Vars, p Personal) (Email, error) {
	m, _, err := f.AppendEmail(nil, step, v, p)
	return m, err
}

// AppendEmail renders as Email does, into buf's spare capacity, and returns
// the grown buffer. The email's texts share buf's memory: they are valid
// until buf is written again, and anything that keeps them must copy them.
// A dispatcher worker renders every email it sends into one buffer, so a
// message's 10 kB are not garbage for the collector to find (it was half of
// all the bytes the engine allocated). A step the skeletons cannot render
// is rendered in full, into memory of its own, and buf is returned as it
// came.
func (f *Fast) AppendEmail(buf []byte, step *programs.Step, v programs.Vars, p Personal) (Email, []byte, error) {
	k, err := f.skeleton(skelKey{step: step, channel: "email", day: v.Day, week: v.Week, phase: v.Phase}, v)
	if err != nil {
		return Email{}, buf, err
	}
	p = f.c.r.withPersonal(p)
	if k.slow || !fillable(p, step.Checkin != nil) {
		m, err := f.slowEmail(step, v, p)
		return m, buf, err
	}
	m, buf := k.appendEmail(buf, p)
	return m, buf, nil
}

// SMS renders step as SMS for one person, with the STOP hint when asked.
func (f *Fast) SMS(step *programs.Step, v programs.Vars, p Personal, stopHint bool) (string, error) {
	k, err := f.skeleton(skelKey{step: step, channel: "sms", day: v.Day, week: v.Week, phase: v.Phase, stopHint: stopHint}, v)
	if err != nil {
		return "", err
	}
	p = f.c.r.withPersonal(p)
	// The name as GSM-7 can send it, so that one accent does not make every
	// text to this person UCS-2 (two or three times the segments). Done
	// here and in Compiled.SMS, not in the rendering they share, so the
	// skeleton check keeps comparing like with like.
	p.FirstName = smsseg.Plain(p.FirstName)
	if k.slow || !fillable(p, false) {
		return f.slowSMS(step, v, p, stopHint)
	}
	return k.text(p), nil
}

func (f *Fast) skeleton(key skelKey, v programs.Vars) (*skeleton, error) {
	f.mu.RLock()
	k := f.skels[key]
	f.mu.RUnlock()
	if k != nil {
		return k, nil
	}
	k, err := f.build(key, v)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	if len(f.skels) >= maxSkeletons {
		clear(f.skels)
	}
	f.skels[key] = k
	f.mu.Unlock()
	return k, nil
}

// probe is the person a skeleton is checked with: every character
// html/template escapes in text and attributes, in the name and the links.
// The links hold every character urlSafe allows that an escaper changes.
var probe = Personal{
	FirstName:      "Zoë <b>\"O'Brien\"</b> & Co+1\x00",
	ManageURL:      `https://probe.test:8443/manage/s42.x9y.ab-_Cd~?q=1&r=2+3;@!$*,[]#top`,
	UnsubscribeURL: `https://probe.test/unsubscribe/s42.email.x9y.ab-_Cd?q=1&r=2+3`,
	CheckinToken:   "0123456789abcdef0123456789abcdef",
}

// fillable reports whether a skeleton gives this person's message: the
// templates may test whether a value is set (onlyPrinted), and in the
// skeleton every value is; the links must be urlSafe; and the name must not
// start or end with spaces, which a text that starts or ends with it loses
// when the template's output is trimmed.
func fillable(p Personal, checkin bool) bool {
	return p.ManageURL != "" && p.UnsubscribeURL != "" && (!checkin || p.CheckinToken != "") &&
		urlSafe(p.ManageURL) && urlSafe(p.UnsubscribeURL) && urlSafe(p.CheckinToken) &&
		p.FirstName == strings.TrimSpace(p.FirstName)
}

// urlSafe reports whether a link holds only characters that html/template
// leaves alone in a URL attribute except for the escaping appendHTMLEscaped also
// does (& and +): for such a link, one escaping is right in an href and in
// text alike. Links made by token.Links always are; any other goes the
// slow way.
func urlSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if !urlSafeByte[s[i]] {
			return false
		}
	}
	return true
}

var urlSafeByte = func() (t [256]bool) {
	// Not %: html/template keeps it only as the start of a valid escape.
	for _, c := range []byte("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!#$&*+,/:;=?@[]") {
		t[c] = true
	}
	return t
}()

func (f *Fast) build(key skelKey, v programs.Vars) (*skeleton, error) {
	var marked Personal
	marked.FirstName, marked.ManageURL, marked.UnsubscribeURL, marked.CheckinToken =
		marker(slotName), marker(slotManage), marker(slotUnsubscribe), marker(slotToken)
	k := &skeleton{}
	if cc, err := f.c.contentOf(key.step); err != nil {
		return nil, err
	} else if !cc.printed || (key.channel == "email" && !f.c.r.layoutPrinted) {
		k.slow = true
		return k, nil
	}
	switch key.channel {
	case "email":
		m, err := f.slowEmail(key.step, v, marked)
		if err != nil {
			return nil, err
		}
		k.pieces = []piece{cut(m.Subject, false), cut(m.Preheader, false), cut(m.Text, false), cut(m.HTML, true)}
		want, err := f.slowEmail(key.step, v, probe)
		if err != nil {
			return nil, err
		}
		got, _ := k.appendEmail(nil, probe)
		k.slow = got != want
	default:
		text, err := f.slowSMS(key.step, v, marked, key.stopHint)
		if err != nil {
			return nil, err
		}
		k.pieces = []piece{cut(text, false)}
		want, err := f.slowSMS(key.step, v, probe, key.stopHint)
		if err != nil {
			return nil, err
		}
		k.slow = k.text(probe) != want
	}
	return k, nil
}

// slowEmail renders with html/template, the reference the skeletons are
// checked against.
func (f *Fast) slowEmail(step *programs.Step, v programs.Vars, p Personal) (Email, error) {
	v.FirstName, v.ManageURL, v.UnsubscribeURL = p.FirstName, p.ManageURL, p.UnsubscribeURL
	links := LinksFor(step.Checkin, func(value string) string { return f.checkinURL(p.CheckinToken, value) })
	return f.c.Email(step, v, links)
}

// slowSMS renders the SMS text in full. Whether it needs the STOP hint is
// decided on the text without the person's name, as the skeleton decides it:
// a name such as Christopher does not say how to opt out.
func (f *Fast) slowSMS(step *programs.Step, v programs.Vars, p Personal, stopHint bool) (string, error) {
	v.FirstName, v.ManageURL, v.UnsubscribeURL = p.FirstName, p.ManageURL, p.UnsubscribeURL
	return f.c.sms(step, v, stopHint)
}

// withPersonal fills the personal values that must never show blank.
func (r *Renderer) withPersonal(p Personal) Personal {
	if strings.TrimSpace(p.FirstName) == "" {
		p.FirstName = fallbackName
	}
	return p
}
