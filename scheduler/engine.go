// Package scheduler is the engine: the planner turns due enrollment steps
// into delivery rows, the dispatcher hands those rows to channels, and
// answers to check-ins branch the program. All state is in PostgreSQL; any
// number of engines may run against one database.
package scheduler

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/render"
	"github.com/rekindle/rekindle/store"
)

// Config holds the engine's policies.
type Config struct {
	Grace       time.Duration // a step later than this is stale: the calendar shifts (default 6h)
	Pacing      time.Duration // at most one lesson per channel per interval (default 20h; a program may set its own)
	SMSQuiet    Quiet         // default 21:00-08:00
	EmailQuiet  Quiet         // default none
	PlanBatch   int           // enrollments per planner transaction (default 500)
	ClaimBatch  int           // deliveries per dispatcher claim (default 1000)
	Planners    int           // planner loops per process (default 2)
	ClaimLoops  int           // claim loops per unlimited channel (default 2)
	Lease       time.Duration // how long a claim is held before the rescuer takes it back (default 2m)
	RetryFor    time.Duration // how long temporary failures are retried before a delivery fails (default 24h)
	MaxAttempts int           // send attempts before a delivery fails (default: as many as the backoff fits in RetryFor)
	RetryBase   time.Duration // first retry delay, doubling (default 30s)
	RetryMax    time.Duration // cap on the retry delay (default 1h)
	AckEvery    time.Duration // a batch's outcomes are recorded at least this often while it is sent (default 250ms)
	Recheck     time.Duration // claimed messages waiting longer than this re-check opt-outs before sending (default 1s)
	ListID      string        // List-Id header value
	Mailto      string        // mailto: unsubscribe address, "" for none
}

func (c *Config) defaults() {
	if c.Grace == 0 {
		c.Grace = 6 * time.Hour
	}
	if c.Pacing == 0 {
		c.Pacing = 20 * time.Hour
	}
	if c.PlanBatch == 0 {
		c.PlanBatch = 500
	}
	if c.ClaimBatch == 0 {
		c.ClaimBatch = 1000
	}
	if c.Planners == 0 {
		c.Planners = 2
	}
	if c.ClaimLoops == 0 {
		c.ClaimLoops = 2
	}
	if c.Lease == 0 {
		c.Lease = 2 * time.Minute
	}
	if c.RetryBase == 0 {
		c.RetryBase = 30 * time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = time.Hour
	}
	if c.RetryFor == 0 {
		c.RetryFor = 24 * time.Hour
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = attemptsWithin(c.RetryFor, c.RetryBase, c.RetryMax)
	}
	if c.AckEvery == 0 {
		c.AckEvery = 250 * time.Millisecond
	}
	if c.Recheck == 0 {
		c.Recheck = time.Second
	}
}

// attemptsWithin is how many attempts the backoff (base, doubling, capped
// at max) spreads over window: an outage of the relay or of Twilio, or a
// credential rotated wrongly, costs lessons only if it outlasts the window,
// not after the hour that a fixed handful of attempts would cover. The
// count, not the time, is what the dispatcher and the rescuer check, so a
// clock that jumps cannot fail a message early.
func attemptsWithin(window, base, max time.Duration) int {
	n, total := 1, time.Duration(0)
	for total < window {
		total += min(base<<min(n-1, 20), max)
		n++
	}
	return n
}

// DefaultSMSQuiet is 21:00-08:00.
var DefaultSMSQuiet = Quiet{Start: 21 * 60, End: 8 * 60}

// Links makes the URLs messages carry.
type Links interface {
	Unsubscribe(subscriberID int64, channel string) string
	Manage(subscriberID int64) string
	Checkin(token, value string) string
}

// Engine holds what the planner, dispatcher and answer paths share.
type Engine struct {
	Store    *store.Store
	Clock    clock.Clock
	Log      *slog.Logger
	Cfg      Config
	Renderer *render.Renderer
	Links    Links
	Observer Observer

	mu       sync.RWMutex
	current  map[string]int64           // slug -> newest loaded version id
	versions map[int64]*render.Compiled // version id -> compiled program
	fastR    map[int64]*render.Fast     // version id -> its skeleton renderer
	zones    map[string]*time.Location
}

// Observer hears what the engine does (metrics). Every method must be cheap.
type Observer interface {
	DeliveryResult(channel, status string)
	ProviderError(channel, code string)
	ObservePlannerBatch(d time.Duration)
	ObserveDispatcherBatch(channel string, d time.Duration)
	CheckinAnswer(program, step, value string)
}

type nopObserver struct{}

