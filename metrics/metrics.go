// Package metrics holds the daemon's Prometheus metrics on a registry of its
// own (never the global default one) and serves them for /metrics.
//
// Event counters and histograms are recorded by the engine through methods
// that are safe on a nil *Metrics, so engine code and tests can run without
// metrics. Gauges that describe database state (backlog, enrollments and
// deliveries by status) are read at scrape time through a snapshot function
// (RegisterSnapshot). With several instances against one database, every
// instance reports the same database gauges: aggregate them with max(), not
// sum().
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

const namespace = "rekindle"

// Delivery statuses counted by DeliveryResult.
const (
	StatusSent        = "sent"
	StatusFailed      = "failed"
	StatusRetried     = "retried"
	StatusCancelled   = "cancelled"
	StatusDelivered   = "delivered"
	StatusUndelivered = "undelivered"
)

// Statuses lists the delivery statuses, for pre-initialising series.
var Statuses = []string{StatusSent, StatusFailed, StatusRetried, StatusCancelled, StatusDelivered, StatusUndelivered}

// Channels are the channel label values whose delivery series exist (at
// zero) from the start, so rate() and absence alerts work before the first
// send.
var Channels = []string{"email", "sms"}

// DefaultSnapshotTimeout bounds one snapshot call when the scrape request
// gives no earlier deadline.
const DefaultSnapshotTimeout = 10 * time.Second

// batchBuckets spans a quick database batch (5ms) to a slow provider batch
// (a minute).
var batchBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Metrics is the daemon's metric set. Create it with New; a nil *Metrics
// records nothing.
type Metrics struct {
	reg *prometheus.Registry

	deliveries      *prometheus.CounterVec
	providerErrors  *prometheus.CounterVec
	plannerBatch    prometheus.Histogram
	dispatcherBatch *prometheus.HistogramVec
	checkinAnswers  *prometheus.CounterVec
	webhooks        *prometheus.CounterVec
	httpRequests    *prometheus.CounterVec
	snapshotErrors  prometheus.Counter

	snap *snapshotCollector
}

// New creates the metric set on a fresh registry, with the Go runtime and
// process collectors (go_*, process_*) and build information.
func New() *Metrics {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		reg: reg,
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "deliveries_total",
			Help: "Delivery outcomes by channel and status (sent, failed, retried, cancelled, delivered, undelivered).",
		}, []string{"channel", "status"}),
		providerErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "provider_errors_total",
			Help: "Errors returned by email/SMS providers, by channel and provider code.",
		}, []string{"channel", "code"}),
		plannerBatch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Name: "planner_batch_duration_seconds",
			Help:    "Time taken by one planner batch (due enrollments to delivery rows).",
			Buckets: batchBuckets,
		}),
		dispatcherBatch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Name: "dispatcher_batch_duration_seconds",
			Help:    "Time taken by one dispatcher batch (claim and send queued deliveries), by channel.",
			Buckets: batchBuckets,
		}, []string{"channel"}),
		checkinAnswers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "checkin_answers_total",
			Help: "Check-in answers by program, step (its key in the program) and normalised answer value.",
		}, []string{"program", "step", "value"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "webhook_requests_total",
			Help: "Inbound webhook requests by hook and result.",
		}, []string{"hook", "result"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Name: "http_requests_total",
			Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		snapshotErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Name: "snapshot_errors_total",
			Help: "Scrapes whose database snapshot failed (the database gauges are then absent from that scrape).",
		}),
	}
	m.snap = newSnapshotCollector(m.snapshotErrors)
	reg.MustRegister(
		m.deliveries, m.providerErrors, m.plannerBatch, m.dispatcherBatch,
		m.checkinAnswers, m.webhooks, m.httpRequests, m.snap, // m.snap also emits snapshotErrors
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewBuildInfoCollector(),
	)
	for _, ch := range Channels {
		for _, st := range Statuses {
			m.deliveries.WithLabelValues(ch, st)
		}
	}
	return m
}

// Registry returns the registry behind Handler, to register further
// collectors (e.g. collectors.NewDBStatsCollector). Nil on a nil *Metrics.
func (m *Metrics) Registry() *prometheus.Registry {
	if m == nil {
		return nil
	}
	return m.reg
}

