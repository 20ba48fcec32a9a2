package web

import (
	"context"
	"log/slog"
	"strconv"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/store"
)

// smsStatusReport is the store's report for a final Twilio status
// (delivered, undelivered or failed) with its error code ("" or a positive
// number). The web hook and KeptStatusJob both build their reports here, so
// a report kept for later is judged exactly as one applied at once.
func smsStatusReport(sid, status, code string) store.DeliveryReport {
	rep := store.DeliveryReport{Channel: string(channel.SMS), ProviderID: sid, Status: status}
	if status == "delivered" {
		return rep
	}
	rep.Code = code
	rep.Err = "twilio: " + status
	if code != "" {
		rep.Err += " (error " + code + ")"
	}
	// Judged by the code whatever the status: Twilio reports a number that
	// no longer exists (30005) or a landline (30006) as 'undelivered'.
	if n, err := strconv.Atoi(code); err == nil && channel.TwilioCodeSuppresses(n) {
		rep.Suppress = &store.Suppression{Reason: "provider " + code, Source: "twilio-status"}
	}
	return rep
}

// reportApplied counts a report that moved its delivery and warns about the
// number it suppressed; attrs are added to that warning.
func reportApplied(ctx context.Context, e *scheduler.Engine, log *slog.Logger, rep store.DeliveryReport, out store.ReportOutcome, attrs ...any) {
	e.Observer.DeliveryResult(rep.Channel, rep.Status)
	if rep.Code != "" {
		e.Observer.ProviderError(rep.Channel, rep.Code)
	}
	if out.Suppressed {
		log.Warn("web: sms number suppressed after a permanent twilio error",
			append([]any{"delivery", out.DeliveryID, "code", rep.Code}, attrs...)...)
	}
	if out.Suppressed && rep.Code == scheduler.ProviderOptOutCode {
		// The suppression is recorded either way; a failure here leaves
		// only the person's consent state behind, and is logged.
		if err := e.ProviderSaysOptedOut(ctx, out.SubscriberID, rep.Channel, out.Address); err != nil {
			log.Error("web: record the opt-out twilio reported", append([]any{"delivery", out.DeliveryID, "err", err}, attrs...)...)
		}
	}
}
