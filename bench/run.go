// Package bench measures the real planner and dispatcher against a
// dedicated PostgreSQL database: it seeds synthetic enrollments with COPY,
// makes some of them due, and times planning, dispatching to the null
// channel, and both together.
package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/store"
)

// Options say what to measure.
type Options struct {
	Enrollments int           `json:"enrollments"`           // people seeded
	Due         int           `json:"due"`                   // of them due (throughput runs); < 0 means all
	Reps        int           `json:"reps"`                  // runs; medians are reported
	PlanOnly    bool          `json:"plan_only"`             // time the planner alone
	Clustered   bool          `json:"clustered"`             // the due people are the first rows, not spread through the table
	Rate        float64       `json:"rate,omitempty"`        // > 0: sustain this many messages a second instead of draining a backlog
	Duration    time.Duration `json:"duration_ns,omitempty"` // how long to sustain Rate
	Tick        time.Duration `json:"tick_ns"`               // idle poll of the planner and dispatcher loops
	Workers     int           `json:"workers"`               // dispatcher workers
	PoolSize    int           `json:"pool"`                  // engine connection pool
	PlanBatch   int           `json:"plan_batch"`            // enrollments per planner transaction (0: the engine's default)
	ClaimBatch  int           `json:"claim_batch"`           // deliveries per dispatcher claim (0: the engine's default)
	Timeout     time.Duration `json:"timeout_ns"`            // most a stage may take
	CPUProfile  string        `json:"cpuprofile,omitempty"`  // write a CPU profile of the whole run here
	MemProfile  string        `json:"memprofile,omitempty"`  // write an allocation profile of the whole run here
}

// Check fills in what the options imply (all due by default; a sustained
// rate makes rate × duration people due) and reports the first bad one,
// naming its flag.
func (o *Options) Check() error {
	if o.Due < 0 {
		o.Due = o.Enrollments
	}
	if o.Rate > 0 {
		o.Due = int(o.Rate * o.Duration.Seconds())
		o.Enrollments = max(o.Enrollments, o.Due)
	}
	switch {
	case o.Enrollments < 1:
		return errors.New("--enrollments must be at least 1")
	case o.Due > o.Enrollments:
		return fmt.Errorf("--due %d is more than --enrollments %d", o.Due, o.Enrollments)
	case o.Due < 1 && o.Rate > 0:
		return errors.New("--rate × --duration must make at least one message")
	case o.Due < 1:
		return errors.New("--due must be at least 1: nothing would be measured")
	case o.Reps < 1:
		return errors.New("--reps must be at least 1")
	case o.Rate < 0:
		return errors.New("--rate must not be negative")
	case o.Rate > 0 && o.Duration <= 0:
		return errors.New("--duration must be positive with --rate")
	case o.Rate > 0 && o.PlanOnly:
		return errors.New("--rate and --plan-only do not go together")
	case o.Tick <= 0:
		return errors.New("--tick must be positive")
	case o.Workers < 1:
		return errors.New("--workers must be at least 1")
	case o.PoolSize < 2:
		return errors.New("--pool must be at least 2")
	case o.PlanBatch < 0:
		return errors.New("--plan-batch must not be negative")
	case o.ClaimBatch < 0:
		return errors.New("--claim-batch must not be negative")
	case o.Timeout <= 0:
		return errors.New("--timeout must be positive")
	}
	return nil
}

// EngineFactory builds the engine as serve would, on the given store and
// clock, with its programs loaded.
type EngineFactory func(ctx context.Context, st *store.Store, clk clock.Clock) (*scheduler.Engine, error)

// runner runs the measurements.
type runner struct {
	opt      Options
	db       *store.Bench
	progress io.Writer

	rt  roundTrips
	st  *store.Store
	eng *scheduler.Engine
	rec *recorder
	lay layout
	// planEnd is the engine's time when planning finished: messages planned
	// late in the plan stage may not go before it, so dispatching starts there.
	planEnd time.Time
	// checkpoints says whether every stage began with a checkpoint
	// (settle); false when the bench's user may not checkpoint.
	checkpoints bool
}

