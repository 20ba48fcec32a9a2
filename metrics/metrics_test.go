package metrics

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// scrape fetches the handler's text exposition and parses it.
func scrape(t *testing.T, h http.Handler) map[string]*dto.MetricFamily {
	t.Helper()
	return scrapeCtx(t, h, context.Background())
}

func scrapeCtx(t *testing.T, h http.Handler, ctx context.Context) map[string]*dto.MetricFamily {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil).WithContext(ctx)
	req.Header.Set("Accept", "text/plain; version=0.0.4")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /metrics = %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type = %q", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse exposition: %v", err)
	}
	return fams
}

// series finds the metric in family name whose labels are exactly labels
// ("k=v" pairs); nil if absent.
func series(fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
	want := append([]string(nil), labels...)
	sort.Strings(want)
	for _, m := range f.GetMetric() {
		var got []string
		for _, lp := range m.GetLabel() {
			got = append(got, lp.GetName()+"="+lp.GetValue())
		}
		sort.Strings(got)
		if strings.Join(got, ",") == strings.Join(want, ",") {
			return m
		}
	}
	return nil
}

func value(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	t.Helper()
	m := series(fams, name, labels...)
	if m == nil {
		t.Fatalf("no series %s%v", name, labels)
	}
	switch {
	case m.Counter != nil:
		return m.GetCounter().GetValue()
	case m.Gauge != nil:
		return m.GetGauge().GetValue()
	}
	t.Fatalf("%s%v is neither counter nor gauge", name, labels)
	return 0
}

func TestCountersAndHistograms(t *testing.T) {
	m := New()
	m.DeliveryResult("email", StatusSent)
	m.DeliveryResult("email", StatusSent)
	m.DeliveryResult("sms", StatusFailed)
	m.DeliveryResult("sms", StatusDelivered)
	m.ProviderError("sms", "30007")
	m.ProviderError("email", "550")
	m.ProviderError("email", "550")
	m.ObservePlannerBatch(30 * time.Millisecond)
	m.ObservePlannerBatch(2 * time.Second)
	m.ObserveDispatcherBatch("sms", 400*time.Millisecond)
	m.CheckinAnswer("rekindle", "week1-checkin", "3")
	m.CheckinAnswer("rekindle", "week1-checkin", "3")
	m.CheckinAnswer("rekindle", "week1-checkin", strings.Repeat("free text ", 10))
	m.Webhook("twilio_inbound", "ok")
	m.Webhook("twilio_status", "forbidden")
	m.HTTP("/subscribe", 201)
	m.HTTP("/subscribe", 400)
	m.HTTP("/subscribe", 400)

	f := scrape(t, m.Handler())
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"rekindle_deliveries_total", []string{"channel=email", "status=sent"}, 2},
		{"rekindle_deliveries_total", []string{"channel=sms", "status=failed"}, 1},
		{"rekindle_deliveries_total", []string{"channel=sms", "status=delivered"}, 1},
		{"rekindle_deliveries_total", []string{"channel=email", "status=cancelled"}, 0}, // pre-initialised
		{"rekindle_provider_errors_total", []string{"channel=sms", "code=30007"}, 1},
		{"rekindle_provider_errors_total", []string{"channel=email", "code=550"}, 2},
		{"rekindle_checkin_answers_total", []string{"program=rekindle", "step=week1-checkin", "value=3"}, 2},
		{"rekindle_checkin_answers_total", []string{"program=rekindle", "step=week1-checkin", "value=other"}, 1},
		{"rekindle_webhook_requests_total", []string{"hook=twilio_inbound", "result=ok"}, 1},
		{"rekindle_webhook_requests_total", []string{"hook=twilio_status", "result=forbidden"}, 1},
		{"rekindle_http_requests_total", []string{"route=/subscribe", "code=201"}, 1},
		{"rekindle_http_requests_total", []string{"route=/subscribe", "code=400"}, 2},
		{"rekindle_snapshot_errors_total", nil, 0},
	}
	for _, c := range checks {
		if got := value(t, f, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, st := range Statuses {
		for _, ch := range Channels {
			if series(f, "rekindle_deliveries_total", "channel="+ch, "status="+st) == nil {
				t.Errorf("deliveries_total{%s,%s} not pre-initialised", ch, st)
			}
		}
	}

	h := series(f, "rekindle_planner_batch_duration_seconds").GetHistogram()
	if h.GetSampleCount() != 2 || h.GetSampleSum() < 2.02 || h.GetSampleSum() > 2.04 {
		t.Errorf("planner histogram count=%d sum=%v", h.GetSampleCount(), h.GetSampleSum())
	}
	for _, b := range h.GetBucket() {
		want := uint64(0)
		if b.GetUpperBound() >= 0.03 {
			want = 1
		}
		if b.GetUpperBound() >= 2 {
			want = 2
		}
		if b.GetCumulativeCount() != want {
			t.Errorf("planner bucket le=%v = %d, want %d", b.GetUpperBound(), b.GetCumulativeCount(), want)
		}
	}
	dh := series(f, "rekindle_dispatcher_batch_duration_seconds", "channel=sms")
	if dh == nil || dh.GetHistogram().GetSampleCount() != 1 {
		t.Errorf("dispatcher histogram{sms} = %v", dh)
	}
	if f["rekindle_dispatcher_batch_duration_seconds"].GetType() != dto.MetricType_HISTOGRAM {
		t.Error("dispatcher batch is not a histogram")
	}

	// Own registry, with runtime and process collectors.
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total", "go_build_info"} {
		if f[name] == nil {
			t.Errorf("missing %s", name)
		}
	}
}

