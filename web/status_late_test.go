package web

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// earlyReport is one status callback Twilio made before the dispatcher had
// recorded its SMS, as reportEarly saw it.
type earlyReport struct {
	status, code string
	answer       int    // what the web hook answered
	delivery     string // the SMS's delivery row at that moment: status and whether it carried the SID
	err          error
}

// reportEarly makes Twilio send the given (status, code) reports for every
// SMS it accepts to a number in reports, the moment it accepts it: before
// the dispatcher has recorded anything, as a fast carrier can.
func (f *statusFixture) reportEarly(reports map[string][][2]string) func() []earlyReport {
	var mu sync.Mutex
	var seen []earlyReport
	f.accepted = func(to, sid string) {
		for _, r := range reports[to] {
			e := earlyReport{status: r[0], code: r[1]}
			e.answer, e.err = f.postForm(callbackForm(sentSMS{sid: sid, phone: to}, r[0], r[1]), "")
			if e.err == nil {
				var row struct {
					Status string `db:"status"`
					HasSID bool   `db:"has_sid"`
				}
				e.err = f.e.Store.DB.Get(&row, `SELECT status, coalesce(provider_id = $2, false) AS has_sid FROM deliveries
					WHERE channel = 'sms' AND to_addr = $1 ORDER BY id LIMIT 1`, to, sid)
				e.delivery = fmt.Sprintf("%s, SID stored: %t", row.Status, row.HasSID)
			}
			mu.Lock()
			seen = append(seen, e)
			mu.Unlock()
		}
	}
	return func() []earlyReport {
		mu.Lock()
		defer mu.Unlock()
		return append([]earlyReport(nil), seen...)
	}
}

// wantEarly checks that n reports came before the SID was stored, each
// answered 200 while the delivery was still being sent and untouched.
func wantEarly(t *testing.T, got []earlyReport, n int) {
	t.Helper()
	if len(got) != n {
		t.Fatalf("%d early reports, want %d", len(got), n)
	}
	for _, e := range got {
		if e.err != nil {
			t.Fatalf("early %s %s: %v", e.status, e.code, e.err)
		}
		if e.answer != http.StatusOK {
			t.Errorf("early %s %s: answered %d, want 200", e.status, e.code, e.answer)
		}
		if e.delivery != "sending, SID stored: false" {
			t.Errorf("early %s %s: the delivery was %q; the report must come before the SID is stored and leave the row alone",
				e.status, e.code, e.delivery)
		}
	}
}

// runKeptJob runs the job serve runs every 30 seconds.
func (f *statusFixture) runKeptJob(log *slog.Logger) {
	f.t.Helper()
	if err := (KeptStatusJob{Engine: f.e, Log: log, Metrics: f.m}).Run(context.Background()); err != nil {
		f.t.Fatal(err)
	}
}

