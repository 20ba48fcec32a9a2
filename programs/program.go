// Package programs loads, validates and describes coaching programs. A
// program is data: a YAML file and the Markdown content it references. The
// engine never runs a program that failed validation.
package programs

import (
	"time"

	"github.com/robfig/cron/v3"
)

// Program is one validated program definition, including its content. It
// round-trips through JSON: the database keeps the exact definition each
// enrollment started on.
type Program struct {
	Slug            string              `json:"slug"`
	Title           string              `json:"title"`
	Version         string              `json:"version"`
	Description     string              `json:"description,omitempty"`
	Frequency       string              `json:"frequency,omitempty"`
	SMSFrequency    string              `json:"sms_frequency,omitempty"` // texts alone, for the SMS consent and HELP reply
	DefaultTimezone string              `json:"default_timezone,omitempty"`
	QuietHours      *Window             `json:"quiet_hours,omitempty"`
	Pacing          Duration            `json:"pacing,omitempty"`
	Phases          []Phase             `json:"phases"`
	Tracks          []Track             `json:"tracks"`
	Commands        []Command           `json:"commands,omitempty"`
	Content         map[string]*Content `json:"content"` // by path, e.g. "lessons/01.md"
	Hash            string              `json:"hash"`

	steps map[string]*Step // by key, filled by index()
}

// Phase is a named stretch of the program.
type Phase struct {
	Key   string `json:"key"`
	Title string `json:"title"`
}

// Track is an ordered list of steps. The first track is where everyone starts.
type Track struct {
	Key      string  `json:"key"`
	OnDemand bool    `json:"on_demand,omitempty"`
	Steps    []*Step `json:"steps"`
}

// Step kinds.
const (
	KindLesson  = "lesson"
	KindCheckin = "checkin"
	KindMessage = "message"
)

// Step is one scheduled message (or check-in prompt).
type Step struct {
	Key         string     `json:"key"`
	Phase       string     `json:"phase,omitempty"`
	Kind        string     `json:"kind"`
	Day         *int       `json:"day,omitempty"`
	At          string     `json:"at,omitempty"`
	Cron        string     `json:"cron,omitempty"`
	Window      *DayWindow `json:"window,omitempty"`
	Channels    []string   `json:"channels"`
	PreferFirst bool       `json:"prefer_first,omitempty"`
	ContentRef  string     `json:"content"`
	Checkin     *Checkin   `json:"checkin,omitempty"`

	Track    string        `json:"-"` // filled by index()
	Ordinal  int           `json:"-"` // position within its track
	minute   int           // minutes after midnight of At
	schedule cron.Schedule // Cron, parsed once
}

// Schedule is the step's parsed cron schedule (nil for day steps).
func (s *Step) Schedule() cron.Schedule { return s.schedule }

// Minute is At as minutes after local midnight.
func (s *Step) Minute() int { return s.minute }

// IsCron reports whether the step repeats on a cron schedule.
func (s *Step) IsCron() bool { return s.Cron != "" }

// DayWindow bounds a cron step to track days [FromDay, ToDay], inclusive.
type DayWindow struct {
	FromDay int `json:"from_day"`
	ToDay   int `json:"to_day"`
}

// Checkin is the question a step asks and what the answers do.
type Checkin struct {
	Prompt       string   `json:"prompt"`
	Question     string   `json:"question,omitempty"`
	AnswerWindow Duration `json:"answer_window,omitempty"`
	Answers      []Answer `json:"answers"`
	Branches     []Branch `json:"branches,omitempty"`
}

// Answer is one accepted answer value and the replies that mean it.
type Answer struct {
	Value string   `json:"value"`
	Label string   `json:"label,omitempty"`
	Match []string `json:"match,omitempty"`
}

// Branch is what happens when an answer lands.
type Branch struct {
	When   []string `json:"when"`
	Streak int      `json:"streak,omitempty"`
	Send   string   `json:"send,omitempty"`
	Switch string   `json:"switch,omitempty"`
	Extend *Extend  `json:"extend,omitempty"`
}

// Extend shifts the rest of the calendar and asks the check-in again. Once
// it has done so Max times, the branch sends AtLimit instead of its Send: a
// message promising more time must not go out when there is none. Without
// AtLimit the branch's Send still goes, so it must read true either way
// (as it did before at_limit existed, for versions pinned then).
type Extend struct {
	Days    int    `json:"days"`
	Max     int    `json:"max"`
	AtLimit string `json:"at_limit,omitempty"`
}

// Command is a whole-message keyword that acts on an enrollment. Label,
// optional, is what the manage page's button for it says ("They have a new
// partner"); without it the button says the first match word.
type Command struct {
	Match  []string `json:"match"`
	Label  string   `json:"label,omitempty"`
	Switch string   `json:"switch,omitempty"`
	Send   string   `json:"send,omitempty"`
}

// Window is a daily local-time window such as quiet hours, [Start, End).
type Window struct {
	Start string `json:"start"`
	End   string `json:"end"`
}

// Content is one content file: front matter and Markdown body.
type Content struct {
	Path      string `json:"path"`
	Subject   string `json:"subject,omitempty"`
	Preheader string `json:"preheader,omitempty"`
	SMS       string `json:"sms,omitempty"`
	Exercise  string `json:"exercise,omitempty"`
	Body      string `json:"body"`

	// Where the content was read from, for problems found after loading
	// (a rendered SMS too long): not stored, so a definition read back
	// from the database has neither.
	file  string         // path in the folder loaded, program folder included
	lines map[string]int // line of each front-matter field, and of the body
}

// File is the path the content was read from, inside the folder it was
// loaded from (program folder included); Path when not known.
func (c *Content) File() string {
	if c.file == "" {
		return c.Path
	}
	return c.file
}

// Line is the line of field in the content file: a front-matter field
// (subject, preheader, sms, exercise) or the body; 1 when not known.
func (c *Content) Line(field string) int {
	if n := c.lines[field]; n > 0 {
		return n
	}
	return 1
}

// Duration is a time.Duration written as "20h" in YAML and JSON.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

// MarshalText writes the duration as Go's duration syntax.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads Go's duration syntax ("72h", "30m").
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Step returns the step with key, or nil.
func (p *Program) Step(key string) *Step { return p.steps[key] }

// Track returns the track with key, or nil.
func (p *Program) Track(key string) *Track {
	for i := range p.Tracks {
		if p.Tracks[i].Key == key {
			return &p.Tracks[i]
		}
	}
	return nil
}

// PhaseTitle returns the title of the phase with key, or the key.
func (p *Program) PhaseTitle(key string) string {
	for _, ph := range p.Phases {
		if ph.Key == key {
			return ph.Title
		}
	}
	return key
}

// StartTrack is the track everyone starts on.
func (p *Program) StartTrack() string { return p.Tracks[0].Key }

// index fills the derived fields. It expects a validated program.
func (p *Program) index() {
	p.steps = map[string]*Step{}
	for _, t := range p.Tracks {
		for i, s := range t.Steps {
			s.Track = t.Key
			s.Ordinal = i
			if s.At != "" {
				s.minute, _ = parseClock(s.At)
			}
			if s.Cron != "" {
				sched, _ := ParseCron(s.Cron) // validated: it parses
				s.schedule = memoize(sched)
			}
			p.steps[s.Key] = s
		}
	}
}
