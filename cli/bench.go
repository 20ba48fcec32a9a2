package cli

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"strings"
	"time"

	"github.com/rekindle/rekindle/bench"
	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/config"
	"github.com/rekindle/rekindle/metrics"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/store"
	"github.com/rekindle/rekindle/token"
)

func runBench(ctx context.Context, env *Env, args []string) error {
	fs := flagSet(env, "bench")
	var o bench.Options
	fs.IntVar(&o.Enrollments, "enrollments", 100_000, "people to seed")
	fs.IntVar(&o.Due, "due", -1, "how many of them are due (default all; --rate sets it to rate × duration)")
	fs.IntVar(&o.Reps, "reps", 3, "runs; the medians are printed")
	fs.BoolVar(&o.PlanOnly, "plan-only", false, "time the planner alone")
	fs.BoolVar(&o.Clustered, "clustered", false, "seed the due people as the first rows instead of spread evenly through the table")
	fs.Float64Var(&o.Rate, "rate", 0, "sustain this many messages a second (with --duration) and report due -> handed-off latency")
	fs.DurationVar(&o.Duration, "duration", time.Minute, "how long to sustain --rate")
	fs.DurationVar(&o.Tick, "tick", 0, "idle poll of the planner and dispatcher loops (default REKINDLE_TICK)")
	fs.IntVar(&o.Workers, "workers", 0, "dispatcher workers (default REKINDLE_EMAIL_WORKERS)")
	fs.IntVar(&o.PoolSize, "pool", 8, "database connections of the engine")
	fs.IntVar(&o.PlanBatch, "plan-batch", 0, "enrollments per planner transaction (default: the engine's)")
	fs.IntVar(&o.ClaimBatch, "claim-batch", 0, "deliveries per dispatcher claim (default: the engine's)")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Minute, "give up on a stage after this long")
	fs.StringVar(&o.CPUProfile, "cpuprofile", "", "write a CPU profile (go tool pprof) of the run to this file")
	fs.StringVar(&o.MemProfile, "memprofile", "", "write an allocation profile (go tool pprof -sample_index=alloc_space) of the run to this file")
	name := fs.String("database", "rekindle_bench", "bench database on DATABASE_URL's server, created if missing")
	dbURL := fs.String("database-url", "", "bench database URL (instead of --database; must exist)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("unexpected argument %q", fs.Arg(0))
	}
	// --database-url stands in for DATABASE_URL before the environment is
	// checked, so a bad value there does not stop a bench given its own.
	cfg, err := adminConfig(env, fs)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["tick"] {
		o.Tick = cfg.Tick
	}
	if !set["workers"] {
		o.Workers = cfg.EmailWorkers
	}
	if err := o.Check(); err != nil {
		return usagef("%v", err)
	}
	dsn := *dbURL
	if dsn == "" {
		if *name == "" {
			return usagef("--database must not be empty")
		}
		if dsn, err = store.EnsureDatabase(ctx, cfg.DatabaseURL, *name); err != nil {
			return store.RedactError(err, cfg.DatabaseURL)
		}
	}
	db, err := store.OpenBench(ctx, dsn)
	if err != nil {
		return store.RedactError(err, dsn)
	}
	defer db.Close()
	rep, err := bench.Run(ctx, o, db, dsn, benchEngine(env, cfg), env.Stderr)
	if err != nil {
		return err
	}
	if *asJSON {
		return rep.WriteJSON(env.Stdout)
	}
	return rep.WriteText(env.Stdout)
}

// benchEngine builds engines the way serve does (renderer, links, policy,
// metrics), on the bench's store and clock.
func benchEngine(env *Env, cfg *config.Config) bench.EngineFactory {
	return func(ctx context.Context, st *store.Store, clk clock.Clock) (*scheduler.Engine, error) {
		quiet := *cfg
		quiet.LogLevel = "warn"
		log, err := quietLogger(env, &quiet)
		if err != nil {
			return nil, err
		}
		key := cfg.SecretKey
		if key == "" {
			b := make([]byte, 24)
			rand.Read(b)
			key = hex.EncodeToString(b)
		}
		signer, err := token.NewSigner(key)
		if err != nil {
			return nil, err
		}
		r, err := newRenderer(cfg)
		if err != nil {
			return nil, err
		}
		var e *scheduler.Engine
		links := &token.Links{Base: strings.TrimRight(cfg.BaseURL, "/"), Signer: signer, Now: func() time.Time { return e.Clock.Now() }}
		e = scheduler.New(st, clk, log, engineConfig(cfg), r, links)
		e.Observer = metrics.New()
		progs, _, err := loadProgramsWith(cfg.ProgramsDir, r)
		if err != nil {
			return nil, err
		}
		if err := e.LoadPrograms(ctx, progs); err != nil {
			return nil, err
		}
		return e, nil
	}
}
