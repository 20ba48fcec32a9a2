package scheduler

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/rekindle/rekindle/store"
)

// Service runs the engine's loops: Cfg.Planners planners, each channel's
// claim loops (Dispatcher.Loops), and the periodic jobs (rescuer, pause
// expiry, and any added with AddJob).
type Service struct {
	e           *Engine
	tick        time.Duration
	dispatchers []*Dispatcher
	jobs        []job

	cancel context.CancelFunc
	ctx    context.Context
	wg     sync.WaitGroup
	cron   *cron.Cron
	kick   []chan struct{}
	beats  []*beat // one per planner and claim loop, for Alive
}

// beat is when a loop last began a pass or a wait (UnixNano, real time).
type beat struct {
	name string
	at   atomic.Int64
}

func (b *beat) mark() { b.at.Store(time.Now().UnixNano()) }

// newBeat registers a loop with Alive, as beating now.
func (s *Service) newBeat(name string) *beat {
	b := &beat{name: name}
	b.mark()
	s.beats = append(s.beats, b)
	return b
}

type job struct {
	spec    string
	name    string
	cluster bool // runs on one instance at a time (advisory lock)
	fn      func(ctx context.Context) error
}

// NewService makes a service; tick is how often idle loops look for work.
func (e *Engine) NewService(tick time.Duration, dispatchers ...*Dispatcher) *Service {
	s := &Service{e: e, tick: tick, dispatchers: dispatchers}
	// Look for expired leases at least twice per lease, so a crashed
	// instance's rows wait little longer than the lease itself.
	rescueEvery := min(15*time.Second, max(time.Second, e.Cfg.Lease/2))
	s.AddJob("@every "+rescueEvery.String(), "rescue expired leases", false, func(ctx context.Context) error {
		_, err := e.RescueOnce(ctx)
		return err
	})
	s.AddJob("@every 1m", "resume expired pauses", true, func(ctx context.Context) error {
		_, err := e.ResumeExpiredPauses(ctx)
		return err
	})
	return s
}

// AddJob adds a periodic job (robfig/cron spec). A cluster job holds a
// Postgres advisory lock while it runs, so one instance runs it at a time.
func (s *Service) AddJob(spec, name string, cluster bool, fn func(ctx context.Context) error) {
	s.jobs = append(s.jobs, job{spec, name, cluster, fn})
}

// Start launches the loops. They run until Stop or until ctx is done.
func (s *Service) Start(ctx context.Context) error {
	// Every job's schedule is checked before anything starts: a Start that
	// fails leaves the service not started (Alive says so, Stop has
	// nothing to stop) and its context released.
	c := cron.New(cron.WithChain(cron.SkipIfStillRunning(cron.DiscardLogger)))
	ctx, cancel := context.WithCancel(ctx)
	for _, j := range s.jobs {
		j := j
		if _, err := c.AddFunc(j.spec, func() { s.runJob(ctx, j) }); err != nil {
			cancel()
			return fmt.Errorf("scheduler: job %q: schedule %q: %w", j.name, j.spec, err)
		}
	}
	s.ctx, s.cancel, s.cron = ctx, cancel, c
	s.beats = nil
	s.cron.Start()

	// Two planners (and two claim loops per channel) keep both sides busy:
	// while one waits for PostgreSQL, the other renders or sends. They
	// share nothing but the database, which hands each a different batch
	// (SKIP LOCKED), as it does to several instances. The claim loops'
	// kick channels exist before any planner can kick them.
	s.kick = nil
	for _, d := range s.dispatchers {
		for range d.Loops() {
			kick := make(chan struct{}, 1)
			s.kick = append(s.kick, kick)
			name := "dispatcher " + string(d.Channel().Kind())
			b := s.newBeat(name)
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.loop(ctx, name, b, kick, s.jittered, func(ctx context.Context) (bool, error) {
					n, err := d.DispatchOnce(ctx)
					return n >= d.ClaimSize(), err
				})
			}()
		}
	}
	h, inboxes := s.handoffs(ctx)
	for p := 0; p < max(s.e.Cfg.Planners, 1); p++ {
		b := s.newBeat("planner")
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.loop(ctx, "planner", b, nil, s.untilNextDue, func(ctx context.Context) (bool, error) {
				start, at := time.Now(), s.e.Clock.Now()
				n, planned, handed, err := s.e.planOnce(ctx, h)
				if planned > len(handed) {
					s.Kick()
				}
				s.handOver(ctx, inboxes, handed, at, start)
				return n >= s.e.Cfg.PlanBatch, err
			})
		}()
	}
	return nil
}

