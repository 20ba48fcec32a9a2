package metrics

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Free-form label values are kept up to 32 bytes and counted as "other"
// beyond: a provider that puts a message in its error code must not make a
// new series per message.
func TestFreeFormLabelsAreBoundedAt32Bytes(t *testing.T) {
	m := New()
	v32, v33 := strings.Repeat("a", 32), strings.Repeat("b", 33)
	m.CheckinAnswer("rekindle", "w1", v32)
	m.CheckinAnswer("rekindle", "w1", v33)
	m.ProviderError("sms", v32)
	m.ProviderError("sms", v33)
	fams := scrape(t, m.Handler())
	if got := value(t, fams, "rekindle_checkin_answers_total", "program=rekindle", "step=w1", "value="+v32); got != 1 {
		t.Errorf("32-byte answer: %v", got)
	}
	if got := value(t, fams, "rekindle_checkin_answers_total", "program=rekindle", "step=w1", "value=other"); got != 1 {
		t.Errorf("33-byte answer as other: %v", got)
	}
	if got := value(t, fams, "rekindle_provider_errors_total", "channel=sms", "code="+v32); got != 1 {
		t.Errorf("32-byte code: %v", got)
	}
	if got := value(t, fams, "rekindle_provider_errors_total", "channel=sms", "code=other"); got != 1 {
		t.Errorf("33-byte code as other: %v", got)
	}
}

// The snapshot gets a live context with at most DefaultSnapshotTimeout
// (10s) to run; a due time ahead of the database clock reads as age 0, not a
// negative age; the same delivery group twice is summed.
func TestSnapshotContextAgeAndDeliverySums(t *testing.T) {
	m := New()
	var left time.Duration
	var live bool
	m.RegisterSnapshot(func(ctx context.Context) (Snapshot, error) {
		dl, _ := ctx.Deadline()
		left, live = time.Until(dl), ctx.Err() == nil
		return Snapshot{
			OldestDueAge: -3 * time.Second,
			Deliveries: []DeliveryCount{
				{Channel: "sms", Status: "queued", N: 4},
				{Channel: "sms", Status: "queued", N: 5},
			},
		}, nil
	})
	fams := scrape(t, m.Handler())
	// The deadline can only have come closer since it was set.
	if !live || left <= 0 || left > DefaultSnapshotTimeout || DefaultSnapshotTimeout != 10*time.Second {
		t.Errorf("snapshot context: live %v, %v left (DefaultSnapshotTimeout %v)", live, left, DefaultSnapshotTimeout)
	}
	if got := value(t, fams, "rekindle_oldest_due_age_seconds"); got != 0 {
		t.Errorf("oldest due age %v, want 0", got)
	}
	if got := value(t, fams, "rekindle_deliveries", "channel=sms", "status=queued"); got != 9 {
		t.Errorf("duplicate delivery groups: %v, want 9", got)
	}
}

// Requests are counted by route pattern, never the raw path (a token in
// the path would be a label value): the inner mux's pattern when Route
// wraps it, the outer mux's otherwise, and "none" when nothing matched
// (a path the inner mux does not know, below a prefix the outer one does,
// is "none" too: the inner mux's miss clears the pattern).
func TestCountHTTPByRoutePattern(t *testing.T) {
	m := New()
	inner := http.NewServeMux()
	inner.HandleFunc("GET /checkin/{token}", func(w http.ResponseWriter, r *http.Request) {})
	outer := http.NewServeMux()
	outer.Handle("/checkin/", Route(inner))
	outer.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {})
	h := m.CountHTTP(outer)
	for _, path := range []string{"/checkin/tok-SECRET", "/healthz", "/checkin/"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	h = m.CountHTTP(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/x", nil))

	fams := scrape(t, m.Handler())
	for _, rc := range [][2]string{{"GET /checkin/{token}", "200"}, {"GET /healthz", "200"}, {"none", "404"}, {"none", "200"}} {
		if got := value(t, fams, "rekindle_http_requests_total", "route="+rc[0], "code="+rc[1]); got != 1 {
			t.Errorf("route %q code %s: %v, want 1", rc[0], rc[1], got)
		}
	}
	for _, mf := range fams["rekindle_http_requests_total"].GetMetric() {
		for _, lp := range mf.GetLabel() {
			if strings.Contains(lp.GetValue(), "SECRET") {
				t.Errorf("raw path in a label: %q", lp.GetValue())
			}
		}
	}
}

// The status a webhook answered is the first one written: 300 is no
// success, 401 is forbidden, and a handler that wrote its body (an implicit
// 200) and then called WriteHeader too late still counts as ok.
func TestCountWebhookEdgeStatuses(t *testing.T) {
	m := New()
	steps := []func(w http.ResponseWriter){
		func(w http.ResponseWriter) { w.WriteHeader(300) },
		func(w http.ResponseWriter) { w.WriteHeader(401) },
		func(w http.ResponseWriter) { w.Write([]byte("<Response/>")); w.WriteHeader(500) },
		func(w http.ResponseWriter) { w.WriteHeader(403); w.WriteHeader(200) },
	}
	i := 0
	h := m.CountWebhook("twilio_status", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		steps[i](w)
		i++
	}))
	for range steps {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/webhooks/twilio/status", nil))
	}
	fams := scrape(t, m.Handler())
	for result, want := range map[string]float64{"error": 1, "forbidden": 2, "ok": 1} {
		if got := value(t, fams, "rekindle_webhook_requests_total", "hook=twilio_status", "result="+result); got != want {
			t.Errorf("result %s: %v, want %v", result, got, want)
		}
	}
}
