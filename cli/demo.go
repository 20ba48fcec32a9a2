package cli

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	_ "github.com/lib/pq"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/config"
	"github.com/rekindle/rekindle/logging"
	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/store"
)

// defaultReplies walks the shipped program through its branches: a low
// week twice in a row (support), a "not yet" at the end of healing (one more
// week), then readiness, and finally MOVED ON late in reconnecting.
const defaultReplies = "mood=4,space=yes,mood=2,space=no,mood=1,space=yes,readiness=not yet,mood=3,readiness=ready,mood=4,mood=3,mood=4,mood=moved on"

// maxDemoSpeed is the fastest demo clock: eight weeks in about five seconds.
const maxDemoSpeed = 1e6

func runDemo(ctx context.Context, env *Env, args []string) error {
	fs := flagSet(env, "demo")
	email := fs.String("email", "demo@example.org", "the demo person's email")
	phone := fs.String("phone", "+12025550143", "the demo person's phone (E.164); empty for email only")
	tz := fs.String("tz", "America/New_York", "the demo person's time zone")
	name := fs.String("name", "Sam", "the demo person's first name")
	program := fs.String("program", "rekindle", "program to run")
	speed := fs.Float64("speed", 80000, "simulated seconds per real second (80000: eight weeks in about a minute)")
	replies := fs.String("replies", defaultReplies, "scripted check-in replies, prompt=reply pairs in order")
	asJSON := fs.Bool("json", false, "print one JSON object per message")
	dbURL := fs.String("database-url", "", "PostgreSQL URL (default: database rekindle_demo on the local server)")
	outbox := fs.String("outbox", "", "file channel folder (default REKINDLE_OUTBOX_DIR or ./outbox)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this much real time")
	programsDirFlags(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	// Written so that NaN fails it too. The bound keeps the demo's lease
	// (speed × 30s) and its clock (speed × the real time run) within a
	// time.Duration: beyond it they overflowed into negative durations.
	if !(*speed > 0 && *speed <= maxDemoSpeed) {
		return usagef("--speed %g: want more than 0 and at most %d", *speed, int(maxDemoSpeed))
	}
	script, err := parseReplies(*replies)
	if err != nil {
		return fmt.Errorf("--replies: %w", err)
	}
	// --database-url and --programs-dir stand in for their variables before
	// the environment is checked, so a bad value there does not stop a demo
	// given its own.
	cfg, err := adminConfig(env, fs)
	if err != nil {
		return err
	}
	if *outbox != "" {
		cfg.OutboxDir = *outbox
	}
	// Every flag is checked before the demo database is created.
	if err := checkName(*name); err != nil {
		return err
	}
	addr, num, err := contact(*email, *phone, cfg.DefaultRegion)
	if err != nil {
		return err
	}
	loc, err := scheduler.LoadZone(*tz)
	if err != nil {
		return fmt.Errorf("--tz: %w", err)
	}
	if cfg.DatabaseURL, err = demoDatabase(ctx, *dbURL, cfg.DatabaseURL); err != nil {
		return err
	}
	// The simulated clock starts at 07:00 tomorrow, the person's time.
	day := scheduler.LocalDate(time.Now(), loc).AddDate(0, 0, 1)
	start := scheduler.Resolve(day.Add(7*time.Hour), loc)
	clk := clock.NewScaled(start, *speed)

	quiet := env
	if !*asJSON {
		quiet = &Env{Stdout: env.Stdout, Stderr: io.Discard, Lookup: env.Lookup}
	}
	cfg.LogLevel = "error"
	a, err := wire(ctx, quiet, cfg, wireOptions{clock: clk, migrate: true, channels: true})
	if err != nil {
		return err
	}
	defer a.close()
	// Leases and retries are counted in simulated time: keep them at their
	// real-time size so a fast clock does not expire a lease mid-send.
	a.engine.Cfg.Lease = time.Duration(*speed * float64(30*time.Second))
	a.engine.Cfg.RetryBase = time.Duration(*speed * float64(time.Second))
	a.engine.Cfg.RetryMax = time.Duration(*speed * float64(10*time.Second))

	comp, _, ok := a.engine.Current(*program)
	if !ok {
		return fmt.Errorf("no program %q", *program)
	}
	if err := a.store.DeleteSubscriber(ctx, addr, num); err != nil {
		return err
	}
	consents := []store.Consent{{Channel: "email", Action: "confirmed", Text: "demo", Source: "demo"}}
	if num != "" {
		consents = append(consents, store.Consent{Channel: "sms", Action: "confirmed", Text: "demo", Source: "demo"})
	}
	sub, enr, err := a.engine.Enroll(ctx, scheduler.EnrollRequest{Program: *program, FirstName: *name, Email: addr, Phone: num,
		Timezone: *tz, Start: start, Source: "demo", Consents: consents})
	if err != nil {
		return err
	}
	rep := &reporter{env: env, json: *asJSON, clock: clk, loc: loc, prog: comp.Program, engine: a.engine, sub: sub,
		script: script, byPhase: map[string]int{}, byChannel: map[string]int{}}
	for i, ch := range a.channels {
		a.channels[i] = channel.OnSent(ch, rep.sent)
	}
	if !*asJSON {
		fmt.Fprintf(env.Stdout, "rekindle demo: %s for %s <%s> %s in %s, from %s, %gx speed\n", comp.Program.Title, *name, addr, num,
			*tz, start.In(loc).Format("Mon 2 Jan 2006 15:04"), *speed)
		fmt.Fprintf(env.Stdout, "messages go to %s (file channel unless providers are configured)\n\n", cfg.OutboxDir)
	}
	svc := a.engine.NewService(5*time.Millisecond, a.dispatchers("demo")...)
	began := time.Now()
	if err := svc.Start(ctx); err != nil {
		return err
	}
	defer svc.Stop(10 * time.Second)
	deadline := time.After(*timeout)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-deadline:
			return fmt.Errorf("the program did not finish within %s of real time", *timeout)
		case <-tick.C:
		}
		done, err := a.store.EnrollmentFinished(ctx, enr)
		if err != nil {
			return err
		}
		if done {
			break
		}
	}
	svc.Stop(10 * time.Second)
	return rep.summary(time.Since(began), clk.Now().Sub(start))
}