// Run measures what opt asks on the bench database db (reached at dsn),
// writing progress lines to progress.
func Run(ctx context.Context, opt Options, db *store.Bench, dsn string, newEngine EngineFactory, progress io.Writer) (*Report, error) {
	if err := opt.Check(); err != nil {
		return nil, err
	}
	if _, err := store.Migrate(ctx, db.DB.DB); err != nil {
		return nil, err
	}
	r := &runner{opt: opt, db: db, progress: progress, rec: newRecorder(), checkpoints: true}
	pool, err := openCounted(dsn, opt.PoolSize, &r.rt)
	if err != nil {
		return nil, err
	}
	if r.st, err = store.New(ctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	defer r.st.Close()
	if r.eng, err = newEngine(ctx, r.st, clock.NewManual(stepTime)); err != nil {
		return nil, err
	}
	if opt.PlanBatch > 0 {
		r.eng.Cfg.PlanBatch = opt.PlanBatch
	}
	if opt.ClaimBatch > 0 {
		r.eng.Cfg.ClaimBatch = opt.ClaimBatch
	}
	r.opt.PlanBatch, r.opt.ClaimBatch = r.eng.Cfg.PlanBatch, r.eng.Cfg.ClaimBatch
	comp, versionID, ok := r.eng.Current("rekindle")
	if !ok {
		return nil, errors.New("bench: the shipped program rekindle is not loaded")
	}
	r.lay = layout{n: opt.Enrollments, due: opt.Due, clustered: opt.Clustered, versionID: versionID, track: comp.Program.StartTrack(),
		phase: comp.Program.Phases[0].Key, dueAt: func(int) time.Time { return stepTime }}
	if opt.Rate > 0 {
		// The k-th person becomes due k/rate after a one-second lead-in.
		lead := time.Second
		r.lay.dueAt = func(k int) time.Time {
			return stepTime.Add(lead + time.Duration(float64(k)/opt.Rate*float64(time.Second)))
		}
	}
	if opt.CPUProfile != "" {
		f, err := os.Create(opt.CPUProfile)
		if err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		defer pprof.StopCPUProfile()
	}
	var memProfile *os.File
	if opt.MemProfile != "" {
		// Opened now, written at the end: a typo costs no run.
		f, err := os.Create(opt.MemProfile)
		if err != nil {
			return nil, fmt.Errorf("--memprofile: %w", err)
		}
		defer f.Close()
		memProfile = f
	}
	rep := &Report{Options: r.opt, Database: db.Name, ClaimLoops: max(r.eng.Cfg.ClaimLoops, 1)}
	if rep.Server, err = db.Server(ctx); err != nil {
		return nil, err
	}
	for i := 1; i <= opt.Reps; i++ {
		var run Rep
		var err error
		switch {
		case opt.Rate > 0:
			err = r.sustained(ctx, i, &run)
		default:
			err = r.throughput(ctx, i, &run)
		}
		if err != nil {
			return nil, fmt.Errorf("rep %d: %w", i, err)
		}
		rep.Runs = append(rep.Runs, run)
	}
	rep.StagesCheckpointed = r.checkpoints
	rep.summarize()
	if memProfile != nil {
		if err := pprof.Lookup("allocs").WriteTo(memProfile, 0); err != nil {
			return nil, fmt.Errorf("--memprofile: %w", err)
		}
	}
	return rep, nil
}

func (r *runner) say(format string, a ...any) {
	if r.progress != nil {
		fmt.Fprintf(r.progress, format+"\n", a...)
	}
}

// seed reloads the population and records the load rate.
func (r *runner) seed(ctx context.Context, run *Rep) error {
	start := time.Now()
	if err := r.db.Seed(ctx, r.lay.n, r.lay.subscriber, r.lay.enrollment); err != nil {
		return err
	}
	// Statistics as autovacuum would leave them after a load; the stages
	// below get none (a real backlog builds faster than autovacuum wakes).
	if err := r.db.Analyze(ctx); err != nil {
		return err
	}
	d := time.Since(start)
	run.SeedSeconds = d.Seconds()
	run.SeedRowsPerSec = float64(2*r.lay.n) / d.Seconds()
	return nil
}

// measure is one timed stage's counters.
type measure struct {
	start  time.Time
	cpuw   *cpuWatch
	cpu    cpuTime // used during the stage
	rssOK  bool
	stage  *stage
	clk    clock.Clock
	trips  int64
	commit int64
}

// settle checkpoints before a timed stage: otherwise a checkpoint that the
// previous stage's writes (or the seeding's) made due lands in this one, and
// which stage pays for it is chance.
func (r *runner) settle(ctx context.Context) error {
	ok, err := r.db.Checkpoint(ctx)
	if err != nil {
		return err
	}
	r.checkpoints = r.checkpoints && ok
	return nil
}

// begin resets the counters, the peak RSS and the engine's clock.
func (r *runner) begin(want int) *measure { return r.beginAt(want, stepTime) }

// beginAt is begin with the engine's clock running at real speed from at.
func (r *runner) beginAt(want int, at time.Time) *measure {
	m := &measure{rssOK: resetPeakRSS()}
	m.clk = clock.NewScaled(at, 1)
	r.eng.Clock = m.clk
	m.stage = r.rec.expect(want, &r.lay, m.clk)
	r.rt.reset()
	m.cpuw = watchCPU(r.db.Name)
	m.start = time.Now()
	return m
}

// end stops the clock on a stage and folds its counters into run.
func (r *runner) end(m *measure, run *Rep) time.Duration {
	d := time.Since(m.start)
	m.trips, m.commit = r.rt.total.Load(), r.rt.commits.Load()
	m.cpu = m.cpuw.stop()
	if peak, err := peakRSS(); err == nil {
		run.PeakRSSMB = max(run.PeakRSSMB, float64(peak)/(1<<20))
		run.PeakRSSIsStage = m.rssOK
	}
	return d
}

// check fails a stage whose database does not show the work done.
func (r *runner) check(ctx context.Context, now time.Time, wantQueued, wantSent int) error {
	o, err := r.db.Outcome(ctx, now)
	if err != nil {
		return err
	}
	if o.StillDue != 0 || o.Queued != int64(wantQueued) || o.Sent != int64(wantSent) || o.Other != 0 {
		return fmt.Errorf("bench: the database disagrees: %d enrollments still due, %d queued (want %d), %d sent (want %d), %d other",
			o.StillDue, o.Queued, wantQueued, o.Sent, wantSent, o.Other)
	}
	return nil
}

// throughput drains a backlog: the planner alone, then the dispatcher
// alone on what it planned, then (on a fresh seed) both together.
func (r *runner) throughput(ctx context.Context, rep int, run *Rep) error {
	due := r.lay.due
	r.say("rep %d/%d: seeding %d enrollments, %d due", rep, r.opt.Reps, r.lay.n, due)
	if err := r.seed(ctx, run); err != nil {
		return err
	}
	if !r.opt.PlanOnly {
		r.say("rep %d/%d: the bare queue (yardstick)", rep, r.opt.Reps)
		if err := r.bareStage(ctx, run); err != nil {
			return err
		}
	}
	r.say("rep %d/%d: planning", rep, r.opt.Reps)
	if err := r.planStage(ctx, run); err != nil {
		return err
	}
	if r.opt.PlanOnly {
		return nil
	}
	r.say("rep %d/%d: dispatching", rep, r.opt.Reps)
	if err := r.dispatchStage(ctx, run); err != nil {
		return err
	}
	r.say("rep %d/%d: seeding again for end-to-end", rep, r.opt.Reps)
	var again Rep
	if err := r.seed(ctx, &again); err != nil {
		return err
	}
	r.say("rep %d/%d: planner and dispatcher together", rep, r.opt.Reps)
	return r.serviceStage(ctx, run, true)
}

// planStage runs the planner until nothing is due, as the service's
// planner loop does while batches come back full.
func (r *runner) planStage(ctx context.Context, run *Rep) error {
	if err := r.settle(ctx); err != nil {
		return err
	}
	m := r.begin(0)
	defer m.cpuw.halt() // when the stage fails before end
	var ticks []time.Duration
	planned := 0
	for {
		t := time.Now()
		n, d, err := r.eng.PlanOnce(ctx)
		if err != nil {
			return err
		}
		if n == 0 {
			break
		}
		ticks = append(ticks, time.Since(t))
		planned += d
		if n < r.eng.Cfg.PlanBatch {
			break
		}
	}
	elapsed := r.end(m, run)
	r.planEnd = m.clk.Now()
	if planned != r.lay.due {
		return fmt.Errorf("bench: planned %d deliveries for %d due people", planned, r.lay.due)
	}
	if err := r.check(ctx, m.clk.Now(), r.lay.due, 0); err != nil {
		return err
	}
	run.PlanStepsPerSec = float64(planned) / elapsed.Seconds()
	run.PlanSeconds = elapsed.Seconds()
	run.PlanTicks = len(ticks)
	run.PlanTickMedianMs = durationMs(quantileOf(ticks, 0.5))
	run.PlanTickP99Ms = durationMs(quantileOf(ticks, 0.99))
	run.PlanRoundTripsPerStep = float64(m.trips) / float64(planned)
	run.PlanCPU = m.cpu.per(planned)
	return nil
}

// dispatchStage sends everything queued, as the service's claim loops do
// while claims come back full.
func (r *runner) dispatchStage(ctx context.Context, run *Rep) error {
	d := r.eng.NewDispatcher(r.rec.sink(), r.opt.Workers, "bench")
	defer d.Close()
	if err := r.settle(ctx); err != nil {
		return err
	}
	m := r.beginAt(r.lay.due, r.planEnd)
	defer m.cpuw.halt() // when the stage fails before end
	errs := make(chan error, d.Loops())
	for range d.Loops() {
		go func() {
			for {
				n, err := d.DispatchOnce(ctx)
				if err != nil || n < d.ClaimSize() {
					errs <- err
					return
				}
			}
		}()
	}
	var err error
	for range d.Loops() {
		err = errors.Join(err, <-errs)
	}
	if err != nil {
		return err
	}
	elapsed := r.end(m, run)
	if got := m.stage.count.Load(); got != int64(r.lay.due) {
		return fmt.Errorf("bench: dispatched %d of %d", got, r.lay.due)
	}
	if err := r.check(ctx, m.clk.Now(), 0, r.lay.due); err != nil {
		return err
	}
	run.DispatchPerSec = float64(r.lay.due) / elapsed.Seconds()
	run.DispatchRoundTripsPerMsg = float64(m.trips) / float64(r.lay.due)
	run.DispatchCPU = m.cpu.per(r.lay.due)
	return nil
}

// serviceStage runs the real service (planner loop, dispatcher loop,
// periodic jobs) until every due message was handed off and recorded.
func (r *runner) serviceStage(ctx context.Context, run *Rep, drain bool) error {
	d := r.eng.NewDispatcher(r.rec.sink(), r.opt.Workers, "bench")
	svc := r.eng.NewService(r.opt.Tick, d)
	if err := r.settle(ctx); err != nil {
		return err
	}
	m := r.begin(r.lay.due)
	defer m.cpuw.halt() // when the stage fails before end
	if err := svc.Start(ctx); err != nil {
		return err
	}
	timeout := r.opt.Timeout
	if !drain {
		timeout += r.opt.Duration
	}
	waitErr := m.stage.wait(ctx, timeout)
	r.say("  all handed off after %s; stopping", time.Since(m.start).Round(time.Millisecond))
	// Stopping cancels the loops' queries, which closes their connections.
	m.cpuw.sample()
	if !svc.Stop(time.Minute) {
		return errors.New("bench: the service did not stop within a minute")
	}
	elapsed := r.end(m, run)
	if waitErr != nil {
		return waitErr
	}
	if s := m.stage.strays.Load(); s > 0 {
		return fmt.Errorf("bench: %d messages went to people who were not due", s)
	}
	if err := r.check(ctx, m.clk.Now(), 0, r.lay.due); err != nil {
		return err
	}
	run.LatencyP50Seconds = m.stage.hist.quantile(0.5).Seconds()
	run.LatencyP99Seconds = m.stage.hist.quantile(0.99).Seconds()
	run.LatencyMaxSeconds = m.stage.hist.quantile(1).Seconds()
	run.RoundTripsPerMsg = float64(m.trips) / float64(r.lay.due)
	run.CommitsPerMsg = float64(m.commit) / float64(r.lay.due)
	run.ServiceCPU = m.cpu.per(r.lay.due)
	if drain {
		run.EndToEndPerSec = float64(r.lay.due) / elapsed.Seconds()
		run.EndToEndSeconds = elapsed.Seconds()
	} else {
		// From the first due time to the last hand-off.
		span := time.Unix(0, m.stage.last.Load()).Sub(m.start.Add(r.lay.dueAt(0).Sub(stepTime)))
		run.SustainedPerSec = float64(r.lay.due) / span.Seconds()
	}
	return nil
}

// sustained feeds the service rate messages a second and measures how long
// each waits between falling due and being handed off.
func (r *runner) sustained(ctx context.Context, rep int, run *Rep) error {
	r.say("rep %d/%d: seeding %d enrollments, %d due over %s", rep, r.opt.Reps, r.lay.n, r.lay.due, r.opt.Duration)
	if err := r.seed(ctx, run); err != nil {
		return err
	}
	r.say("rep %d/%d: sustaining %g messages/s for %s", rep, r.opt.Reps, r.opt.Rate, r.opt.Duration)
	return r.serviceStage(ctx, run, false)
}
