package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/render"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/smsseg"
)

func runPrograms(ctx context.Context, env *Env, args []string) error {
	if len(args) == 0 {
		return usagef("programs validate [DIR | --programs-dir DIR] | timeline PROGRAM --tz ZONE --start YYYY-MM-DD [--channels email,sms] [--json] | preview PROGRAM STEP [--channel email|sms] [--html] | versions | migrate --from V --to V [--map old=new] [--dry-run]")
	}
	switch args[0] {
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
	return usagef("unknown programs command %q", args[0])
}

// offlineEngine is an engine with no database, for commands that only read
// program definitions.
func offlineEngine(env *Env, dir string) (*scheduler.Engine, map[string]*programs.Program, *render.Renderer, error) {
	cfg, err := loadConfig(env, nil)
	if err != nil {
		return nil, nil, nil, err
	}
	if dir == "" {
		dir = cfg.ProgramsDir
	}
	progs, err := loadPrograms(dir)
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := newRenderer(cfg)
	if err != nil {
		return nil, nil, nil, err
	}
	e := scheduler.New(nil, nil, nil, engineConfig(cfg), r, nil)
	return e, progs, r, nil
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
	_, progs, r, err := offlineEngine(env, dir)
	if err != nil {
		return err
	}
	slugs := make([]string, 0, len(progs))
	for s := range progs {
		slugs = append(slugs, s)
	}
	sort.Strings(slugs)
	var problems []string
	warnings := 0
	for _, slug := range slugs {
		p := progs[slug]
		comp, err := r.Compile(p)
		if err != nil {
			return err
		}
		// Render every step for a sample person on each of its channels.
		for _, t := range p.Tracks {
			for _, s := range t.Steps {
				vars := stepVars(p, s)
				vars.FirstName = "Alexandria" // a long name: segment counts are honest
				for _, ch := range s.Channels {
					switch ch {
					case "email":
						if _, err := comp.Email(s, vars, nil); err != nil {
							problems = append(problems, fmt.Sprintf("%s: step %s: email: %v", slug, s.Key, err))
						}
					case "sms":
						for _, hint := range []int{1, 0} { // without, then with the STOP hint
							text, err := comp.SMS(s, vars, hint)
							if err != nil {
								problems = append(problems, fmt.Sprintf("%s: step %s: sms: %v", slug, s.Key, err))
								break
							}
							info := smsseg.Count(text)
							where := fmt.Sprintf("%s/%s: step %s: sms", slug, s.ContentRef, s.Key)
							if hint == 0 {
								where += " (with the STOP hint)"
							}
							switch {
							case info.Segments > 2:
								problems = append(problems, fmt.Sprintf("%s: %d segments (%s), at most 2 allowed", where, info.Segments, info.Encoding))
							case info.Encoding != "GSM-7":
								problems = append(problems, fmt.Sprintf("%s: needs UCS-2 because of %q, which cuts a segment from 160 characters to 70; use plain characters (straight quotes, no emoji)", where, string(info.NonGSM)))
							case info.Segments > 1 && hint == 1:
								warnings++
								fmt.Fprintf(env.Stdout, "warning: %s: %d segments\n", where, info.Segments)
							}
						}
					}
				}
			}
		}
		fmt.Fprintf(env.Stdout, "%s %s (%s): %d tracks, %d steps, %d content files, hash %s\n",
			p.Slug, p.Version, p.Title, len(p.Tracks), countSteps(p), len(p.Content), p.Hash)
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	fmt.Fprintf(env.Stdout, "ok: %d program(s) valid, %d warning(s)\n", len(progs), warnings)
	return nil
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
	var channels []string
	for _, c := range strings.Split(*chans, ",") {
		c = strings.TrimSpace(c)
		if c != "email" && c != "sms" {
			return fmt.Errorf("--channels: %q is not email or sms", c)
		}
		channels = append(channels, c)
	}
	e, progs, _, err := offlineEngine(env, dir())
	if err != nil {
		return err
	}
	p, ok := progs[pos[0]]
	if !ok {
		return fmt.Errorf("no program %q", pos[0])
	}
	tl, err := e.Timeline(p, loc, day, channels)
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

func programsPreview(env *Env, args []string) error {
	pos, fl := splitArgs(args, "html")
	fs := flagSet(env, "programs preview")
	ch := fs.String("channel", "email", "email or sms")
	html := fs.Bool("html", false, "print the HTML part of an email")
	dir := programsDirFlags(fs)
	if err := parse(fs, fl); err != nil {
		return err
	}
	if len(pos) != 2 {
		return usagef("programs preview PROGRAM STEP [--channel email|sms] [--html]")
	}
	_, progs, r, err := offlineEngine(env, dir())
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
	comp, err := r.Compile(p)
	if err != nil {
		return err
	}
	vars := stepVars(p, s)
	switch *ch {
	case "sms":
		text, err := comp.SMS(s, vars, 0)
		if err != nil {
			return err
		}
		info := smsseg.Count(text)
		fmt.Fprintf(env.Stdout, "%s\n\n(%d characters, %s, %d segment(s))\n", text, len([]rune(text)), info.Encoding, info.Segments)
	case "email":
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
	default:
		return usagef("--channel must be email or sms")
	}
	return nil
}
