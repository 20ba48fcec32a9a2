package cli

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/rekindle/rekindle/config"
	"github.com/rekindle/rekindle/metrics"
	"github.com/rekindle/rekindle/notify"
	"github.com/rekindle/rekindle/store"
	"github.com/rekindle/rekindle/web"
)

func runServe(ctx context.Context, env *Env, args []string) error {
	fs := flagSet(env, "serve")
	config.Flags(fs)
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(env, fs)
	if err != nil {
		return err
	}
	if cfg.SecretKey == "" && realProvider(cfg) {
		return errors.New("REKINDLE_SECRET_KEY is not set: it signs the links in every message (check-in, unsubscribe, manage); " +
			"without it each start and each instance signs with a random key of its own, and the links people received stop working. " +
			"Set it (32+ random characters, the same on every instance) before sending through SMTP or Twilio")
	}
	a, err := wire(ctx, env, cfg, wireOptions{migrate: cfg.AutoMigrate, channels: true})
	if err != nil {
		return err
	}
	defer a.close()
	warnAtStart(a)
	mux, m, err := a.routes()
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", cfg.Listen, err)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second}
	// Closed on every way out, so a start that fails after this point does
	// not leave the listener open (after a graceful shutdown it is a no-op).
	defer srv.Close()
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()

	svc := a.engine.NewService(cfg.Tick, a.dispatchers(instanceID())...)
	a.addJobs(svc, m)
	if err := svc.Start(ctx); err != nil {
		return err
	}
	n := notify.New(a.log)
	n.Ready()
	a.log.Info("rekindle serving", "listen", ln.Addr().String(), "programs", len(a.progs), "channels", channelNames(a))
	wctx, stopWatchdog := context.WithCancel(ctx)
	defer stopWatchdog()
	// The watchdog watches the engine's loops, not the database: during a
	// database outage the loops keep retrying, /readyz says 503, and the
	// service must not be restarted (a restart cannot bring the database
	// back, and the loops resume by themselves when it returns).
	go n.RunWatchdog(wctx, svc.Alive)

	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case err := <-httpDone:
			svc.Stop(cfg.ShutdownTimeout)
			return fmt.Errorf("http: %w", err)
		case <-hup:
			n.Reloading()
			a.reload(ctx)
			n.ReloadDone()
		}
	}
	n.Stopping()
	a.log.Info("stopping: no new claims; finishing in-flight sends and requests", "timeout", cfg.ShutdownTimeout)
	shutdown(a, srv, svc, cfg.ShutdownTimeout)
	return nil
}

// shutdown stops the web server and the engine at once, under one deadline:
// the whole stop takes at most timeout (REKINDLE_SHUTDOWN_TIMEOUT), which
// the unit's TimeoutStopSec leaves room for. Stopping them one after the
// other, each with the full timeout, could take twice as long.
func shutdown(a *app, srv *http.Server, svc interface {
	Stop(time.Duration) bool
	InFlight() []int64
}, timeout time.Duration) {
	began := time.Now()
	ctx, cancel := context.WithDeadline(context.Background(), began.Add(timeout))
	defer cancel()
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Shutdown(ctx) }()
	sendsDone := svc.Stop(timeout)
	if err := <-httpDone; err != nil {
		srv.Close()
		a.log.Warn("shutdown timeout reached with HTTP requests open; they were cut off")
	}
	if !sendsDone {
		// Named, so the operator can tell which messages may arrive twice:
		// the provider may have taken one whose outcome was never recorded.
		ids := svc.InFlight()
		a.log.Warn("shutdown timeout reached with sends in flight; their leases will expire and the rescuer re-queues them "+
			"(a message the provider took meanwhile is sent again)", "count", len(ids), "delivery_ids", firstIDs(ids))
	}
	a.log.Info("stopped", "took", time.Since(began).Round(time.Millisecond).String())
}

// firstIDs is ids as a log value, at most 50 of them: enough to look the
// messages up (the count beside them says how many there were).
func firstIDs(ids []int64) []int64 {
	const most = 50
	if len(ids) > most {
		return ids[:most]
	}
	return ids
}

// unitStopTimeout is the shipped unit's TimeoutStopSec=: after it, systemd
// kills serve (SIGKILL) whatever it is doing.
const unitStopTimeout = 30 * time.Second

// warnAtStart logs settings that run but are most likely a mistake.
func warnAtStart(a *app) {
	if a.cfg.ShutdownTimeout >= unitStopTimeout {
		// A warning, not a refusal: an operator may have raised
		// TimeoutStopSec= in the unit with it.
		a.log.Warn(fmt.Sprintf("REKINDLE_SHUTDOWN_TIMEOUT=%s is not shorter than the unit's TimeoutStopSec=%s: "+
			"systemd kills serve (SIGKILL) before a slow shutdown ends, cutting off sends without recording them; "+
			"set it below %s (the default is 20s), or raise TimeoutStopSec= in the unit to 10s more than it",
			a.cfg.ShutdownTimeout, unitStopTimeout, unitStopTimeout))
	}
	if a.cfg.SecretKey == "" {
		a.log.Warn("REKINDLE_SECRET_KEY is not set: links are signed with a random key of this process; " +
			"they stop working when it restarts, and with several instances a link one made fails on the others")
	}
	if realProvider(a.cfg) && loopbackURL(a.cfg.BaseURL) {
		a.log.Warn("REKINDLE_BASE_URL points at this machine while an SMTP server or Twilio is configured: "+
			"the links in messages sent (check-in, unsubscribe, manage) will not work for their readers and Twilio cannot reach the webhooks; "+
			"set it to the public URL", "base_url", a.cfg.BaseURL)
	}
}

