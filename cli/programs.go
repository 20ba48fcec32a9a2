package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/render"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/smsseg"
)

// programsCommands is the programs subcommand list, for -h and usage errors.
var programsCommands = fmt.Sprintf(`usage: rekindle programs COMMAND

commands:
  validate [DIR | --programs-dir DIR]
        check the programs (the shipped ones, or those in DIR); every problem as file:line: field: reason
  timeline PROGRAM --tz ZONE --start YYYY-MM-DD [--channels email,sms] [--json]
        every send of PROGRAM for a person starting on that day (--start within %d years of today)
  preview PROGRAM STEP [--channel email|sms] [--html]
        one step as a sample person gets it (--channel: the step's first channel unless given)
  versions
        stored program versions: id, hash, running and all enrollments on each
  migrate --from V --to V [--map old=new[,old2=new2]] [--dry-run]
        move running enrollments from one stored version to another`, timelineYears)

// timelineYears bounds timeline --start: within this many years of today,
// either side. A program runs for weeks; a far date is a typo, and the
// schedule cannot be computed past the year 9999.
const timelineYears = 10

func runPrograms(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usagef("a command is required\n%s", programsCommands)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(env.Stderr, programsCommands) // as `rekindle -h` prints its list
		return nil
	case "validate":
		return programsValidate(env, args[1:])
	case "timeline":
		return programsTimeline(env, args[1:])
	case "preview":
		return programsPreview(env, args[1:])
	case "versions":
		return programsVersions(ctx, env, args[1:])
	case "migrate":
		return programsMigrate(ctx, env, args[1:])
	}
	return usagef("unknown programs command %q\n%s", args[0], programsCommands)
}