func TestNotOnDefaultRegistry(t *testing.T) {
	m := New()
	m.DeliveryResult("email", StatusSent)
	m2 := New() // a second instance must not collide
	m2.DeliveryResult("email", StatusSent)
	rec := httptest.NewRecorder()
	// The global handler must not see rekindle series.
	promhttp.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if strings.Contains(rec.Body.String(), "rekindle_") {
		t.Error("rekindle metrics leaked onto the default registry")
	}
}

func TestSnapshotGauges(t *testing.T) {
	m := New()
	var calls atomic.Int64
	var gotDeadline atomic.Bool
	m.RegisterSnapshot(func(ctx context.Context) (Snapshot, error) {
		calls.Add(1)
		_, ok := ctx.Deadline()
		gotDeadline.Store(ok)
		return Snapshot{
			DueBacklog:   42,
			OldestDueAge: 90 * time.Second,
			Enrollments: []EnrollmentCount{
				{Program: "rekindle", Phase: "healing", Status: "active", N: 10},
				{Program: "rekindle", Phase: "reconnecting", Status: "paused", N: 2},
				{Program: "rekindle", Phase: "healing", Status: "active", N: 1}, // duplicate group: summed
			},
			Deliveries: []DeliveryCount{
				{Channel: "email", Status: "queued", N: 7},
				{Channel: "sms", Status: "sending", N: 3},
			},
		}, nil
	})

	f := scrape(t, m.Handler())
	if calls.Load() != 1 {
		t.Errorf("snapshot called %d times per scrape, want 1", calls.Load())
	}
	if !gotDeadline.Load() {
		t.Error("snapshot context has no deadline")
	}
	checks := []struct {
		name   string
		labels []string
		want   float64
	}{
		{"rekindle_due_backlog", nil, 42},
		{"rekindle_oldest_due_age_seconds", nil, 90},
		{"rekindle_enrollments", []string{"program=rekindle", "phase=healing", "status=active"}, 11},
		{"rekindle_enrollments", []string{"program=rekindle", "phase=reconnecting", "status=paused"}, 2},
		{"rekindle_deliveries", []string{"channel=email", "status=queued"}, 7},
		{"rekindle_deliveries", []string{"channel=sms", "status=sending"}, 3},
		{"rekindle_snapshot_errors_total", nil, 0},
	}
	for _, c := range checks {
		if got := value(t, f, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"rekindle_due_backlog", "rekindle_enrollments", "rekindle_deliveries"} {
		if f[name].GetType() != dto.MetricType_GAUGE {
			t.Errorf("%s type = %v, want gauge", name, f[name].GetType())
		}
	}

	// Each scrape reads fresh state.
	scrape(t, m.Handler())
	if calls.Load() != 2 {
		t.Errorf("snapshot called %d times after two scrapes", calls.Load())
	}
}

func TestSnapshotError(t *testing.T) {
	m := New()
	fail := atomic.Bool{}
	fail.Store(true)
	m.RegisterSnapshot(func(ctx context.Context) (Snapshot, error) {
		if fail.Load() {
			return Snapshot{}, errors.New("connection refused")
		}
		return Snapshot{DueBacklog: 1}, nil
	})
	h := m.Handler()
	f := scrape(t, h) // still 200: the rest of the metrics are served
	if got := value(t, f, "rekindle_snapshot_errors_total"); got != 1 {
		t.Errorf("snapshot_errors_total = %v, want 1", got)
	}
	if f["rekindle_due_backlog"] != nil {
		t.Error("due_backlog present despite a failed snapshot")
	}
	if f["rekindle_deliveries_total"] == nil {
		t.Error("event counters missing when the snapshot fails")
	}
	f = scrape(t, h)
	if got := value(t, f, "rekindle_snapshot_errors_total"); got != 2 {
		t.Errorf("snapshot_errors_total = %v, want 2", got)
	}
	fail.Store(false)
	f = scrape(t, h)
	if got := value(t, f, "rekindle_due_backlog"); got != 1 {
		t.Errorf("due_backlog = %v after recovery, want 1", got)
	}
}

func TestSnapshotUsesRequestContext(t *testing.T) {
	m := New()
	type key struct{}
	var saw atomic.Value
	m.RegisterSnapshot(func(ctx context.Context) (Snapshot, error) {
		v, _ := ctx.Value(key{}).(string)
		saw.Store(v)
		return Snapshot{}, nil
	})
	scrapeCtx(t, m.Handler(), context.WithValue(context.Background(), key{}, "scrape-1"))
	if saw.Load() != "scrape-1" {
		t.Errorf("snapshot context value = %v, want the request's", saw.Load())
	}
	// A direct Gather works too, with a background context.
	if _, err := m.Registry().Gather(); err != nil {
		t.Fatal(err)
	}
	if saw.Load() != "" {
		t.Errorf("direct gather saw a stale request context: %v", saw.Load())
	}
}

func TestConcurrentScrapesAndRecords(t *testing.T) {
	m := New()
	m.RegisterSnapshot(func(ctx context.Context) (Snapshot, error) {
		return Snapshot{DueBacklog: 1}, nil
	})
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	done := make(chan struct{})
	for range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 20 {
				m.DeliveryResult("sms", StatusSent)
				m.HTTP("/metrics", 200)
				resp, err := http.Get(srv.URL)
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Errorf("status %d", resp.StatusCode)
				}
			}
		}()
	}
	for range 4 {
		<-done
	}
	f := scrape(t, m.Handler())
	if got := value(t, f, "rekindle_deliveries_total", "channel=sms", "status=sent"); got != 80 {
		t.Errorf("deliveries_total = %v, want 80", got)
	}
}

func TestNilMetrics(t *testing.T) {
	var m *Metrics
	m.DeliveryResult("email", StatusSent)
	m.ProviderError("email", "550")
	m.ObservePlannerBatch(time.Second)
	m.ObserveDispatcherBatch("email", time.Second)
	m.CheckinAnswer("p", "s", "v")
	m.Webhook("h", "ok")
	m.HTTP("/", 200)
	m.RegisterSnapshot(func(context.Context) (Snapshot, error) { return Snapshot{}, nil })
	if m.Registry() != nil {
		t.Error("nil Metrics has a registry")
	}
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("nil Metrics handler = %d, want 404", rec.Code)
	}
}