// realProvider reports whether messages go to people: an SMTP server or
// Twilio is configured, not (only) the file channel.
func realProvider(cfg *config.Config) bool {
	return cfg.SMTPHost != "" || cfg.TwilioAccountSID != ""
}

// loopbackURL reports whether u names this machine (localhost, 127.0.0.0/8,
// ::1), as the default REKINDLE_BASE_URL does.
func loopbackURL(u string) bool {
	p, err := url.Parse(u)
	if err != nil {
		return false
	}
	h := p.Hostname()
	if strings.EqualFold(h, "localhost") || strings.HasSuffix(strings.ToLower(h), ".localhost") {
		return true
	}
	ip, err := netip.ParseAddr(h)
	return err == nil && ip.IsLoopback()
}

// reload re-reads programs (and templates on next start) after validating
// them; a bad program keeps the old ones running.
func (a *app) reload(ctx context.Context) {
	// The deployment's renderer, so the SMS checks count the brand and
	// hint this deployment adds, as at start.
	progs, _, err := loadProgramsWith(a.cfg.ProgramsDir, a.engine.Renderer)
	if err != nil {
		a.log.Error("reload refused: programs do not validate; the running ones stay", "err", err)
		return
	}
	if err := a.engine.LoadPrograms(ctx, progs); err != nil {
		a.log.Error("reload refused", "err", err)
		return
	}
	a.progs = progs
	a.log.Info("programs reloaded", "programs", len(progs))
}

// ready reports whether the database answers and the schema is current.
func (a *app) ready(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := a.store.Ping(ctx); err != nil {
		return errors.New("database unreachable")
	}
	return store.CheckSchema(ctx, a.store.DB.DB)
}

func (a *app) snapshot(ctx context.Context) (metrics.Snapshot, error) {
	st, err := a.store.Status(ctx, a.clock.Now(), true)
	if err != nil {
		return metrics.Snapshot{}, err
	}
	if st.Enrollments, err = a.enrollCounts.get(ctx, a.clock.Now(), a.store.EnrollmentCounts); err != nil {
		return metrics.Snapshot{}, err
	}
	s := metrics.Snapshot{DueBacklog: st.DueEnrollments + st.DueDeliveries,
		OldestDueAge: time.Duration(max(st.OldestDueSeconds, st.OldestQueuedSeconds) * float64(time.Second))}
	for _, e := range st.Enrollments {
		s.Enrollments = append(s.Enrollments, metrics.EnrollmentCount{Program: e.Program, Phase: e.Phase, Status: e.Status, N: e.N})
	}
	for _, d := range st.Deliveries {
		s.Deliveries = append(s.Deliveries, metrics.DeliveryCount{Channel: d.Channel, Status: d.Status, N: d.N})
	}
	return s, nil
}

// addJobs adds the daemon's own periodic jobs.
func (a *app) addJobs(svc interface {
	AddJob(spec, name string, cluster bool, fn func(ctx context.Context) error)
}, m *metrics.Metrics) {
	svc.AddJob("@every 1h", "purge old reply text", true, func(ctx context.Context) error {
		n, err := a.store.PurgeReplies(ctx, a.clock.Now().Add(-a.cfg.ReplyRetention))
		if n > 0 {
			a.log.Info("purged check-in reply text past retention", "rows", n)
		}
		return err
	})
	// Twilio can report on an SMS before its dispatcher has recorded the SID;
	// the status web hook keeps such reports for this job.
	svc.AddJob("@every 30s", "apply early sms status reports", true,
		web.KeptStatusJob{Engine: a.engine, Log: a.log, Metrics: m}.Run)
}

func channelNames(a *app) []string {
	var out []string
	for _, c := range a.channels {
		out = append(out, string(c.Kind())+":"+c.Name())
	}
	return out
}

// routes is everything serve answers over HTTP: health, readiness, metrics
// (observing the engine) and the subscriber-facing pages and webhooks, each
// request counted in rekindle_http_requests_total.
func (a *app) routes() (http.Handler, *metrics.Metrics, error) {
	m := metrics.New()
	a.engine.Observer = m
	m.RegisterSnapshot(a.snapshot)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "ok") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if err := a.ready(r.Context()); err != nil {
			http.Error(w, "not ready: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	})
	mux.Handle("GET /metrics", m.Handler())
	if err := mountWeb(mux, a, m); err != nil {
		return nil, nil, err
	}
	return m.CountHTTP(mux), m, nil
}