// offlineEngine is an engine with no database, for commands that only read
// program definitions; the programs are loaded and checked as every
// command loads them (loadProgramsWith), and warnings are validate's.
func offlineEngine(env *Env, dir string) (*scheduler.Engine, map[string]*programs.Program, *render.Renderer, []programs.Problem, error) {
	cfg, err := loadConfig(env, nil)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	if dir == "" {
		dir = cfg.ProgramsDir
		if err := programsFolderErr(dir, nil); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	r, err := newRenderer(cfg)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	progs, warnings, err := loadProgramsWith(dir, r)
	if err != nil {
		return nil, nil, nil, warnings, err
	}
	e := scheduler.New(nil, nil, nil, engineConfig(cfg), r, nil)
	return e, progs, r, warnings, nil
}

func programsValidate(env *Env, args []string) error {
	pos, fl := splitArgs(args)
	fs := flagSet(env, "programs validate")
	dirFlag := programsDirFlags(fs)
	if err := parse(fs, fl); err != nil {
		return err
	}
	dir := dirFlag()
	switch {
	case len(pos) > 1:
		return usagef("programs validate [DIR | --programs-dir DIR]: one folder at a time")
	case len(pos) == 1 && dir != "" && pos[0] != dir:
		return usagef("programs validate: give the folder once, as DIR or --programs-dir")
	case len(pos) == 1:
		dir = pos[0]
	}
	_, progs, _, warnings, err := offlineEngine(env, dir)
	for _, w := range warnings {
		fmt.Fprintf(env.Stdout, "warning: %s\n", w)
	}
	if err != nil {
		return err
	}
	for _, slug := range slices.Sorted(maps.Keys(progs)) {
		p := progs[slug]
		fmt.Fprintf(env.Stdout, "%s %s (%s): %d tracks, %d steps, %d content files, hash %s\n",
			p.Slug, p.Version, p.Title, len(p.Tracks), countSteps(p), len(p.Content), p.Hash)
	}
	fmt.Fprintf(env.Stdout, "ok: %d program(s) valid, %d warning(s)\n", len(progs), len(warnings))
	return nil
}

// renderCheck renders every step of p for a sample person (with a long
// name, so segment counts are honest) on each of its channels. An SMS is
// rendered without and with the STOP hint: more than two segments, or a
// character that needs UCS-2 (which cuts a segment from 160 characters to
// 70), is a problem; two segments without the hint is a warning. Problems
// name the content file (its path in the folder loaded) and the line of
// its sms field.
func renderCheck(r *render.Renderer, p *programs.Program) (problems, warnings []programs.Problem, err error) {
	comp, err := r.Compile(p)
	if err != nil {
		return nil, nil, err
	}
	for _, t := range p.Tracks {
		for _, s := range t.Steps {
			c := p.Content[s.ContentRef]
			if c == nil {
				return nil, nil, fmt.Errorf("program %s: step %s: no content %q", p.Slug, s.Key, s.ContentRef)
			}
			vars := stepVars(p, s)
			vars.FirstName = "Alexandria"
			for _, ch := range s.Channels {
				switch ch {
				case "email":
					if _, err := comp.Email(s, vars, nil); err != nil {
						problems = append(problems, programs.Problem{File: c.File(), Line: 1, Field: "email",
							Reason: fmt.Sprintf("step %s: %v", s.Key, err)})
					}
				case "sms":
					at := programs.Problem{File: c.File(), Line: c.Line("sms"), Field: "sms"}
					plain, err := comp.SMS(s, vars, 1) // the second text a person gets: no hint
					var hinted string
					if err == nil {
						hinted, err = comp.SMS(s, vars, 0) // the first: with the hint
					}
					if err != nil {
						at.Reason = fmt.Sprintf("step %s: %v", s.Key, err)
						problems = append(problems, at)
						continue
					}
					without, with := smsseg.Count(plain), smsseg.Count(hinted)
					switch {
					case with.Encoding != smsseg.GSM7:
						at.Reason = fmt.Sprintf("step %s: needs UCS-2 because of %q, which cuts a segment from 160 characters to 70 (%d segment(s), %d with the STOP hint); use plain characters (straight quotes, no emoji)",
							s.Key, string(with.NonGSM), without.Segments, with.Segments)
						problems = append(problems, at)
					case without.Segments > 2:
						at.Reason = fmt.Sprintf("step %s: %d segments (%d with the STOP hint), at most 2 allowed", s.Key, without.Segments, with.Segments)
						problems = append(problems, at)
					case with.Segments > 2:
						at.Reason = fmt.Sprintf("step %s: %d segments with the STOP hint (%d without), at most 2 allowed", s.Key, with.Segments, without.Segments)
						problems = append(problems, at)
					case without.Segments > 1:
						at.Reason = fmt.Sprintf("step %s: %d segments without the STOP hint; one is the aim", s.Key, without.Segments)
						warnings = append(warnings, at)
					}
				}
			}
		}
	}
	return problems, warnings, nil
}

// stepVars are the sample person's values as they are when the step is
// sent: its program day and week (a dated step's day, a repeating one's
// first day; counted from the start of its track, as for everyone in the
// first track) and its phase.
func stepVars(p *programs.Program, s *programs.Step) programs.Vars {
	v := programs.SampleVars(p)
	switch {
	case s.Day != nil:
		v.Day = *s.Day + 1
	case s.Window != nil:
		v.Day = s.Window.FromDay + 1
	}
	v.Week = (v.Day-1)/7 + 1
	if s.Phase != "" {
		v.Phase = p.PhaseTitle(s.Phase)
	}
	return v
}

func countSteps(p *programs.Program) int {
	n := 0
	for _, t := range p.Tracks {
		n += len(t.Steps)
	}
	return n
}

// splitArgs separates positional arguments from flags, so flags may follow
// them (`timeline rekindle --tz X`).
func splitArgs(args []string, boolFlags ...string) (pos, flags []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if strings.HasPrefix(a, "-") {
			flags = append(flags, a)
			name := strings.TrimLeft(a, "-")
			if !strings.Contains(name, "=") && !slices.Contains(boolFlags, name) && i+1 < len(args) {
				flags = append(flags, args[i+1])
				i++
			}
			continue
		}
		pos = append(pos, a)
	}
	return pos, flags
}

