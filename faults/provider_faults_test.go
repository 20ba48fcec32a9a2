package faults

import (
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/internal/fakesmtp"
	"github.com/rekindle/rekindle/internal/faketwilio"
	"github.com/rekindle/rekindle/internal/testdb"
)

// providerCase is one misbehaviour aimed at one recipient: the provider
// answers faults times with it, then normally.
type providerCase struct {
	name     string
	channel  string
	faults   int
	inject   func(p *providers, to string)
	to       string
	delivery int64

	mu         sync.Mutex
	lastFailed time.Time // when the provider saw the last faulted attempt
}

func (c *providerCase) attempts(p *providers) int {
	if c.channel == "email" {
		return p.smtp.RcptAttempts(c.to)
	}
	return p.twilio.AttemptsTo(c.to)
}

// testProviders makes SMTP and Twilio fail in every way the issue lists:
// dropped connections, 421, 451, hangs past the timeout, an outage, Twilio
// 500, 503, 429 and hangs. Afterwards every message is delivered exactly
// once (the provider never accepted the failed attempts), and permanent
// errors (550, 21211) are tried once and never again. A last phase shows the
// one duplicate window a provider can open: it accepts the message but the
// reply never arrives in time.
func testProviders(t *testing.T, sc scale, bin string, sum *summary) {
	const (
		timeout = 2 * time.Second
		hang    = timeout + time.Second
		outage  = 2 * time.Second
	)
	smtpRow := row{scenario: "providers: SMTP drop, 421, 451, hang past timeout, 2 s outage (421)", recovery: "-"}
	smsRow := row{scenario: "providers: Twilio 500, 503, 429, hang past timeout, 2 s outage (503)", recovery: "-"}
	permRow := row{scenario: "providers: permanent SMTP 550 and Twilio 21211 (tried once, never retried)", recovery: "-"}
	lateRow := row{scenario: "providers: SMTP accepts after the client timed out (the duplicate window)", recovery: "-"}
	defer func() {
		for _, r := range []*row{&smtpRow, &smsRow, &permRow, &lateRow} {
			r.failed = t.Failed()
			sum.add(*r)
		}
	}()

	p := startProviders(t)
	dsn := testdb.New(t)
	db := openDB(t, dsn)
	code := func(c int) func(p *providers, to string) {
		return func(p *providers, to string) { p.smtp.InjectRecipient(to, 5, fakesmtp.Fault{Code: c}) }
	}
	twilio := func(status, code int) func(p *providers, to string) {
		return func(p *providers, to string) { p.twilio.InjectTo(to, 5, faketwilio.Fault{Status: status, Code: code}) }
	}
	cases := []*providerCase{
		{name: "smtp drop at RCPT", channel: "email", faults: 2, inject: func(p *providers, to string) {
			p.smtp.InjectRecipient(to, 2, fakesmtp.Fault{Drop: true})
		}},
		{name: "smtp 421 at RCPT", channel: "email", faults: 2, inject: func(p *providers, to string) {
			p.smtp.InjectRecipient(to, 2, fakesmtp.Fault{Code: 421})
		}},
		{name: "smtp 451 at RCPT", channel: "email", faults: 3, inject: func(p *providers, to string) {
			p.smtp.InjectRecipient(to, 3, fakesmtp.Fault{Code: 451})
		}},
		{name: "smtp hang at RCPT", channel: "email", faults: 1, inject: func(p *providers, to string) {
			p.smtp.InjectRecipient(to, 1, fakesmtp.Fault{Hang: hang})
		}},
		{name: "twilio 500", channel: "sms", faults: 2, inject: func(p *providers, to string) {
			p.twilio.InjectTo(to, 2, faketwilio.Fault{Status: 500, Code: 20500})
		}},
		{name: "twilio 503", channel: "sms", faults: 2, inject: func(p *providers, to string) {
			p.twilio.InjectTo(to, 2, faketwilio.Fault{Status: 503})
		}},
		{name: "twilio 429", channel: "sms", faults: 3, inject: func(p *providers, to string) {
			p.twilio.InjectTo(to, 3, faketwilio.Fault{Status: 429, Code: 20429, Message: "Too Many Requests"})
		}},
		{name: "twilio hang", channel: "sms", faults: 1, inject: func(p *providers, to string) {
			p.twilio.InjectTo(to, 1, faketwilio.Fault{Hang: hang})
		}},
	}
	permanent := []*providerCase{
		{name: "smtp 550", channel: "email", faults: 1, inject: code(550)},
		{name: "twilio 21211", channel: "sms", faults: 1, inject: twilio(400, 21211)},
	}

	// The targeted recipients come due after the outage, so each meets only
	// its own faults (and stays within the attempt limit).
	nEmail, nSMS := sc.provEmail, sc.provSMS
	people := seedPeople(t, db, 1, max(nEmail, nSMS))
	now := time.Now()
	bulkEmail := seedDeliveries(t, db, people[:nEmail], "email", "lesson-1", now)
	bulkSMS := seedDeliveries(t, db, people[:nSMS], "sms", "lesson-1", now)
	targets := seedPeople(t, db, 100000, len(cases)+len(permanent))
	later := now.Add(outage + time.Second)
	for i, c := range append(append([]*providerCase{}, cases...), permanent...) {
		c.to = targets[i].Email
		if c.channel == "sms" {
			c.to = targets[i].Phone
		}
		c.delivery = seedDeliveries(t, db, targets[i:i+1], c.channel, "lesson-1", later)[0]
		c.inject(p, c.to)
	}

	set := p.settings(dsn)
	set["REKINDLE_SMTP_TIMEOUT"] = timeout.String()
	set["REKINDLE_TWILIO_TIMEOUT"] = timeout.String()
	d := newDaemon(t, bin, "serve", set)
	p.smtp.SetOutage(fakesmtp.StageMail, fakesmtp.Fault{Code: 421})
	p.twilio.SetOutage(faketwilio.Fault{Status: 503})
	d.start()
	d.waitReady(15 * time.Second)

	stopWatch := watchLastFailures(p, cases)
	time.Sleep(outage)
	p.smtp.EndOutage()
	p.twilio.EndOutage()
	outageEnd := time.Now()

	want := append(append([]int64{}, bulkEmail...), bulkSMS...)
	for _, c := range cases {
		want = append(want, c.delivery)
	}
	waitDelivered(t, p, db, want, 2*time.Minute)
	stopWatch()
	got := p.received(t)

	// Recovery: from the end of the outage until its backlog went out, and
	// from each recipient's last failed attempt until its message went out.
	outageRecovery := func(ids []int64) time.Duration {
		var worst time.Duration
		for _, id := range ids {
			if at, ok := firstAfter(got[id], outageEnd); ok {
				worst = max(worst, at.Sub(outageEnd))
			}
		}
		return worst
	}
	worstOf := map[string]time.Duration{"email": outageRecovery(bulkEmail), "sms": outageRecovery(bulkSMS)}
	t.Logf("outage backlog accepted within %s (email) and %s (sms) of the providers' recovery", worstOf["email"].Round(time.Millisecond), worstOf["sms"].Round(time.Millisecond))
	for _, c := range cases {
		if n := c.attempts(p); n != c.faults+1 {
			t.Errorf("%s: the provider saw %d attempts, want the %d faulted ones and one that succeeded", c.name, n, c.faults)
		}
		c.mu.Lock()
		last := c.lastFailed
		c.mu.Unlock()
		if at, ok := firstAfter(got[c.delivery], last); ok && !last.IsZero() {
			worstOf[c.channel] = max(worstOf[c.channel], at.Sub(last))
			t.Logf("%s: %d faulted attempts, accepted %s after the last", c.name, c.faults, at.Sub(last).Round(time.Millisecond))
		}
	}

	for _, side := range []struct {
		r    *row
		ch   string
		bulk []int64
	}{{&smtpRow, "email", bulkEmail}, {&smsRow, "sms", bulkSMS}} {
		ids := append([]int64{}, side.bulk...)
		side.r.runs = 1 // the outage
		for _, c := range cases {
			if c.channel == side.ch {
				ids = append(ids, c.delivery)
				side.r.runs++
			}
		}
		tl := countReceipts(only(got, ids), ids)
		side.r.lost, side.r.duplicates = len(tl.lost), tl.duplicates
		side.r.recovery = secs(worstOf[side.ch]) + " (provider healthy → message accepted)"
		if len(tl.lost) > 0 || tl.duplicates > 0 {
			t.Errorf("%s: %d lost (%s), %d duplicates (%v); want each delivered exactly once", side.ch,
				len(tl.lost), idList(tl.lost, 10), tl.duplicates, tl.dupIDs)
		}
	}

	permRow.runs = len(permanent)
	for _, c := range permanent {
		if n := c.attempts(p); n != 1 {
			t.Errorf("%s: the provider saw %d attempts, want exactly 1 (a permanent error is not retried)", c.name, n)
			permRow.duplicates += max(0, n-1)
		}
		if len(got[c.delivery]) != 0 {
			t.Errorf("%s: the provider accepted a message it refused", c.name)
		}
		expectFailedAndSuppressed(t, db, c)
	}

	lateRow.runs, lateRow.duplicates, lateRow.lost = lateAccept(t, p, db, hang)
	d.stop(15 * time.Second)
}