// demoDatabase picks the demo database (creating it if needed): --database-url,
// else rekindle_demo on the server of base, the configured DATABASE_URL (from
// the environment, NAME_FILE or a credential; by default the local server).
func demoDatabase(ctx context.Context, flagURL, base string) (string, error) {
	if flagURL != "" {
		return flagURL, nil
	}
	demo, err := onDatabase(base, "rekindle_demo")
	if err != nil {
		return "", err
	}
	admin, err := onDatabase(base, "postgres")
	if err != nil {
		return "", err
	}
	db, err := sql.Open("postgres", admin)
	if err != nil {
		return "", store.RedactError(err, base)
	}
	defer db.Close()
	var exists bool
	if err := db.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'rekindle_demo')").Scan(&exists); err != nil {
		return "", store.RedactError(fmt.Errorf("connect to PostgreSQL (DATABASE_URL's server): %w", err), base)
	}
	if !exists {
		if _, err := db.ExecContext(ctx, "CREATE DATABASE rekindle_demo"); err != nil {
			return "", store.RedactError(fmt.Errorf("create database rekindle_demo: %w", err), base)
		}
	}
	return demo, nil
}

// onDatabase is the connection string dsn with database name in place of
// its own: a URL's path, or a dbname= setting (the last one counts).
func onDatabase(dsn, name string) (string, error) {
	if !strings.Contains(dsn, "://") {
		return dsn + " dbname=" + name, nil
	}
	u, err := url.Parse(dsn)
	if err != nil {
		return "", store.RedactError(fmt.Errorf("DATABASE_URL: %w", err), dsn)
	}
	u.Path = "/" + name
	u.RawPath = ""
	return u.String(), nil
}

type reply struct{ prompt, text string }

func parseReplies(s string) ([]reply, error) {
	var out []reply
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		p, t, ok := strings.Cut(part, "=")
		if !ok || p == "" || t == "" {
			return nil, fmt.Errorf("%q: want prompt=reply", part)
		}
		out = append(out, reply{strings.TrimSpace(p), strings.TrimSpace(t)})
	}
	return out, nil
}