func keptResult(result string) string {
	return `rekindle_webhook_requests_total{hook="twilio_status_kept",result="` + result + `"}`
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func TestStatusCallbackBeforeSIDRecordedDelivered(t *testing.T) {
	f := newStatusFixture(t)
	f.enroll("quick@example.org", "+447700900311")
	early := f.reportEarly(map[string][][2]string{"+447700900311": {{"delivered", ""}}})
	s := f.sendWelcomes()["+447700900311"]

	wantEarly(t, early(), 1)
	f.wantDelivery(s.id, "sent", "") // what the dispatcher recorded; the report waits
	if got := f.kept(); got != s.sid+":delivered:-" {
		t.Fatalf("kept callbacks %q, want the delivered report", got)
	}
	f.wantMetric(hookResult("kept"), "1")

	f.runKeptJob(quietLog())
	f.wantDelivery(s.id, "delivered", "")
	if r := f.delivery(s.id); r.Error != nil {
		t.Errorf("a delivered SMS carries error %q", *r.Error)
	}
	if got := f.kept(); got != "" {
		t.Errorf("kept callbacks %q after they were applied", got)
	}
	f.wantMetric(keptResult("applied"), "1")
	f.wantMetric(`rekindle_deliveries_total{channel="sms",status="delivered"}`, "1")

	// Run again, and the same report retried by Twilio: nothing moves.
	states := f.deliveryStates()
	f.runKeptJob(quietLog())
	f.callback(s, "delivered", "")
	if got := f.deliveryStates(); got != states {
		t.Errorf("deliveries changed:\n%s\n->\n%s", states, got)
	}
	f.wantMetric(keptResult("applied"), "1")
	f.wantMetric(hookResult("unchanged"), "1")
	f.wantMetric(`rekindle_deliveries_total{channel="sms",status="delivered"}`, "1")
}

// A STOP (21610) reported before the SID is stored suppresses the number
// and cancels its queued SMS once the job runs, exactly as on time; the
// later, contradicting reports do not replace it.
func TestStatusCallbackBeforeSIDRecordedFailed21610(t *testing.T) {
	f := newStatusFixture(t)
	f.enroll("quickstop@example.org", "+447700900312")
	f.enroll("other@example.org", "+447700900313")
	early := f.reportEarly(map[string][][2]string{"+447700900312": {{"failed", "21610"}, {"sent", ""}, {"delivered", ""}}})
	s := f.sendWelcomes()["+447700900312"]
	wantEarly(t, early(), 3)
	_, emails := f.planLater("+447700900312", "quickstop@example.org")
	otherSMS, otherEmails := f.planLater("+447700900313", "other@example.org")

	f.wantDelivery(s.id, "sent", "")
	if got := f.kept(); got != s.sid+":failed:21610" {
		t.Fatalf("kept callbacks %q, want the first final report (failed 21610) only", got)
	}
	if n := f.count(`SELECT count(*) FROM suppressions`); n != 0 {
		t.Fatalf("%d suppressions before the report was applied", n)
	}
	f.wantMetric(hookResult("kept"), "2")
	f.wantMetric(hookResult("ignored"), "1")

	// Two instances running the job at once (as without the cluster lock)
	// still apply it once.
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = (KeptStatusJob{Engine: f.e, Log: quietLog(), Metrics: f.m}).Run(context.Background())
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}

	f.wantDelivery(s.id, "failed", "21610")
	f.wantSuppressedAlone(t, s.phone, "21610", untouched{email: "quickstop@example.org", emails: emails, otherPhone: "+447700900313", otherSMS: otherSMS, otherEmail: "other@example.org", otherEmails: otherEmails})
	if got := f.kept(); got != "" {
		t.Errorf("kept callbacks %q after they were applied", got)
	}
	f.wantMetric(keptResult("applied"), "1")
	f.wantMetric(`rekindle_deliveries_total{channel="sms",status="failed"}`, "1")
	f.wantMetric(`rekindle_provider_errors_total{channel="sms",code="21610"}`, "1")
}

// A kept report whose SID never shows up is dropped after a day, with a log
// line and a count, and changes nothing else.
func TestStatusCallbackKeptUnknownSIDExpires(t *testing.T) {
	f := newStatusFixture(t)
	f.enroll("who@example.org", "+447700900314")
	s := f.sendWelcomes()["+447700900314"]
	before, states := f.state(), f.deliveryStates()
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))

	stale := sentSMS{sid: "SM" + strings.Repeat("a", 32), phone: s.phone}
	fresh := sentSMS{sid: "SM" + strings.Repeat("b", 32), phone: s.phone}
	f.callback(stale, "undelivered", "30003")
	f.clk.Advance(12 * time.Hour)
	f.callback(fresh, "failed", "21610")

	f.clk.Advance(12*time.Hour - time.Minute) // stale: 23h59m
	f.runKeptJob(log)
	if got, want := f.kept(), stale.sid+":undelivered:30003,"+fresh.sid+":failed:21610"; got != want {
		t.Fatalf("kept callbacks %q, want %q: neither is a day old", got, want)
	}

	f.clk.Advance(2 * time.Minute) // stale: 24h01m
	f.runKeptJob(log)
	if got := f.kept(); got != fresh.sid+":failed:21610" {
		t.Fatalf("kept callbacks %q, want only the fresh one", got)
	}
	line := ""
	for _, l := range strings.Split(logs.String(), "\n") {
		if strings.Contains(l, "sid="+stale.sid) {
			line = l
		}
	}
	if !strings.Contains(line, "level=INFO") || !strings.Contains(line, "never recorded") || !strings.Contains(line, "status=undelivered") {
		t.Errorf("no info line for the dropped callback; log:\n%s", logs.String())
	}
	f.wantMetric(keptResult("expired"), "1")

	f.clk.Advance(12 * time.Hour)
	f.runKeptJob(log)
	if got := f.kept(); got != "" {
		t.Fatalf("kept callbacks %q, want none", got)
	}
	f.wantMetric(keptResult("expired"), "2")
	f.wantMetric(keptResult("applied"), "") // never counted
	sameState(t, "dropped callbacks", before, f.state())
	if got := f.deliveryStates(); got != states {
		t.Errorf("deliveries changed:\n%s\n->\n%s", states, got)
	}
	f.wantDelivery(s.id, "sent", "")
}