// handedBatch is what a planner pass wrote claimed for one channel.
type handedBatch struct {
	rows      []store.Delivery
	claimedAt time.Time // the engine's clock
	since     time.Time // the real clock
}

// handoffs picks, for each channel, the dispatcher that sends what the
// planner writes already claimed: one without a rate limit (a limited one
// takes only what it can send within its lease, by claiming it). Each has
// an inbox the planners hand batches to, read by a loop of its own.
func (s *Service) handoffs(ctx context.Context) (*handoff, map[string]chan handedBatch) {
	h := &handoff{channels: map[string]bool{}, lease: s.e.Cfg.Lease}
	inboxes := map[string]chan handedBatch{}
	for _, d := range s.dispatchers {
		kind := string(d.Channel().Kind())
		if d.limit > 0 || h.channels[kind] {
			continue
		}
		h.channels[kind], h.worker = true, d.id
		// Unbuffered: a batch changes hands only while this loop is ready
		// for it, so none is left behind in a buffer at shutdown.
		in := make(chan handedBatch)
		inboxes[kind] = in
		for range d.Loops() {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				for {
					select {
					case <-ctx.Done():
						return
					case b := <-in:
						if err := d.SendClaimed(ctx, b.rows, b.claimedAt, b.since); err != nil {
							s.e.Log.Error("dispatcher "+kind+" failed", "err", err)
						}
					}
				}
			}()
		}
	}
	if len(inboxes) == 0 {
		return nil, nil
	}
	return h, inboxes
}

// handOver gives each channel's dispatcher its share of what a planner pass
// wrote claimed, waiting while it sends the previous batch: that wait is
// what keeps the planner from running ahead of the channel. What the
// dispatcher does not take within a quarter of the lease (a slow provider),
// or by shutdown, goes back to the queue for the claim loops, so no message
// waits here long enough for its lease to run out.
func (s *Service) handOver(ctx context.Context, inboxes map[string]chan handedBatch, handed []store.Delivery, claimedAt, since time.Time) {
	if len(handed) == 0 {
		return
	}
	by := map[string][]store.Delivery{}
	for _, d := range handed {
		by[d.Channel] = append(by[d.Channel], d)
	}
	wait, cancel := context.WithTimeout(ctx, s.e.Cfg.Lease/4)
	defer cancel()
	for ch, rows := range by {
		select {
		case inboxes[ch] <- handedBatch{rows, claimedAt, since}:
			continue
		case <-wait.Done():
		}
		var ids, attempts []int64
		for _, d := range rows {
			if d.Status == "sending" {
				ids, attempts = append(ids, d.ID), append(attempts, int64(d.Attempts))
			}
		}
		if err := s.e.Store.ReleaseClaimed(context.WithoutCancel(ctx), s.e.Clock.Now(), ids, attempts); err != nil {
			// The rescuer gives them back when their lease ends.
			s.e.Log.Warn("could not give back planned messages", "count", len(ids), "err", err)
		}
		s.Kick()
	}
}

// stallAfter is how long a loop may go without beginning a pass or a wait
// before Alive calls it stuck. A pass legitimately takes up to about a
// lease (a batch is sent within its lease, recording outcomes through a
// database outage until it runs out), and a statement to an unreachable
// database can wait for the kernel's connect timeout (about two minutes),
// so the bound is generous: Alive is for loops that hang, not slow ones.
func (s *Service) stallAfter() time.Duration {
	return max(2*s.e.Cfg.Lease, 5*time.Minute) + 2*s.tick
}

// Alive reports whether the service's loops are running: started, not
// stopped, and each planner and claim loop has begun a pass or a wait
// within stallAfter. A failing database does not make it fail (the loops
// log the error and try again a tick later), so the systemd watchdog it
// feeds rides out an outage and restarts only a daemon whose loops hang.
func (s *Service) Alive(context.Context) error {
	if s.ctx == nil {
		return errors.New("scheduler: not started")
	}
	if s.ctx.Err() != nil {
		return errors.New("scheduler: stopped")
	}
	now, limit := time.Now(), s.stallAfter()
	for _, b := range s.beats {
		if since := now.Sub(time.Unix(0, b.at.Load())); since > limit {
			return fmt.Errorf("scheduler: %s loop stuck for %s", b.name, since.Round(time.Second))
		}
	}
	return nil
}

