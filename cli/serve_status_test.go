package cli

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/internal/faketwilio"
	"github.com/rekindle/rekindle/internal/testdb"
)

// servedJob is one periodic job as serve registers it.
type servedJob struct {
	spec, name string
	cluster    bool
	fn         func(ctx context.Context) error
}

type jobList []servedJob

func (l *jobList) AddJob(spec, name string, cluster bool, fn func(ctx context.Context) error) {
	*l = append(*l, servedJob{spec, name, cluster, fn})
}

// earlyStatusChannel is the configured SMS channel with a hook between
// Twilio's accept and the dispatcher's record of it, where a fast carrier's
// status callback can land.
type earlyStatusChannel struct {
	channel.Channel
	accepted func(to, sid string)
}

func (c earlyStatusChannel) NewSender() (channel.Sender, error) {
	s, err := c.Channel.NewSender()
	if err != nil {
		return nil, err
	}
	return earlyStatusSender{s, c.accepted}, nil
}

type earlyStatusSender struct {
	channel.Sender
	accepted func(to, sid string)
}

func (s earlyStatusSender) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	res, err := s.Sender.Send(ctx, m)
	if err == nil {
		s.accepted(m.To, res.ProviderID)
	}
	return res, err
}

// metricValue reads one series from /metrics ("" when absent).
func metricValue(t *testing.T, base, series string) string {
	t.Helper()
	r, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	sc := bufio.NewScanner(r.Body)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			return v
		}
	}
	return ""
}

// Serve's periodic jobs include one, run on one instance at a time at least
// every minute, that applies a status callback Twilio made before the
// dispatcher recorded the SMS's SID, and drops one whose SID never shows up.
func TestServeJobAppliesEarlyStatusCallbacks(t *testing.T) {
	ctx := context.Background()
	tw := faketwilio.New()
	defer tw.Close()
	ts := httptest.NewUnstartedServer(nil)
	base := "http://" + ts.Listener.Addr().String()
	const token = "serveStatusTwilioToken0123"
	env := map[string]string{"DATABASE_URL": testdb.New(t), "REKINDLE_BASE_URL": base, "REKINDLE_LOG_LEVEL": "error",
		"REKINDLE_SECRET_KEY": "serve-status-secret-0123456789abcdef", "REKINDLE_OUTBOX_DIR": t.TempDir(),
		"TWILIO_ACCOUNT_SID": faketwilio.NewAccountSID(), "TWILIO_AUTH_TOKEN": token, "REKINDLE_TWILIO_FROM": "+12025550100",
		"REKINDLE_TWILIO_API_URL": tw.URL(), "REKINDLE_SMS_RATE": "1000"}
	// Monday 2026-03-02 05:00 UTC, midnight in New York.
	h := newEngineHarness(t, env, time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC))
	db := h.a.store.DB

	mux, m, err := h.a.routes()
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = mux
	ts.Start()
	defer ts.Close()

	var jobs jobList
	h.a.addJobs(&jobs, m)
	var job *servedJob
	for i := range jobs {
		if jobs[i].name == "apply early sms status reports" {
			job = &jobs[i]
		}
	}
	if job == nil {
		t.Fatalf("serve registers no job for early status callbacks: %+v", jobs)
	}
	if !job.cluster {
		t.Error("the early status callback job must run on one instance at a time (a cluster job)")
	}
	sched, err := cron.ParseStandard(job.spec)
	if err != nil {
		t.Fatalf("job spec %q: %v", job.spec, err)
	}
	if t0 := h.clk.Now(); sched.Next(t0).Sub(t0) > time.Minute {
		t.Errorf("job spec %q runs less often than every minute", job.spec)
	}

	callback := func(sid, to, status, code string) int {
		form := url.Values{"MessageSid": {sid}, "MessageStatus": {status}, "AccountSid": {env["TWILIO_ACCOUNT_SID"]},
			"From": {"+12025550100"}, "To": {to}}
		if code != "" {
			form.Set("ErrorCode", code)
		}
		req, _ := http.NewRequest("POST", base+"/webhooks/twilio/status", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", faketwilio.Sign(token, base+"/webhooks/twilio/status", form))
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0
		}
		io.Copy(io.Discard, r.Body)
		r.Body.Close()
		return r.StatusCode
	}

	// The SMS dispatcher as serve makes it, over the configured Twilio
	// channel; Twilio reports 'delivered' before the batch is recorded.
	var sms channel.Channel
	for _, ch := range h.a.channels {
		if ch.Kind() == channel.SMS {
			sms = ch
		}
	}
	var earlyAnswers []int
	d := h.a.engine.NewDispatcher(earlyStatusChannel{sms, func(to, sid string) {
		earlyAnswers = append(earlyAnswers, callback(sid, to, "delivered", ""))
	}}, 1, "serve-status-test")
	defer d.Close()

	const phone = "+12025550181"
	h.enroll("Eve", "", phone, "America/New_York")
	h.clk.Advance(8 * time.Hour) // 08:00 in New York: the welcome SMS
	if _, _, err := h.a.engine.PlanOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := d.DispatchOnce(ctx); err != nil || n != 1 {
		t.Fatalf("dispatch: %d SMS, %v; want the welcome", n, err)
	}
	if len(earlyAnswers) != 1 || earlyAnswers[0] != http.StatusOK {
		t.Fatalf("the early callback was answered %v, want one 200", earlyAnswers)
	}
	var status string
	if err := db.Get(&status, `SELECT status FROM deliveries WHERE to_addr = $1`, phone); err != nil {
		t.Fatal(err)
	}
	if status != "sent" {
		t.Fatalf("after the batch the SMS is %q, want sent (the early report waits for the job)", status)
	}

	// A report for a SID that never shows up.
	if code := callback("SM"+strings.Repeat("9", 32), phone, "failed", "21610"); code != http.StatusOK {
		t.Fatalf("unknown SID answered %d, want 200", code)
	}

	if err := job.fn(ctx); err != nil {
		t.Fatal(err)
	}
	if err := db.Get(&status, `SELECT status FROM deliveries WHERE to_addr = $1`, phone); err != nil {
		t.Fatal(err)
	}
	if status != "delivered" {
		t.Errorf("after the job the SMS is %q, want delivered", status)
	}
	series := `rekindle_webhook_requests_total{hook="twilio_status_kept",result="%s"}`
	if v := metricValue(t, base, strings.Replace(series, "%s", "applied", 1)); v != "1" {
		t.Errorf("applied early callbacks = %q, want 1", v)
	}

	h.clk.Advance(25 * time.Hour)
	if err := job.fn(ctx); err != nil {
		t.Fatal(err)
	}
	var kept, suppressed int
	dbGet(t, db, &kept, `SELECT count(*) FROM status_callbacks`)
	dbGet(t, db, &suppressed, `SELECT count(*) FROM suppressions`)
	if kept != 0 || suppressed != 0 {
		t.Errorf("after a day: %d callbacks still kept, %d suppressions; want the unknown one dropped, nothing suppressed", kept, suppressed)
	}
	if v := metricValue(t, base, strings.Replace(series, "%s", "expired", 1)); v != "1" {
		t.Errorf("expired early callbacks = %q, want 1", v)
	}
}
