package cli

import (
	"net/http"

	"github.com/rekindle/rekindle/metrics"
)

// mountWeb adds the subscriber-facing pages and webhooks.
func mountWeb(mux *http.ServeMux, a *app, m *metrics.Metrics) error {
	return nil
}