func (nopObserver) DeliveryResult(string, string)                {}
func (nopObserver) ProviderError(string, string)                 {}
func (nopObserver) ObservePlannerBatch(time.Duration)            {}
func (nopObserver) ObserveDispatcherBatch(string, time.Duration) {}
func (nopObserver) CheckinAnswer(string, string, string)         {}

// New builds an engine. Call LoadPrograms before planning.
func New(st *store.Store, clk clock.Clock, log *slog.Logger, cfg Config, r *render.Renderer, links Links) *Engine {
	cfg.defaults()
	return &Engine{
		Store: st, Clock: clk, Log: log, Cfg: cfg, Renderer: r, Links: links, Observer: nopObserver{},
		current: map[string]int64{}, versions: map[int64]*render.Compiled{}, fastR: map[int64]*render.Fast{}, zones: map[string]*time.Location{},
	}
}

// LoadPrograms stores each program's definition (once per content hash),
// compiles it, and makes it the version new enrollments start on. Nothing
// changes unless every program compiles.
func (e *Engine) LoadPrograms(ctx context.Context, progs map[string]*programs.Program) error {
	compiled := map[int64]*render.Compiled{}
	current := map[string]int64{}
	for slug, p := range progs {
		c, err := e.Renderer.Compile(p)
		if err != nil {
			return err
		}
		id, err := e.Store.SaveProgramVersion(ctx, e.Clock.Now(), p.Slug, p.Version, p.Hash, p)
		if err != nil {
			return err
		}
		compiled[id] = c
		current[slug] = id
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	for id, c := range compiled {
		e.remember(id, c)
	}
	e.current = current
	return nil
}

// Current returns the compiled newest version of a program and its id.
func (e *Engine) Current(slug string) (*render.Compiled, int64, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	id, ok := e.current[slug]
	if !ok {
		return nil, 0, false
	}
	return e.versions[id], id, true
}

// Programs lists the loaded program slugs' newest versions.
func (e *Engine) Programs() map[string]*programs.Program {
	e.mu.RLock()
	defer e.mu.RUnlock()
	out := map[string]*programs.Program{}
	for slug, id := range e.current {
		out[slug] = e.versions[id].Program
	}
	return out
}

// Version returns a compiled program version, loading the pinned definition
// from the database when this process has not seen it.
func (e *Engine) Version(ctx context.Context, id int64) (*render.Compiled, error) {
	e.mu.RLock()
	c, ok := e.versions[id]
	e.mu.RUnlock()
	if ok {
		return c, nil
	}
	var p programs.Program
	if err := e.Store.ProgramVersion(ctx, id, &p); err != nil {
		return nil, err
	}
	c, err := e.Renderer.Compile(programs.FromDefinition(&p))
	if err != nil {
		return nil, fmt.Errorf("program version %d: %w", id, err)
	}
	e.mu.Lock()
	e.remember(id, c)
	e.mu.Unlock()
	return c, nil
}

// remember keeps a compiled version and its skeleton renderer; e.mu must be
// held for writing.
func (e *Engine) remember(id int64, c *render.Compiled) {
	e.versions[id] = c
	// Links is read when a check-in link is made, not now: the commands
	// that only validate or preview programs have none.
	e.fastR[id] = c.Fast(func(token, value string) string { return e.Links.Checkin(token, value) })
}

// Zone loads (and caches) an IANA time zone.
func (e *Engine) Zone(name string) (*time.Location, error) {
	e.mu.RLock()
	loc, ok := e.zones[name]
	e.mu.RUnlock()
	if ok {
		return loc, nil
	}
	loc, err := LoadZone(name)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	e.zones[name] = loc
	e.mu.Unlock()
	return loc, nil
}

// LoadZone accepts IANA zone names only ("Local" and "" are refused: a
// subscriber's zone must never depend on the server's).
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("time zone %q: want an IANA name such as Europe/Berlin", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("time zone %q is not an IANA time zone name", name)
	}
	return loc, nil
}

// quietFor returns the quiet hours for a channel of a program.
func (e *Engine) quietFor(p *programs.Program, ch string) Quiet {
	if ch == "sms" {
		if p.QuietHours != nil {
			s, _ := programs.ParseClock(p.QuietHours.Start)
			en, _ := programs.ParseClock(p.QuietHours.End)
			return Quiet{s, en}
		}
		return e.Cfg.SMSQuiet
	}
	return e.Cfg.EmailQuiet
}

func (e *Engine) pacingFor(p *programs.Program) time.Duration {
	if p.Pacing > 0 {
		return p.Pacing.D()
	}
	return e.Cfg.Pacing
}
