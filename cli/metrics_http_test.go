package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/testdb"
)

// Every request serve answers is counted in rekindle_http_requests_total
// by the route pattern it matched and its status code, never by its path:
// a check-in token in a label would be one series per link (and a leak).
// The scrape also explains rekindle_due_backlog as what it counts.
func TestMetricsCountHTTPRequestsByRoute(t *testing.T) {
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	env := map[string]string{"DATABASE_URL": testdb.New(t), "REKINDLE_BASE_URL": base, "REKINDLE_LOG_LEVEL": "error",
		"REKINDLE_SECRET_KEY": "metrics-http-secret-0123456789abcdef", "REKINDLE_OUTBOX_DIR": t.TempDir()}
	h := newEngineHarness(t, env, time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC))
	handler, _, err := h.a.routes()
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = handler
	ts.Start()
	defer ts.Close()

	const token = "not-a-real-token-4f7a"
	for _, req := range []struct {
		method, path string
		code         int
	}{
		{"GET", "/healthz", 200},
		{"GET", "/healthz", 200},
		{"GET", "/checkin/" + token, 0},
		{"POST", "/webhooks/twilio/sms", 403},
		{"GET", "/no/such/page", 404},
	} {
		r, err := http.NewRequest(req.method, base+req.path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if req.code != 0 && resp.StatusCode != req.code {
			t.Fatalf("%s %s: %d, want %d", req.method, req.path, resp.StatusCode, req.code)
		}
	}

	s := scrapeMetrics(t, base)
	for labels, want := range map[string]float64{
		"code=200,route=GET /healthz":              2,
		"code=403,route=POST /webhooks/twilio/sms": 1,
		"code=404,route=/":                         1,
	} {
		if got := s.value("rekindle_http_requests_total", labels); got != want {
			t.Errorf("rekindle_http_requests_total{%s} = %v, want %v; series: %v", labels, got, want, keys(s["rekindle_http_requests_total"]))
		}
	}
	checkin := 0
	for labels := range s["rekindle_http_requests_total"] {
		if strings.Contains(labels, token) {
			t.Errorf("a raw path became a label: %s", labels)
		}
		if strings.Contains(labels, "route=GET /checkin/{token}") {
			checkin++
		}
	}
	if checkin != 1 {
		t.Errorf("the check-in page request is not counted by its pattern: %v", keys(s["rekindle_http_requests_total"]))
	}

	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	const help = "# HELP rekindle_due_backlog Steps due and not yet sent: active enrollments whose next step is due, plus queued deliveries whose send time has come."
	if !strings.Contains(string(body), help+"\n") {
		t.Errorf("/metrics does not explain rekindle_due_backlog as\n%s\ngot:\n%s", help, grepLines(string(body), "rekindle_due_backlog"))
	}
}

func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
