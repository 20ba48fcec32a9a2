package web

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/rekindle/rekindle/logging"
)

// statusHook labels the status callback in rekindle_webhook_requests_total.
const statusHook = "twilio_status"

// twilioStatus handles a Twilio message status callback: Twilio's later word
// on an SMS it accepted (delivered, undelivered, failed). Every answer but a
// forgery or a malformed report is a 2xx, so Twilio never retries a report
// we cannot use.
func (s *server) twilioStatus(w http.ResponseWriter, r *http.Request) {
	params, result, ok := s.twilioParams(w, r)
	if ok {
		result = s.deliveryReport(r.Context(), w, params)
	}
	s.Metrics.Webhook(statusHook, result)
}

// deliveryReport applies one signed status callback and returns the result
// label for the metrics.
func (s *server) deliveryReport(ctx context.Context, w http.ResponseWriter, params map[string]string) string {
	sid := strings.TrimSpace(params["MessageSid"])
	status := strings.ToLower(strings.TrimSpace(params["MessageStatus"]))
	if sid == "" || status == "" {
		http.Error(w, "MessageSid and MessageStatus are required", http.StatusBadRequest)
		return "bad_request"
	}
	code := strings.TrimSpace(params["ErrorCode"])
	if code != "" {
		if n, err := strconv.Atoi(code); err != nil || n <= 0 {
			http.Error(w, "ErrorCode must be a positive number", http.StatusBadRequest)
			return "bad_request"
		}
	}
	switch status {
	case "delivered", "undelivered", "failed":
	case "queued", "sending", "sent", "accepted", "scheduled":
		// Steps on the way: our row already says 'sent' once Twilio has it.
		w.WriteHeader(http.StatusOK)
		return "ignored"
	default:
		s.Log.Info("web: twilio status callback with a status we do not track", "sid", sid, "status", status)
		w.WriteHeader(http.StatusOK)
		return "ignored"
	}

	rep := smsStatusReport(sid, status, code)
	// The dispatcher records a batch's SIDs only when the whole batch is
	// done, and Twilio can report sooner: a report for a SID not recorded
	// yet is kept and applied by KeptStatusJob.
	rep.Keep = true
	out, err := s.Engine.Store.ApplyDeliveryReport(ctx, s.now(), rep)
	if err != nil {
		s.Log.Error("web: twilio status callback", "sid", sid, "status", status, "err", err)
		http.Error(w, "try again", http.StatusInternalServerError)
		return "error"
	}
	w.WriteHeader(http.StatusOK)
	switch {
	case out.Kept:
		s.Log.Info("web: twilio status callback for a message not recorded yet; kept for later", "sid", sid, "status", status)
		return "kept"
	case !out.Changed:
		s.Log.Debug("web: twilio status callback changed nothing", "sid", sid, "status", status, "delivery", out.DeliveryID, "current", out.Status)
		return "unchanged"
	}
	reportApplied(ctx, s.Engine, s.Log, rep, out, "to", logging.MaskPhone(params["To"]))
	return "ok"
}
