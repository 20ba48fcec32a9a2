package metrics

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCountWebhookByAnsweredStatus(t *testing.T) {
	m := New()
	answers := []int{200, 200, 403, 400, 503, 500, 204}
	i := 0
	h := m.CountWebhook("twilio_sms", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		code := answers[i]
		i++
		if code == 200 {
			w.Write([]byte("<Response/>")) // no WriteHeader: 200
			return
		}
		http.Error(w, "no", code)
	}))
	for range answers {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("POST", "/webhooks/twilio/sms", nil))
	}
	fams := scrape(t, m.Handler())
	for result, want := range map[string]float64{"ok": 3, "forbidden": 1, "bad_request": 1, "busy": 1, "error": 1} {
		if got := value(t, fams, "rekindle_webhook_requests_total", "hook=twilio_sms", "result="+result); got != want {
			t.Errorf("result %s: %v, want %v", result, got, want)
		}
	}
	var nilMetrics *Metrics
	next := http.NotFoundHandler()
	if got := nilMetrics.CountWebhook("x", next); got == nil {
		t.Fatal("a nil *Metrics must pass the handler through")
	}
}