// reporter prints one line per message and answers check-ins from the script.
type reporter struct {
	env    *Env
	json   bool
	clock  clock.Clock
	loc    *time.Location
	prog   *programs.Program
	engine *scheduler.Engine
	sub    int64

	mu        sync.Mutex
	script    []reply
	count     int
	byPhase   map[string]int
	byChannel map[string]int
	branches  []string
}

func (r *reporter) sent(m channel.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.clock.Now().In(r.loc)
	s := r.prog.Step(scheduler.StepOf(m.Step))
	phase := ""
	if m.Phase != "" {
		phase = r.prog.PhaseTitle(m.Phase)
	}
	text := m.Subject
	if m.Channel == channel.SMS {
		text = m.Text
	}
	r.count++
	r.byChannel[string(m.Channel)]++
	if phase != "" {
		r.byPhase[phase]++
	}
	if r.json {
		json.NewEncoder(r.env.Stdout).Encode(map[string]string{"local": now.Format(time.RFC3339), "phase": phase,
			"step": m.Step, "channel": string(m.Channel), "text": text})
	} else {
		fmt.Fprintf(r.env.Stdout, "%s  %-17s %-24s %-5s %s\n", now.Format("Mon 02 Jan 15:04"), phase, m.Step, m.Channel, text)
	}
	if s == nil || s.Checkin == nil {
		return
	}
	for i, rp := range r.script {
		if rp.prompt != s.Checkin.Prompt {
			continue
		}
		r.script = append(r.script[:i], r.script[i+1:]...)
		r.answer(rp.text, now)
		return
	}
}

// answer replies as the person would: a program command, or an answer.
func (r *reporter) answer(text string, now time.Time) {
	ctx := context.Background()
	line := func(what string) {
		r.branches = append(r.branches, what)
		if !r.json {
			fmt.Fprintf(r.env.Stdout, "%s  %-17s reply %q: %s\n", now.Format("Mon 02 Jan 15:04"), "", text, what)
		} else {
			json.NewEncoder(r.env.Stdout).Encode(map[string]string{"local": now.Format(time.RFC3339), "reply": text, "result": what})
		}
	}
	if _, ok := scheduler.FindCommand(r.prog, text); ok {
		live, err := r.engine.Store.LiveEnrollments(ctx, r.sub)
		if err != nil || len(live) == 0 {
			return
		}
		acts, _, err := r.engine.ApplyCommand(ctx, live[0].ID, text)
		if err != nil {
			line("error: " + err.Error())
			return
		}
		line(strings.Join(acts, ", "))
		return
	}
	res, err := r.engine.RecordAnswer(ctx, scheduler.AnswerInput{SubscriberID: r.sub, Text: text, Source: "demo"})
	switch {
	case errors.Is(err, scheduler.ErrUnrecognized):
		line("not understood")
	case err != nil:
		line("error: " + err.Error())
	case len(res.Actions) > 0:
		line(fmt.Sprintf("%s = %s -> %s", res.Prompt, res.Value, strings.Join(res.Actions, ", ")))
	default:
		line(fmt.Sprintf("%s = %s", res.Prompt, res.Value))
	}
}

func (r *reporter) summary(real, simulated time.Duration) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.json {
		return json.NewEncoder(r.env.Stdout).Encode(map[string]any{"summary": map[string]any{
			"messages": r.count, "by_channel": r.byChannel, "by_phase": r.byPhase, "replies": r.branches,
			"real_seconds": real.Seconds(), "simulated_days": simulated.Hours() / 24}})
	}
	fmt.Fprintf(r.env.Stdout, "\ndone: %d messages over %.0f simulated days in %.1fs\n", r.count, simulated.Hours()/24, real.Seconds())
	keys := make([]string, 0, len(r.byPhase))
	for k := range r.byPhase {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(r.env.Stdout, "  %-18s %d\n", k, r.byPhase[k])
	}
	fmt.Fprintf(r.env.Stdout, "  by channel: email %d, sms %d\n", r.byChannel["email"], r.byChannel["sms"])
	return nil
}

func quietLogger(env *Env, cfg *config.Config) (*slog.Logger, error) {
	return logging.New(env.Stderr, cfg.LogFormat, cfg.LogLevel)
}