// only keeps the receipts of ids.
func only(got map[int64][]time.Time, ids []int64) map[int64][]time.Time {
	out := map[int64][]time.Time{}
	for _, id := range ids {
		if ts, ok := got[id]; ok {
			out[id] = ts
		}
	}
	return out
}

// watchLastFailures notes when each case's last faulted attempt reached the
// provider (the attempt counters are polled), until the returned stop.
func watchLastFailures(p *providers, cases []*providerCase) (stop func()) {
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			for _, c := range cases {
				c.mu.Lock()
				if c.lastFailed.IsZero() && c.attempts(p) >= c.faults {
					c.lastFailed = time.Now()
				}
				c.mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() { close(done); <-finished }
}

// expectFailedAndSuppressed checks that a permanently refused delivery is
// failed and its address suppressed.
func expectFailedAndSuppressed(t *testing.T, db *sqlx.DB, c *providerCase) {
	t.Helper()
	var status string
	if err := db.Get(&status, `SELECT status FROM deliveries WHERE id = $1`, c.delivery); err != nil {
		t.Fatal(err)
	}
	var suppressed int
	if err := db.Get(&suppressed, `SELECT count(*) FROM suppressions WHERE channel = $1 AND address = $2`, c.channel, c.to); err != nil {
		t.Fatal(err)
	}
	if status != "failed" || suppressed != 1 {
		t.Errorf("%s: delivery %s, %d suppressions of the address; want failed and suppressed", c.name, status, suppressed)
	}
}

// lateAccept is the provider-side duplicate window: the SMTP server takes
// the message but answers only after the client's timeout, so the client
// must assume it failed and retries. The message then arrives twice, and
// only this message. It returns runs, duplicates and lost.
func lateAccept(t *testing.T, p *providers, db *sqlx.DB, hang time.Duration) (int, int, int) {
	t.Helper()
	before := p.received(t)
	victim := seedPeople(t, db, 200000, 1)
	p.smtp.Inject(fakesmtp.StageData, 1, fakesmtp.Fault{Hang: hang})
	id := seedDeliveries(t, db, victim, "email", "lesson-1", time.Now())[0]
	waitDelivered(t, p, db, []int64{id}, time.Minute)
	// The first copy lands when the hang ends, after the retry may have.
	waitFor(t, 2*hang, func() bool { return len(p.received(t)[id]) >= 2 })
	got := p.received(t)
	for k, ts := range got {
		if k != id && len(ts) != len(before[k]) {
			t.Errorf("delivery %d received again while only %d was being retried", k, id)
		}
	}
	if n := len(got[id]); n != 2 {
		t.Errorf("the late-accepted delivery arrived %d times, want exactly 2 (accepted late, then retried)", n)
	}
	extra := max(0, len(got[id])-1)
	lost := 0
	if len(got[id]) == 0 {
		lost = 1
	}
	return 1, extra, lost
}