func programsTimeline(env *Env, args []string) error {
	pos, fl := splitArgs(args, "json")
	fs := flagSet(env, "programs timeline")
	tz := fs.String("tz", "", "IANA time zone")
	start := fs.String("start", "", "start day, YYYY-MM-DD")
	chans := fs.String("channels", "email,sms", "channels the person confirmed")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	dir := programsDirFlags(fs)
	if err := parse(fs, fl); err != nil {
		return err
	}
	if len(pos) != 1 || *tz == "" || *start == "" {
		return usagef("programs timeline PROGRAM --tz ZONE --start YYYY-MM-DD [--channels email,sms] [--json]")
	}
	loc, err := scheduler.LoadZone(*tz)
	if err != nil {
		return fmt.Errorf("--tz: %w", err)
	}
	day, err := time.Parse("2006-01-02", *start)
	if err != nil {
		return fmt.Errorf("--start %q: want YYYY-MM-DD", *start)
	}
	now := time.Now().UTC()
	first := time.Date(now.Year()-timelineYears, now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	last := time.Date(now.Year()+timelineYears, now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	if day.Before(first) || day.After(last) {
		return usagef("--start %s: want a day within %d years of today, %s to %s", *start, timelineYears,
			first.Format("2006-01-02"), last.Format("2006-01-02"))
	}
	var channels []string
	for _, c := range strings.Split(*chans, ",") {
		c = strings.TrimSpace(c)
		if c != "email" && c != "sms" {
			return fmt.Errorf("--channels: %q is not email or sms", c)
		}
		channels = append(channels, c)
	}
	e, progs, _, _, err := offlineEngine(env, dir())
	if err != nil {
		return err
	}
	p, ok := progs[pos[0]]
	if !ok {
		return fmt.Errorf("no program %q", pos[0])
	}
	tl, err := timeline(e, p, loc, day, channels)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(env.Stdout)
	for _, t := range tl {
		if *asJSON {
			enc.Encode(map[string]string{"step": t.Step, "phase": t.Phase, "channel": t.Channel, "kind": t.Kind,
				"local": t.Local.Format(time.RFC3339), "utc": t.UTC.Format(time.RFC3339)})
			continue
		}
		fmt.Fprintf(env.Stdout, "%-25s  %-17s  %-5s  %-7s  local %s  utc %s\n", t.Step, t.Phase, t.Channel, t.Kind,
			t.Local.Format(time.RFC3339), t.UTC.Format(time.RFC3339))
	}
	return nil
}

// timeline is the program's timeline for a person starting on day; one
// whose schedule stops advancing (as past the year 9999) is an error rather
// than the same line over and over.
func timeline(e *scheduler.Engine, p *programs.Program, loc *time.Location, day time.Time, channels []string) ([]scheduler.TimelineEntry, error) {
	tl, err := e.Timeline(p, loc, day, channels)
	if err != nil {
		// The engine refuses a schedule that stops advancing or never ends.
		return nil, fmt.Errorf("timeline of %s from %s: %w; nothing printed", p.Slug, day.Format("2006-01-02"), err)
	}
	return tl, nil
}

func programsPreview(env *Env, args []string) error {
	pos, fl := splitArgs(args, "html")
	fs := flagSet(env, "programs preview")
	ch := fs.String("channel", "", "email or sms (default: the step's first channel)")
	html := fs.Bool("html", false, "print the HTML part of an email")
	dir := programsDirFlags(fs)
	if err := parse(fs, fl); err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("programs preview PROGRAM STEP [--channel email|sms] [--html]")
	}
	switch *ch {
	case "", "email":
	case "sms":
		if *html {
			return usagef("--html prints an email's HTML part; an SMS has none (leave out --html, or use --channel email)")
		}
	default:
		return usagef("--channel must be email or sms")
	}
	_, progs, r, _, err := offlineEngine(env, dir())
	if err != nil {
		return err
	}
	p, ok := progs[pos[0]]
	if !ok {
		return fmt.Errorf("no program %q", pos[0])
	}
	s := p.Step(pos[1])
	if s == nil {
		return fmt.Errorf("program %s has no step %q", p.Slug, pos[1])
	}
	channel := *ch
	switch {
	case channel == "" && *html:
		if !slices.Contains(s.Channels, "email") {
			return usagef("--html prints an email's HTML part, but step %s is sent by %s only", s.Key, strings.Join(s.Channels, ", "))
		}
		channel = "email"
	case channel == "":
		channel = s.Channels[0]
	case !slices.Contains(s.Channels, channel):
		return usagef("--channel %s: step %s is sent by %s only", channel, s.Key, strings.Join(s.Channels, ", "))
	}
	comp, err := r.Compile(p)
	if err != nil {
		return err
	}
	vars := stepVars(p, s)
	if channel == "sms" {
		text, err := comp.SMS(s, vars, 0)
		if err != nil {
			return err
		}
		info := smsseg.Count(text)
		fmt.Fprintf(env.Stdout, "%s\n\n(%d characters, %s, %d segment(s))\n", text, len([]rune(text)), info.Encoding, info.Segments)
		return nil
	}
	links := render.LinksFor(s.Checkin, func(value string) string {
		return "https://rekindle.example.org/checkin/sample?a=" + value
	})
	m, err := comp.Email(s, vars, links)
	if err != nil {
		return err
	}
	if *html {
		fmt.Fprintln(env.Stdout, m.HTML)
		return nil
	}
	fmt.Fprintf(env.Stdout, "Subject: %s\nPreheader: %s\n\n%s", m.Subject, m.Preheader, m.Text)
	return nil
}
