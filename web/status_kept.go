package web

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/rekindle/rekindle/metrics"
	"github.com/rekindle/rekindle/scheduler"
)

const (
	// KeptStatusMaxAge is how long a kept status callback waits for its
	// message's SID. A dispatcher records a batch within its lease (minutes),
	// so a SID still unknown after this is not ours, or its message's
	// outcome was never recorded.
	KeptStatusMaxAge = 24 * time.Hour

	// keptStatusHook labels the later fate of kept callbacks in
	// rekindle_webhook_requests_total (applied, unchanged, expired); the
	// request itself was counted as twilio_status "kept".
	keptStatusHook = "twilio_status_kept"

	// keptStatusBatch bounds one run; the rest wait for the next. Early
	// reports come at most as fast as SMS go out.
	keptStatusBatch = 500
)

// KeptStatusJob applies the Twilio status callbacks the web hook kept
// because they arrived before the dispatcher had recorded their message's
// SID. Run it periodically on one instance at a time (two at once still
// apply each report once: the store guards every change).
type KeptStatusJob struct {
	Engine  *scheduler.Engine // required
	Log     *slog.Logger      // required
	Metrics *metrics.Metrics  // may be nil
}

// Run applies every kept callback whose SID a delivery now carries, through
// the same store call as the web hook (same guards, same suppression),
// deleting each; then it drops, with a log line each, the callbacks older
// than KeptStatusMaxAge whose SID is still unknown.
func (j KeptStatusJob) Run(ctx context.Context) error {
	st := j.Engine.Store
	now := j.Engine.Clock.Now()
	kept, err := st.KnownKeptCallbacks(ctx, keptStatusBatch)
	if err != nil {
		return fmt.Errorf("kept status callbacks: %w", err)
	}
	for i := range kept {
		k := &kept[i]
		rep := smsStatusReport(k.MessageSID, k.Status, k.Code)
		rep.FromKept = k
		out, err := st.ApplyDeliveryReport(ctx, now, rep)
		if err != nil {
			return fmt.Errorf("kept status callbacks: %w", err)
		}
		switch {
		case !out.Found:
			continue // its delivery went away meanwhile; it expires in time
		case !out.Changed:
			j.Log.Debug("web: kept twilio status callback changed nothing", "sid", k.MessageSID, "status", k.Status,
				"delivery", out.DeliveryID, "current", out.Status)
			j.Metrics.Webhook(keptStatusHook, "unchanged")
			continue
		}
		j.Log.Info("web: applied a twilio status callback that came before its message was recorded", "sid", k.MessageSID,
			"status", k.Status, "delivery", out.DeliveryID, "received", k.ReceivedAt)
		reportApplied(ctx, j.Engine, j.Log, rep, out)
		j.Metrics.Webhook(keptStatusHook, "applied")
	}
	dropped, err := st.ExpireKeptCallbacks(ctx, now.Add(-KeptStatusMaxAge))
	if err != nil {
		return fmt.Errorf("kept status callbacks: %w", err)
	}
	for _, k := range dropped {
		j.Log.Info("web: dropped a twilio status callback whose message was never recorded", "sid", k.MessageSID,
			"status", k.Status, "code", k.Code, "received", k.ReceivedAt)
		j.Metrics.Webhook(keptStatusHook, "expired")
	}
	return nil
}
