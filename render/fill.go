package render

import (
	"fmt"
	"strings"
	"sync"

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
	var b strings.Builder
	n := p.size
	for _, s := range p.slots {
		n += len(v[s]) + len(v[s])/4
	}
	b.Grow(n)
	for i, s := range p.slots {
		b.WriteString(p.lits[i])
		if p.html {
			htmlEscape(&b, v[s])
		} else {
			b.WriteString(v[s])
		}
	}
	b.WriteString(p.lits[len(p.lits)-1])
	return b.String()
}

// htmlEscape writes s as html/template writes a string into HTML text or a
// quoted attribute value (its htmlReplacementTable). Skeletons are checked
// against html/template itself before they are used (see probe).
func htmlEscape(b *strings.Builder, s string) {
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
		b.WriteString(s[last:i])
		b.WriteString(r)
		last = i + 1
	}
	b.WriteString(s[last:])
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

func (k *skeleton) fill(p Personal) []string {
	v := p.values()
	out := make([]string, len(k.pieces))
	for i := range k.pieces {
		out[i] = k.pieces[i].fill(&v)
	}
	return out
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
	k, err := f.skeleton(skelKey{step: step, channel: "email", day: v.Day, week: v.Week, phase: v.Phase}, v)
	if err != nil {
		return Email{}, err
	}
	p = f.c.r.withPersonal(p)
	if k.slow || !fillable(p, step.Checkin != nil) {
		return f.slowEmail(step, v, p)
	}
	s := k.fill(p)
	return Email{Subject: s[0], Preheader: s[1], Text: s[2], HTML: s[3]}, nil
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
	return k.fill(p)[0], nil
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
// leaves alone in a URL attribute except for the escaping htmlEscape also
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
		got := k.fill(probe)
		k.slow = got[0] != want.Subject || got[1] != want.Preheader || got[2] != want.Text || got[3] != want.HTML
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
		k.slow = k.fill(probe)[0] != want
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
