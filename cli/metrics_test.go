package cli

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/rekindle/rekindle/internal/fakesmtp"
	"github.com/rekindle/rekindle/internal/faketwilio"
	"github.com/rekindle/rekindle/internal/testdb"
)

// scrape is one /metrics read, by metric name and then by label set
// ("k=v,k=v", sorted).
type scrape map[string]map[string]*dto.Metric

func scrapeMetrics(t *testing.T, base string) scrape {
	t.Helper()
	r, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	if r.StatusCode != 200 {
		t.Fatalf("/metrics: %s", r.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := scrape{}
	for name, f := range fams {
		out[name] = map[string]*dto.Metric{}
		for _, m := range f.Metric {
			var ls []string
			for _, l := range m.Label {
				ls = append(ls, l.GetName()+"="+l.GetValue())
			}
			sort.Strings(ls)
			out[name][strings.Join(ls, ",")] = m
		}
	}
	return out
}

// value is a counter's or gauge's value; -1 when the series is absent.
func (s scrape) value(name, labels string) float64 {
	m, ok := s[name][labels]
	switch {
	case !ok:
		return -1
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return -1
}

// TestMetricsAfterDemoSizedRun runs three people through three weeks of the
// shipped program on the real planner and dispatchers (SMTP and Twilio
// fakes, one permanent and two temporary provider errors), answers check-ins
// by signed SMS webhooks, and checks /metrics, as serve mounts it, against
// the database and against what the test made happen.
func TestMetricsAfterDemoSizedRun(t *testing.T) {
	smtpSrv, err := fakesmtp.Start(fakesmtp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer smtpSrv.Close()
	tw := faketwilio.New()
	defer tw.Close()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	const token = "metricsTestTwilioToken0123"
	env := map[string]string{"DATABASE_URL": testdb.New(t), "REKINDLE_BASE_URL": base, "REKINDLE_LOG_LEVEL": "error",
		"REKINDLE_SECRET_KEY": "metrics-test-secret-0123456789abcdef",
		"REKINDLE_SMTP_HOST":  smtpSrv.Host(), "REKINDLE_SMTP_PORT": strconv.Itoa(smtpSrv.Port()), "REKINDLE_SMTP_TLS": "none",
		"TWILIO_ACCOUNT_SID": faketwilio.NewAccountSID(), "TWILIO_AUTH_TOKEN": token, "REKINDLE_TWILIO_FROM": "+12025550100",
		"REKINDLE_TWILIO_API_URL": tw.URL(), "REKINDLE_EMAIL_RATE": "1000", "REKINDLE_SMS_RATE": "1000"}
	// Monday 2026-03-02 05:00 UTC, midnight in New York.
	h := newEngineHarness(t, env, time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC))
	db := h.a.store.DB

	// The metrics and routes exactly as serve mounts them.
	mux, _, err := h.a.routes()
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = mux
	ts.Start()
	defer ts.Close()

	const ann, ben, cat = "+12025550171", "+12025550172", "+12025550173"
	annSub, _ := h.enroll("Ann", "ann.metrics@example.org", ann, "America/New_York")
	benSub, _ := h.enroll("Ben", "ben.metrics@example.org", ben, "America/New_York")
	h.enroll("Cat", "", cat, "America/New_York")
	tw.InjectTo(cat, 1, faketwilio.Fault{Status: 400, Code: 21211, Message: "Invalid 'To' Phone Number"}) // permanent: fails, suppresses
	tw.InjectTo(ann, 1, faketwilio.Fault{Status: 500, Code: 20500, Message: "Internal Server Error"})     // retried
	smtpSrv.FailNext(fakesmtp.StageRcpt, 1, 451)                                                          // retried

	sms := 0
	post := func(path string, form url.Values, sig string) int {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", sig)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		r.Body.Close()
		return r.StatusCode
	}
	reply := func(from, body string) {
		t.Helper()
		sms++
		form := url.Values{"MessageSid": {fmt.Sprintf("SM%032d", sms)}, "AccountSid": {env["TWILIO_ACCOUNT_SID"]},
			"From": {from}, "To": {"+12025550100"}, "Body": {body}}
		if code := post("/webhooks/twilio/sms", form, faketwilio.Sign(token, base+"/webhooks/twilio/sms", form)); code != 200 {
			t.Fatalf("sms webhook %q from %s: %d", body, from, code)
		}
	}
	replies := map[int64]map[string]string{
		annSub: {"mood": "4", "space": "yes", "readiness": "ready"},
		benSub: {"mood": "2", "space": "no", "readiness": "not yet"},
	}
	phones := map[int64]string{annSub: ann, benSub: ben}
	asked := map[int64]bool{}
	end := h.clk.Now().Add(21 * 24 * time.Hour)
	for h.clk.Now().Before(end) {
		h.clk.Advance(time.Hour)
		h.tick()
		for _, sub := range []int64{annSub, benSub} {
			var c struct {
				ID     int64  `db:"id"`
				Prompt string `db:"prompt"`
			}
			err := db.Get(&c, `SELECT c.id, c.prompt FROM checkins c JOIN enrollments e ON e.id = c.enrollment_id
				JOIN deliveries d ON d.enrollment_id = e.id AND d.step_key = c.occurrence AND d.status = 'sent'
				WHERE e.subscriber_id = $1 AND c.answer IS NULL ORDER BY c.opened_at DESC LIMIT 1`, sub)
			if err != nil || asked[c.ID] {
				continue
			}
			asked[c.ID] = true
			reply(phones[sub], replies[sub][c.Prompt])
		}
	}
	// One unsigned webhook, and Twilio's word that one of Ann's texts arrived.
	forged := url.Values{"MessageSid": {"SMforged"}, "From": {ann}, "Body": {"STOP"}}
	if code := post("/webhooks/twilio/sms", forged, "bm90IGEgc2lnbmF0dXJl"); code != 403 {
		t.Fatalf("forged webhook: %d, want 403", code)
	}
	var annSMS string
	db.Get(&annSMS, `SELECT provider_id FROM deliveries WHERE to_addr = $1 AND status = 'sent' ORDER BY id LIMIT 1`, ann)
	status := url.Values{"MessageSid": {annSMS}, "MessageStatus": {"delivered"}, "AccountSid": {env["TWILIO_ACCOUNT_SID"]}, "To": {ann}}
	if code := post("/webhooks/twilio/status", status, faketwilio.Sign(token, base+"/webhooks/twilio/status", status)); code != 200 {
		t.Fatalf("status webhook: %d", code)
	}
	// Dee joins after 08:00 her time, with everything else sent: her
	// welcome is the one thing due, and not yet planned.
	h.clk.Advance(14 * time.Hour) // Monday 2026-03-23 19:00 UTC, 15:00 in New York
	h.tick()
	h.enroll("Dee", "dee.metrics@example.org", "", "America/New_York")
	var deeDue time.Time
	db.Get(&deeDue, `SELECT next_due_at FROM enrollments WHERE program = 'rekindle' ORDER BY id DESC LIMIT 1`)

	s := scrapeMetrics(t, base)

	// Deliveries in flight by channel: the gauges are the table's queued
	// and sending rows (no gauge for the others, which a scrape would have
	// to count over every message ever sent), and the counters add up to
	// what the providers were asked and answered.
	dbCounts := counts(t, db, `SELECT 'channel=' || channel || ',status=' || status AS k, count(*) AS n FROM deliveries GROUP BY 1`)
	if len(dbCounts) < 4 {
		t.Fatalf("setup: too few delivery groups: %v", dbCounts)
	}
	inFlight := 0
	for k, n := range dbCounts {
		if !strings.HasSuffix(k, "status=queued") && !strings.HasSuffix(k, "status=sending") {
			if s.value("rekindle_deliveries", k) != -1 {
				t.Errorf("rekindle_deliveries{%s} is exported; only queued and sending are", k)
			}
			continue
		}
		inFlight++
		if got := s.value("rekindle_deliveries", k); got != float64(n) {
			t.Errorf("rekindle_deliveries{%s} = %v, the table has %d", k, got, n)
		}
	}
	if inFlight == 0 {
		t.Fatalf("setup: nothing queued or sending: %v", dbCounts)
	}
	emails, texts := smtpSrv.MessageCount(), len(tw.Messages())
	for k, want := range map[string]float64{
		"channel=email,status=sent":      float64(emails),
		"channel=sms,status=sent":        float64(texts),
		"channel=email,status=retried":   1,
		"channel=sms,status=retried":     1,
		"channel=sms,status=failed":      1,
		"channel=email,status=failed":    0,
		"channel=sms,status=cancelled":   float64(dbCounts["channel=sms,status=cancelled"]),
		"channel=sms,status=delivered":   1,
		"channel=email,status=cancelled": 0,
	} {
		if got := s.value("rekindle_deliveries_total", k); got != want {
			t.Errorf("rekindle_deliveries_total{%s} = %v, want %v", k, got, want)
		}
	}
	if dbCounts["channel=sms,status=cancelled"] == 0 || emails < 20 || texts < 10 {
		t.Errorf("setup: %d emails, %d texts, %d texts cancelled after the suppression", emails, texts, dbCounts["channel=sms,status=cancelled"])
	}
	// Provider errors by code: exactly the three injected.
	for k, want := range map[string]float64{"channel=sms,code=21211": 1, "channel=sms,code=20500": 1, "channel=email,code=451": 1} {
		if got := s.value("rekindle_provider_errors_total", k); got != want {
			t.Errorf("rekindle_provider_errors_total{%s} = %v, want %v", k, got, want)
		}
	}
	if n := len(s["rekindle_provider_errors_total"]); n != 3 {
		t.Errorf("%d provider error series, want the 3 injected: %v", n, s["rekindle_provider_errors_total"])
	}
	// Backlog: Dee's welcome, due since 08:00.
	if got := s.value("rekindle_due_backlog", ""); got != 1 {
		t.Errorf("rekindle_due_backlog = %v, want 1", got)
	}
	if got, want := s.value("rekindle_oldest_due_age_seconds", ""), h.clk.Now().Sub(deeDue).Seconds(); got != want || want != 7*3600 {
		t.Errorf("rekindle_oldest_due_age_seconds = %v, want %v (7h)", got, want)
	}
	// Batch durations were observed.
	for name, labels := range map[string]string{"rekindle_planner_batch_duration_seconds": "",
		"rekindle_dispatcher_batch_duration_seconds": "channel=email"} {
		hist := s[name][labels].GetHistogram()
		if hist.GetSampleCount() == 0 || hist.GetSampleSum() <= 0 {
			t.Errorf("%s{%s}: %d samples", name, labels, hist.GetSampleCount())
		}
	}
	if s["rekindle_dispatcher_batch_duration_seconds"]["channel=sms"].GetHistogram().GetSampleCount() == 0 {
		t.Error("no sms dispatcher batch observed")
	}
	// Enrollments by program, phase and status: the table.
	enr := counts(t, db, `SELECT 'phase=' || phase || ',program=' || program || ',status=' || status AS k, count(*) AS n FROM enrollments GROUP BY 1`)
	if len(s["rekindle_enrollments"]) != len(enr) {
		t.Errorf("enrollment series %v, table %v", s["rekindle_enrollments"], enr)
	}
	for k, n := range enr {
		if got := s.value("rekindle_enrollments", k); got != float64(n) {
			t.Errorf("rekindle_enrollments{%s} = %v, the table has %d", k, got, n)
		}
	}
	// Check-in answers by step and value: every answer given, one each.
	ans := counts(t, db, `SELECT 'program=rekindle,step=' || step_key || ',value=' || answer AS k, count(*) AS n
		FROM checkins WHERE answer IS NOT NULL GROUP BY 1`)
	if ans["program=rekindle,step=mood,value=4"] < 3 || ans["program=rekindle,step=mood,value=2"] < 3 ||
		ans["program=rekindle,step=space,value=no"] < 2 || ans["program=rekindle,step=readiness,value=ready"] != 1 ||
		ans["program=rekindle,step=readiness,value=not-ready"] != 1 {
		t.Fatalf("setup: answers %v", ans)
	}
	if len(s["rekindle_checkin_answers_total"]) != len(ans) {
		t.Errorf("answer series %v, table %v", s["rekindle_checkin_answers_total"], ans)
	}
	for k, n := range ans {
		if got := s.value("rekindle_checkin_answers_total", k); got != float64(n) {
			t.Errorf("rekindle_checkin_answers_total{%s} = %v, the table has %d", k, got, n)
		}
	}
	// Webhook requests by result.
	var smsHooks float64
	for k, mt := range s["rekindle_webhook_requests_total"] {
		if strings.Contains(k, "hook=twilio_sms") && !strings.Contains(k, "result=forbidden") {
			smsHooks += mt.GetCounter().GetValue()
		}
	}
	if smsHooks != float64(sms) {
		t.Errorf("twilio_sms webhook requests counted %v, want the %d signed ones: %v", smsHooks, sms, s["rekindle_webhook_requests_total"])
	}
	for k, want := range map[string]float64{"hook=twilio_sms,result=forbidden": 1, "hook=twilio_status,result=ok": 1} {
		if got := s.value("rekindle_webhook_requests_total", k); got != want {
			t.Errorf("rekindle_webhook_requests_total{%s} = %v, want %v", k, got, want)
		}
	}
}