// Handler serves the metrics in the Prometheus exposition formats. The
// snapshot function, if registered, runs with the request's context (bounded
// by DefaultSnapshotTimeout). On a nil *Metrics it answers 404.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "metrics disabled", http.StatusNotFound)
		})
	}
	inner := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling:     promhttp.ContinueOnError,
		Registry:          m.reg, // promhttp_metric_handler_errors_total
		EnableOpenMetrics: false,
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.snap.withContext(r.Context(), func() { inner.ServeHTTP(w, r) })
	})
}

// DeliveryResult counts one delivery outcome: status is one of the Status*
// constants (sent, failed, retried, cancelled, delivered, undelivered).
func (m *Metrics) DeliveryResult(channel, status string) {
	if m == nil {
		return
	}
	m.deliveries.WithLabelValues(channel, status).Inc()
}

// ProviderError counts one provider error; code is the provider's code
// (SMTP reply code, Twilio error code, "timeout", "network").
func (m *Metrics) ProviderError(channel, code string) {
	if m == nil {
		return
	}
	m.providerErrors.WithLabelValues(channel, bounded(code)).Inc()
}

// ObservePlannerBatch records the duration of one planner batch.
func (m *Metrics) ObservePlannerBatch(d time.Duration) {
	if m == nil {
		return
	}
	m.plannerBatch.Observe(d.Seconds())
}

// ObserveDispatcherBatch records the duration of one dispatcher batch.
func (m *Metrics) ObserveDispatcherBatch(channel string, d time.Duration) {
	if m == nil {
		return
	}
	m.dispatcherBatch.WithLabelValues(channel).Observe(d.Seconds())
}

// CheckinAnswer counts one check-in answer. value must be the normalised
// option (e.g. "3", "yes"), never the raw reply text: values longer than 32
// bytes are counted as "other" to keep label cardinality bounded.
func (m *Metrics) CheckinAnswer(program, step, value string) {
	if m == nil {
		return
	}
	m.checkinAnswers.WithLabelValues(program, step, bounded(value)).Inc()
}

// Webhook counts one inbound webhook request (hook e.g. "twilio_inbound",
// "twilio_status"; result e.g. "ok", "forbidden", "bad_request", "error").
func (m *Metrics) Webhook(hook, result string) {
	if m == nil {
		return
	}
	m.webhooks.WithLabelValues(hook, result).Inc()
}

// HTTP counts one HTTP request. route must be the route pattern (e.g.
// "/checkin/{token}"), never the raw path.
func (m *Metrics) HTTP(route string, code int) {
	if m == nil {
		return
	}
	m.httpRequests.WithLabelValues(route, strconv.Itoa(code)).Inc()
}

// bounded keeps free-form label values short.
func bounded(v string) string {
	if len(v) > 32 {
		return "other"
	}
	return v
}

// EnrollmentCount is the number of enrollments in one (program, phase,
// status) group.
type EnrollmentCount struct {
	Program, Phase, Status string
	N                      int64
}

// DeliveryCount is the number of delivery rows in one (channel, status)
// group.
type DeliveryCount struct {
	Channel, Status string
	N               int64
}

// Snapshot is the database state exported as gauges at scrape time.
type Snapshot struct {
	// DueBacklog is the number of active enrollments whose next step is due
	// plus the number of queued deliveries whose send time has come.
	DueBacklog int64
	// OldestDueAge is how long the oldest due step has been waiting (0 if
	// none).
	OldestDueAge time.Duration
	Enrollments  []EnrollmentCount
	Deliveries   []DeliveryCount
}

// RegisterSnapshot sets the function read at every scrape for the database
// gauges rekindle_due_backlog, rekindle_oldest_due_age_seconds,
// rekindle_enrollments{program,phase,status} and
// rekindle_deliveries{channel,status}. When it returns an error,
// rekindle_snapshot_errors_total is incremented and those gauges are left
// out of that scrape. Calling it again replaces the function; nil removes it.
func (m *Metrics) RegisterSnapshot(fn func(ctx context.Context) (Snapshot, error)) {
	if m == nil {
		return
	}
	m.snap.setFunc(fn)
}

