package metrics

import "net/http"

// CountWebhook wraps a webhook handler that does not count itself and
// counts each request in rekindle_webhook_requests_total{hook} by the HTTP
// status it answered: "ok" (2xx), "bad_request" (400), "forbidden" (401,
// 403), "busy" (503: the sender is asked to retry), "error" (any other). On
// a nil *Metrics it returns next unchanged.
func (m *Metrics) CountWebhook(hook string, next http.Handler) http.Handler {
	if m == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(sw, r)
		m.Webhook(hook, webhookResult(sw.status))
	})
}

func webhookResult(status int) string {
	switch {
	case status >= 200 && status < 300:
		return "ok"
	case status == http.StatusBadRequest:
		return "bad_request"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "forbidden"
	case status == http.StatusServiceUnavailable:
		return "busy"
	}
	return "error"
}

// statusWriter remembers the status a handler answered (200 when it wrote
// a body without calling WriteHeader).
type statusWriter struct {
	http.ResponseWriter
	status  int
	written bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.written {
		w.status, w.written = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.written = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