// Kick wakes the dispatchers (new deliveries were planned).
func (s *Service) Kick() {
	for _, k := range s.kick {
		select {
		case k <- struct{}{}:
		default:
		}
	}
}

// InFlight returns the ids of the deliveries being sent right now, over
// every dispatcher, smallest first.
func (s *Service) InFlight() []int64 {
	var ids []int64
	for _, d := range s.dispatchers {
		ids = append(ids, d.InFlight()...)
	}
	slices.Sort(ids)
	return ids
}

// Stop stops claiming new work and waits up to timeout for in-flight batches
// to be sent and recorded. It reports whether everything finished in time.
func (s *Service) Stop(timeout time.Duration) bool {
	if s.cancel == nil {
		return true
	}
	s.cancel()
	cronDone := s.cron.Stop()
	done := make(chan struct{})
	go func() {
		s.wg.Wait()
		<-cronDone.Done()
		close(done)
	}()
	select {
	case <-done:
		for _, d := range s.dispatchers {
			d.Close()
		}
		return true
	case <-time.After(timeout):
		return false
	}
}

// loop runs fn until ctx ends: again at once while it reports more work
// (draining a backlog), else after idle(ctx), or a kick. Errors back off for
// a tick.
func (s *Service) loop(ctx context.Context, name string, b *beat, kick <-chan struct{}, idle func(context.Context) time.Duration, fn func(context.Context) (bool, error)) {
	for {
		if ctx.Err() != nil {
			return
		}
		b.mark()
		more, err := fn(ctx)
		// A statement the shutdown cut off fails with the driver's own
		// error (lib/pq: 57014), not context.Canceled: no failure to log.
		if err != nil && ctx.Err() != nil {
			return
		}
		if err != nil && !errors.Is(err, context.Canceled) {
			s.e.Log.Error(name+" failed; will retry", "err", err)
			more = false
		}
		if more {
			continue
		}
		wait := s.jittered(ctx)
		if err == nil {
			wait = idle(ctx)
		}
		b.mark()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// jittered is the tick with ±20% jitter, so instances do not poll in
// lockstep.
func (s *Service) jittered(context.Context) time.Duration {
	return time.Duration(float64(s.tick) * (0.8 + 0.4*rand.Float64()))
}

// dueAgain is how soon an idle planner looks again when a step is already
// due but was not in its last pass.
const dueAgain = 100 * time.Millisecond

// untilNextDue is how long an idle planner sleeps: until the next step
// falls due, if that is sooner than its jittered tick. A step due in three
// seconds is planned in three seconds, not at the next tick, and the idle
// planner still asks the database only once a tick. The wait is read in
// real time; under a faster demo clock it is only ever longer than needed,
// and the tick still bounds it.
func (s *Service) untilNextDue(ctx context.Context) time.Duration {
	wait := s.jittered(ctx)
	at, ok, err := s.e.Store.NextDue(ctx)
	if err != nil || !ok {
		return wait
	}
	// Already due: it fell due while the last pass ran (a steady stream of
	// people), or another instance's planner holds it. Look again soon,
	// but not in a busy loop. Otherwise a little past the due instant, so
	// the step is due when the planner looks.
	d := at.Sub(s.e.Clock.Now())
	switch {
	case d <= 0:
		return min(wait, dueAgain)
	case d >= wait:
		return wait
	}
	return d + 5*time.Millisecond
}

func (s *Service) runJob(ctx context.Context, j job) {
	if ctx.Err() != nil {
		return
	}
	if !j.cluster {
		if err := j.fn(ctx); err != nil && ctx.Err() == nil {
			s.e.Log.Error("job failed", "job", j.name, "err", err)
		}
		return
	}
	ran, err := s.e.Store.WithAdvisoryLock(ctx, lockID(j.name), j.fn)
	switch {
	case err != nil && ctx.Err() != nil:
		// Cut off by the shutdown (see loop): not a failure.
	case err != nil:
		s.e.Log.Error("job failed", "job", j.name, "err", err)
	case !ran:
		s.e.Log.Debug("job running on another instance", "job", j.name)
	}
}

func lockID(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("rekindle:" + name))
	return int64(h.Sum64() >> 1)
}
