package programs

import (
	"errors"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/template"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/robfig/cron/v3"

	"github.com/rekindle/rekindle/smsseg"
)

var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]*$`)

// CronParser is the one cron dialect programs use: five fields, evaluated in
// the subscriber's own zone.
var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ParseCron parses a program cron expression.
func ParseCron(spec string) (cron.Schedule, error) { return cronParser.Parse(spec) }

// zonePrefix refuses a cron with its own zone (CRON_TZ=, TZ=) in a program
// being validated: the scheduler runs a cron on each person's own wall
// clock, where a zone of its own means nothing sensible. Versions stored
// before this rule still parse (ParseCron), so no one pinned to one stops.
func zonePrefix(spec string) error {
	if t := strings.TrimSpace(spec); strings.HasPrefix(t, "CRON_TZ=") || strings.HasPrefix(t, "TZ=") {
		return errors.New("a zone prefix is not allowed: a cron runs in each person's own time zone")
	}
	return nil
}

var validKinds = []string{KindLesson, KindCheckin, KindMessage}
var validChannels = []string{"email", "sms"}

// validate checks everything and loads content; problems go to l.problems.
func (l *loader) validate(p *Program) {
	if !keyPattern.MatchString(p.Slug) {
		l.problem("$.slug", "slug", fmt.Sprintf("%q must be lower-case letters, digits and dashes", p.Slug))
	}
	if strings.TrimSpace(p.Title) == "" {
		l.problem("$.title", "title", "required")
	}
	if strings.TrimSpace(p.Version) == "" {
		l.problem("$.version", "version", "required")
	}
	if p.DefaultTimezone != "" {
		if _, err := time.LoadLocation(p.DefaultTimezone); err != nil || p.DefaultTimezone == "Local" {
			l.problem("$.default_timezone", "default_timezone", fmt.Sprintf("%q is not an IANA time zone", p.DefaultTimezone))
		}
	}
	if p.QuietHours != nil {
		if _, err := parseClock(p.QuietHours.Start); err != nil {
			l.problem("$.quiet_hours.start", "quiet_hours.start", err.Error())
		}
		if _, err := parseClock(p.QuietHours.End); err != nil {
			l.problem("$.quiet_hours.end", "quiet_hours.end", err.Error())
		}
	}
	if p.Pacing < 0 {
		l.problem("$.pacing", "pacing", "must not be negative")
	}
	if msg := smsFrequencyProblem(p.SMSFrequency); msg != "" {
		l.problem("$.sms_frequency", "sms_frequency", msg)
	}

	phases := map[string]bool{}
	if len(p.Phases) == 0 {
		l.problem("$.phases", "phases", "at least one phase is required")
	}
	for i, ph := range p.Phases {
		at := fmt.Sprintf("$.phases[%d].key", i)
		switch {
		case !keyPattern.MatchString(ph.Key):
			l.problem(at, "phases.key", fmt.Sprintf("%q must be lower-case letters, digits and dashes", ph.Key))
		case phases[ph.Key]:
			l.problem(at, "phases.key", fmt.Sprintf("duplicate phase %q", ph.Key))
		}
		phases[ph.Key] = true
	}

	tracks := map[string]bool{}
	steps := map[string]*Step{}
	if len(p.Tracks) == 0 {
		l.problem("$.tracks", "tracks", "at least one track is required")
	}
	for ti, t := range p.Tracks {
		at := fmt.Sprintf("$.tracks[%d]", ti)
		switch {
		case !keyPattern.MatchString(t.Key):
			l.problem(at+".key", "tracks.key", fmt.Sprintf("%q must be lower-case letters, digits and dashes", t.Key))
		case tracks[t.Key]:
			l.problem(at+".key", "tracks.key", fmt.Sprintf("duplicate track %q", t.Key))
		}
		tracks[t.Key] = true
		if ti == 0 && t.OnDemand {
			l.problem(at+".on_demand", "tracks.on_demand", "the first track is where everyone starts; it cannot be on-demand")
		}
		if len(t.Steps) == 0 {
			l.problem(at+".steps", "tracks.steps", fmt.Sprintf("track %q has no steps", t.Key))
		}
		for si, s := range t.Steps {
			sp := fmt.Sprintf("%s.steps[%d]", at, si)
			if s == nil {
				l.problem(sp, "steps", "empty step")
				continue
			}
			if !keyPattern.MatchString(s.Key) {
				l.problem(sp+".key", "steps.key", fmt.Sprintf("%q must be lower-case letters, digits and dashes", s.Key))
			} else if _, dup := steps[s.Key]; dup {
				l.problem(sp+".key", "steps.key", fmt.Sprintf("duplicate step key %q", s.Key))
			} else {
				steps[s.Key] = s
			}
			l.validateStep(p, s, t.OnDemand, sp, phases)
		}
	}
	// References between steps and tracks need every key first.
	for ti, t := range p.Tracks {
		for si, s := range t.Steps {
			if s == nil || s.Checkin == nil {
				continue
			}
			for bi, b := range s.Checkin.Branches {
				bp := fmt.Sprintf("$.tracks[%d].steps[%d].checkin.branches[%d]", ti, si, bi)
				field := fmt.Sprintf("steps[%s].checkin.branches[%d]", s.Key, bi)
				l.validateActions(b.Send, b.Switch, bp, field, steps, tracks)
				if e := b.Extend; e != nil && e.AtLimit != "" && steps[e.AtLimit] == nil {
					l.problem(bp+".extend.at_limit", field+".extend.at_limit", fmt.Sprintf("no step %q", e.AtLimit))
				}
			}
		}
	}
	for ci, c := range p.Commands {
		cp := fmt.Sprintf("$.commands[%d]", ci)
		if len(c.Match) == 0 {
			l.problem(cp, fmt.Sprintf("commands[%d].match", ci), "at least one word is required")
		}
		if c.Send == "" && c.Switch == "" {
			l.problem(cp, fmt.Sprintf("commands[%d]", ci), "needs send or switch")
		}
		if c.Label != "" && (strings.TrimSpace(c.Label) != c.Label || utf8.RuneCountInString(c.Label) > 60 || strings.ContainsFunc(c.Label, unicode.IsControl)) {
			l.problem(cp+".label", fmt.Sprintf("commands[%d].label", ci), "a button's words: at most 60 characters, on one line, without spaces around them")
		}
		l.validateActions(c.Send, c.Switch, cp, fmt.Sprintf("commands[%d]", ci), steps, tracks)
	}
}

func (l *loader) validateActions(send, switchTo, yp, field string, steps map[string]*Step, tracks map[string]bool) {
	if send != "" {
		if _, ok := steps[send]; !ok {
			l.problem(yp+".send", field+".send", fmt.Sprintf("no step %q", send))
		}
	}
	if switchTo != "" && !tracks[switchTo] {
		l.problem(yp+".switch", field+".switch", fmt.Sprintf("no track %q", switchTo))
	}
}

func (l *loader) validateStep(p *Program, s *Step, onDemand bool, sp string, phases map[string]bool) {
	f := func(name string) string { return fmt.Sprintf("steps[%s].%s", s.Key, name) }
	if !slices.Contains(validKinds, s.Kind) {
		l.problem(sp+".kind", f("kind"), fmt.Sprintf("%q is not one of %s", s.Kind, strings.Join(validKinds, ", ")))
	}
	if s.Phase == "" && !onDemand {
		l.problem(sp, f("phase"), "required")
	} else if s.Phase != "" && !phases[s.Phase] {
		l.problem(sp+".phase", f("phase"), fmt.Sprintf("no phase %q", s.Phase))
	}

	hasDay := s.Day != nil || s.At != ""
	hasCron := s.Cron != "" || s.Window != nil
	switch {
	case onDemand && (hasDay || hasCron):
		l.problem(sp, f("day"), "steps of an on-demand track are sent by branches; remove day/at/cron")
	case !onDemand && hasDay && hasCron:
		l.problem(sp+".cron", f("cron"), "a step has either day + at, or cron + window, not both")
	case !onDemand && !hasDay && !hasCron:
		l.problem(sp, f("day"), "a step needs day + at, or cron + window")
	case hasDay:
		if s.Day == nil {
			l.problem(sp, f("day"), "required with at")
		} else if *s.Day < 0 {
			l.problem(sp+".day", f("day"), "must be 0 or more")
		}
		if s.At == "" {
			l.problem(sp, f("at"), "required with day")
		} else if _, err := parseClock(s.At); err != nil {
			l.problem(sp+".at", f("at"), err.Error())
		}
	case hasCron:
		if s.Cron == "" {
			l.problem(sp, f("cron"), "required with window")
		} else if err := zonePrefix(s.Cron); err != nil {
			l.problem(sp+".cron", f("cron"), fmt.Sprintf("%q: %v", s.Cron, err))
		} else if sched, err := ParseCron(s.Cron); err != nil {
			l.problem(sp+".cron", f("cron"), fmt.Sprintf("%q: %v", s.Cron, err))
		} else if sched.Next(cronFrom).IsZero() {
			l.problem(sp+".cron", f("cron"), fmt.Sprintf("%q never fires (no such date)", s.Cron))
		} else if twice := firesTwiceADay(sched); twice != "" {
			l.problem(sp+".cron", f("cron"), fmt.Sprintf("fires more than once a day (%s); a repeating step may run at most once a day", twice))
		}
		if s.Window == nil {
			l.problem(sp, f("window"), "required with cron: {from_day, to_day}")
		} else if s.Window.FromDay < 0 || s.Window.ToDay < s.Window.FromDay {
			l.problem(sp+".window", f("window"), "want 0 <= from_day <= to_day")
		}
	}

	if len(s.Channels) == 0 {
		l.problem(sp, f("channels"), "at least one of email, sms")
	}
	for i, ch := range s.Channels {
		if !slices.Contains(validChannels, ch) {
			l.problem(fmt.Sprintf("%s.channels[%d]", sp, i), f("channels"), fmt.Sprintf("%q is not email or sms", ch))
		} else if slices.Index(s.Channels, ch) != i {
			l.problem(fmt.Sprintf("%s.channels[%d]", sp, i), f("channels"), fmt.Sprintf("%q is listed twice", ch))
		}
	}

	l.validateContent(p, s, sp, f)

	if s.Kind == KindCheckin && s.Checkin == nil {
		l.problem(sp, f("checkin"), "a checkin step needs a checkin block")
	}
	if s.Kind != KindCheckin && s.Checkin != nil {
		l.problem(sp+".checkin", f("checkin"), "only steps of kind checkin ask a question")
	}
	if c := s.Checkin; c != nil {
		l.validateCheckin(c, sp+".checkin", func(n string) string { return f("checkin." + n) })
	}
}

func (l *loader) validateContent(p *Program, s *Step, sp string, f func(string) string) {
	if s.ContentRef == "" {
		l.problem(sp, f("content"), "required")
		return
	}
	ref := path.Clean(s.ContentRef)
	if strings.HasPrefix(ref, "..") || path.IsAbs(ref) {
		l.problem(sp+".content", f("content"), fmt.Sprintf("%q must be a path inside the program folder", s.ContentRef))
		return
	}
	s.ContentRef = ref
	c, ok := p.Content[ref]
	if !ok {
		var probs []Problem
		c, probs = l.readContent(ref)
		if len(probs) > 0 {
			// Point at the step too, so the author sees who uses the file.
			if strings.HasPrefix(probs[0].Reason, "cannot read") {
				l.problem(sp+".content", f("content"), fmt.Sprintf("%s: file not found", s.ContentRef))
			} else {
				l.problems = append(l.problems, probs...)
			}
			return
		}
		p.Content[ref] = c
		// The templates once per file, however many steps use it.
		sample := SampleVars(p)
		for _, part := range []struct{ name, text string }{
			{"subject", c.Subject}, {"preheader", c.Preheader}, {"sms", c.SMS}, {"exercise", c.Exercise}, {"body", c.Body},
		} {
			if line, reason, bad := checkTemplate(part.text, sample); bad {
				if part.name == "body" && line > 0 {
					line += c.Line("body") - 1 // the template counts from the body's first line
				} else {
					line = c.Line(part.name) // a front-matter value: its field's line
				}
				l.problems = append(l.problems, Problem{c.File(), line, part.name, reason})
			}
		}
	}
	file := c.File()
	if slices.Contains(s.Channels, "email") {
		if c.Subject == "" {
			l.problems = append(l.problems, Problem{file, c.Line("subject"), "subject", fmt.Sprintf("required: step %q sends email", s.Key)})
		}
		if c.Body == "" {
			l.problems = append(l.problems, Problem{file, c.Line("body"), "body", fmt.Sprintf("required: step %q sends email", s.Key)})
		}
	}
	if slices.Contains(s.Channels, "sms") && c.SMS == "" {
		l.problems = append(l.problems, Problem{file, c.Line("sms"), "sms", fmt.Sprintf("required: step %q sends SMS", s.Key)})
	}
}

// checkTemplate parses and runs text with the sample variables: an unknown
// variable or a syntax error fails here, at validation, not at send time.
// line is the line of text the error is on (0 when text/template gives
// none); reason is its message without the template's own location.
func checkTemplate(text string, v Vars) (line int, reason string, bad bool) {
	if !strings.Contains(text, "{{") {
		return 0, "", false
	}
	t, err := template.New("").Option("missingkey=error").Parse(text)
	if err == nil {
		var sb strings.Builder
		err = t.Execute(&sb, v)
	}
	if err == nil {
		return 0, "", false
	}
	reason = err.Error()
	if m := templateAt.FindStringSubmatch(reason); m != nil {
		line, _ = strconv.Atoi(m[1])
		reason = strings.TrimPrefix(reason[len(m[0]):], `executing "" at `)
	}
	return line, reason, true
}

// templateAt is the location text/template puts before its errors:
// "template: NAME:LINE: " or, running, "template: NAME:LINE:COLUMN: ".
var templateAt = regexp.MustCompile(`^template: [^:]*:(\d+)(?::\d+)?: `)

func (l *loader) validateCheckin(c *Checkin, cp string, f func(string) string) {
	if !keyPattern.MatchString(c.Prompt) {
		l.problem(cp+".prompt", f("prompt"), fmt.Sprintf("%q must be lower-case letters, digits and dashes", c.Prompt))
	}
	if c.AnswerWindow < 0 {
		l.problem(cp+".answer_window", f("answer_window"), "must not be negative")
	}
	if len(c.Answers) == 0 {
		l.problem(cp, f("answers"), "at least one answer is required")
	}
	values := map[string]bool{}
	words := map[string]string{}
	for i, a := range c.Answers {
		ap := fmt.Sprintf("%s.answers[%d]", cp, i)
		if strings.TrimSpace(a.Value) == "" {
			l.problem(ap, f("answers.value"), "required")
			continue
		}
		if values[a.Value] {
			l.problem(ap+".value", f("answers.value"), fmt.Sprintf("duplicate answer %q", a.Value))
		}
		values[a.Value] = true
		for _, w := range a.MatchWords() {
			if other, dup := words[w]; dup && other != a.Value {
				l.problem(ap+".match", f("answers.match"), fmt.Sprintf("%q already means %q", w, other))
			}
			words[w] = a.Value
		}
	}
	for bi, b := range c.Branches {
		bp := fmt.Sprintf("%s.branches[%d]", cp, bi)
		if len(b.When) == 0 {
			l.problem(bp, f(fmt.Sprintf("branches[%d].when", bi)), "at least one answer value")
		}
		for _, w := range b.When {
			if !values[w] {
				l.problem(bp+".when", f(fmt.Sprintf("branches[%d].when", bi)), fmt.Sprintf("%q is not one of the answers", w))
			}
		}
		if b.Send == "" && b.Switch == "" && b.Extend == nil {
			l.problem(bp, f(fmt.Sprintf("branches[%d]", bi)), "needs send, switch or extend")
		}
		if b.Streak < 0 {
			l.problem(bp+".streak", f(fmt.Sprintf("branches[%d].streak", bi)), "must be 0 or more")
		}
		if e := b.Extend; e != nil && (e.Days <= 0 || e.Max <= 0) {
			l.problem(bp+".extend", f(fmt.Sprintf("branches[%d].extend", bi)), "days and max must be 1 or more")
		}
	}
}

// MatchWords is what a reply must equal (case-insensitive, trimmed) to mean a.
func (a Answer) MatchWords() []string {
	if len(a.Match) == 0 {
		return []string{strings.ToLower(a.Value)}
	}
	out := make([]string, len(a.Match))
	for i, m := range a.Match {
		out[i] = strings.ToLower(strings.TrimSpace(m))
	}
	return out
}

// maxSMSFrequency bounds sms_frequency: it goes inside the HELP reply, which
// also carries the program's name, the support contact and the opt-out
// words, and carriers read that reply when they review a number.
const maxSMSFrequency = 60

// smsFrequencyProblem says what is wrong with sms_frequency, or "". One
// character outside the GSM-7 alphabet (a curly quote, an en dash) would
// send every HELP reply as UCS-2, in segments of 70 characters.
func smsFrequencyProblem(f string) string {
	for _, r := range f {
		if !smsseg.IsGSM(r) {
			return fmt.Sprintf("%q is not in the GSM-7 alphabet of SMS; the HELP reply that says it would be sent as UCS-2 (use plain quotes and hyphens)", r)
		}
	}
	if n := len([]rune(strings.TrimSpace(f))); n > maxSMSFrequency {
		return fmt.Sprintf("%d characters; at most %d, as it goes inside the HELP reply", n, maxSMSFrequency)
	}
	return ""
}
