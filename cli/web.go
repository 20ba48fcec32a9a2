package cli

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/rekindle/rekindle/config"
	"github.com/rekindle/rekindle/metrics"
	"github.com/rekindle/rekindle/web"
)

// confirmLinkTTL is how long a double opt-in link stays valid.
const confirmLinkTTL = 7 * 24 * time.Hour

// mountWeb adds the subscriber-facing pages and webhooks.
func mountWeb(mux *http.ServeMux, a *app, m *metrics.Metrics) error {
	proxies, err := config.ParseProxies(a.cfg.TrustedProxies)
	if err != nil {
		return fmt.Errorf("REKINDLE_TRUSTED_PROXIES: %w", err)
	}
	h, err := web.New(web.Deps{
		Engine: a.engine, Links: a.links, Signer: a.signer, Log: a.log,
		BaseURL: a.cfg.BaseURL, DefaultRegion: a.cfg.DefaultRegion, SupportContact: a.cfg.SupportContact, TrustedProxies: proxies,
		TwilioAuthToken: a.cfg.TwilioAuthToken, Metrics: m,
		Confirm: func(ctx context.Context, enrollmentID int64) error {
			return a.engine.PlanConfirmations(ctx, enrollmentID, a.links.Confirm(enrollmentID, confirmLinkTTL))
		},
	})
	if err != nil {
		return err
	}
	// The inbound SMS hook does not count itself (the status hook does).
	mux.Handle("POST /webhooks/twilio/sms", m.CountWebhook("twilio_sms", h))
	mux.Handle("/", h)
	return nil
}