type snapshotCollector struct {
	errors prometheus.Counter

	dueBacklog   *prometheus.Desc
	oldestDueAge *prometheus.Desc
	enrollments  *prometheus.Desc
	deliveries   *prometheus.Desc

	fn atomic.Pointer[snapshotFunc]
	// scrape serialises Handler scrapes (one snapshot query at a time) and
	// ctx carries the current scrape request's context to Collect.
	scrape sync.Mutex
	ctx    atomic.Pointer[context.Context]
}

type snapshotFunc func(context.Context) (Snapshot, error)

func newSnapshotCollector(errs prometheus.Counter) *snapshotCollector {
	name := func(n string) string { return prometheus.BuildFQName(namespace, "", n) }
	return &snapshotCollector{
		errors: errs,
		dueBacklog: prometheus.NewDesc(name("due_backlog"),
			"Steps due and not yet sent: active enrollments whose next step is due, plus queued deliveries whose send time has come.", nil, nil),
		oldestDueAge: prometheus.NewDesc(name("oldest_due_age_seconds"),
			"Age of the oldest due step (0 when nothing is due).", nil, nil),
		enrollments: prometheus.NewDesc(name("enrollments"),
			"Enrollments by program, phase and status.", []string{"program", "phase", "status"}, nil),
		deliveries: prometheus.NewDesc(name("deliveries"),
			"Deliveries queued and being sent, by channel (sent, failed and cancelled ones are counted by rekindle_deliveries_total).", []string{"channel", "status"}, nil),
	}
}

func (c *snapshotCollector) setFunc(fn func(context.Context) (Snapshot, error)) {
	if fn == nil {
		c.fn.Store(nil)
		return
	}
	f := snapshotFunc(fn)
	c.fn.Store(&f)
}

// withContext runs serve (a gather) with ctx as the snapshot's context.
func (c *snapshotCollector) withContext(ctx context.Context, serve func()) {
	c.scrape.Lock()
	defer c.scrape.Unlock()
	c.ctx.Store(&ctx)
	defer c.ctx.Store(nil)
	serve()
}

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.dueBacklog
	ch <- c.oldestDueAge
	ch <- c.enrollments
	ch <- c.deliveries
	c.errors.Describe(ch)
}

// Collect calls the snapshot function with the scrape request's context (or
// a background one for a direct Registry().Gather()), bounded by
// DefaultSnapshotTimeout.
func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	fp := c.fn.Load()
	if fp == nil {
		ch <- c.errors
		return
	}
	parent := context.Background()
	if p := c.ctx.Load(); p != nil {
		parent = *p
	}
	ctx, cancel := context.WithTimeout(parent, DefaultSnapshotTimeout)
	defer cancel()
	s, err := (*fp)(ctx)
	if err != nil {
		c.errors.Inc()
	}
	// Emitted here, after the snapshot ran, so a scrape counts its own failure.
	ch <- c.errors
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.dueBacklog, prometheus.GaugeValue, float64(s.DueBacklog))
	ch <- prometheus.MustNewConstMetric(c.oldestDueAge, prometheus.GaugeValue, max(s.OldestDueAge, 0).Seconds())

	// Sum duplicate groups: the same label set twice would fail the scrape.
	type ek struct{ p, ph, st string }
	enr := map[ek]int64{}
	var enrOrder []ek
	for _, e := range s.Enrollments {
		k := ek{e.Program, e.Phase, e.Status}
		if _, ok := enr[k]; !ok {
			enrOrder = append(enrOrder, k)
		}
		enr[k] += e.N
	}
	for _, k := range enrOrder {
		ch <- prometheus.MustNewConstMetric(c.enrollments, prometheus.GaugeValue, float64(enr[k]), k.p, k.ph, k.st)
	}
	type dk struct{ ch, st string }
	del := map[dk]int64{}
	var delOrder []dk
	for _, d := range s.Deliveries {
		k := dk{d.Channel, d.Status}
		if _, ok := del[k]; !ok {
			delOrder = append(delOrder, k)
		}
		del[k] += d.N
	}
	for _, k := range delOrder {
		ch <- prometheus.MustNewConstMetric(c.deliveries, prometheus.GaugeValue, float64(del[k]), k.ch, k.st)
	}
}
