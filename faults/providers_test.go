package faults

import (
	"bytes"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/internal/fakesmtp"
	"github.com/rekindle/rekindle/internal/faketwilio"
)

const (
	twilioToken = "faultsuiteauthtoken0123456789ab"
	twilioFrom  = "+15005550006"
	secretKey   = "fault-suite-secret-key-0123456789"
)

// providers are the fake SMTP and Twilio servers, in this process, and what
// they accepted, indexed by delivery id.
type providers struct {
	smtp    *fakesmtp.Server
	twilio  *faketwilio.Server
	account string

	mu       sync.Mutex
	seenMail int // messages of smtp.Messages() already indexed
	seenSMS  int
	receipts map[int64][]time.Time // delivery id -> when a provider accepted it
}

func startProviders(t *testing.T) *providers {
	t.Helper()
	s, err := fakesmtp.Start(fakesmtp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	tw := faketwilio.New()
	t.Cleanup(tw.Close)
	p := &providers{smtp: s, twilio: tw, account: faketwilio.NewAccountSID(), receipts: map[int64][]time.Time{}}
	tw.RequireAuth(p.account, twilioToken)
	return p
}

// settings points a daemon at the fakes, with unhurried defaults a scenario
// overrides.
func (p *providers) settings(dsn string) map[string]string {
	return map[string]string{
		"DATABASE_URL":              dsn,
		"REKINDLE_SECRET_KEY":       secretKey,
		"REKINDLE_TICK":             "100ms",
		"REKINDLE_LOG_LEVEL":        "info",
		"REKINDLE_SHUTDOWN_TIMEOUT": "10s",
		"REKINDLE_OUTBOX_DIR":       "/nonexistent-outbox",
		"REKINDLE_SMTP_HOST":        p.smtp.Host(),
		"REKINDLE_SMTP_PORT":        strconv.Itoa(p.smtp.Port()),
		"REKINDLE_SMTP_TLS":         "none",
		"REKINDLE_EMAIL_FROM":       "Rekindle <coach@rekindle.test>",
		"TWILIO_ACCOUNT_SID":        p.account,
		"TWILIO_AUTH_TOKEN":         twilioToken,
		"REKINDLE_TWILIO_API_URL":   p.twilio.URL(),
		"REKINDLE_TWILIO_FROM":      twilioFrom,
		"REKINDLE_LEASE":            "30s",
		"REKINDLE_RETRY_BASE":       "500ms",
		"REKINDLE_EMAIL_RATE":       "200",
		"REKINDLE_SMS_RATE":         "100",
	}
}

var smsMarker = regexp.MustCompile(`\[d(\d+)\]`)

// update indexes what the providers accepted since the last call: email by
// its Message-ID (derived from the delivery id), SMS by the marker the seed
// put in the body.
func (p *providers) update(t *testing.T) {
	t.Helper()
	mails := p.smtp.Messages()
	sms := p.twilio.Messages()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range mails[p.seenMail:] {
		msg, err := mail.ReadMessage(bytes.NewReader(m.Data))
		if err != nil {
			t.Errorf("fake SMTP accepted a message that does not parse: %v", err)
			continue
		}
		id, ok := channel.ParseSMTPMessageID(msg.Header.Get("Message-Id"))
		if !ok {
			t.Errorf("fake SMTP accepted a message without a delivery Message-ID: %q", msg.Header.Get("Message-Id"))
			continue
		}
		p.receipts[id] = append(p.receipts[id], m.Received)
	}
	p.seenMail = len(mails)
	for _, m := range sms[p.seenSMS:] {
		sub := smsMarker.FindStringSubmatch(m.Body)
		if sub == nil {
			t.Errorf("fake Twilio accepted an SMS without a delivery marker: %q", m.Body)
			continue
		}
		id, _ := strconv.ParseInt(sub[1], 10, 64)
		p.receipts[id] = append(p.receipts[id], m.Received)
	}
	p.seenSMS = len(sms)
}

// received returns, per delivery id, when the providers accepted it.
func (p *providers) received(t *testing.T) map[int64][]time.Time {
	t.Helper()
	p.update(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[int64][]time.Time, len(p.receipts))
	for id, ts := range p.receipts {
		out[id] = append([]time.Time(nil), ts...)
	}
	return out
}

// count tells how many of ids the providers accepted at least once.
func (p *providers) count(t *testing.T, ids []int64) int {
	t.Helper()
	p.update(t)
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, id := range ids {
		if len(p.receipts[id]) > 0 {
			n++
		}
	}
	return n
}

// tally compares what the providers received with what had to arrive.
type tally struct {
	lost       []int64 // expected, never received
	duplicates int     // copies beyond the first
	dupIDs     map[int64]int
}

func countReceipts(got map[int64][]time.Time, expected []int64) tally {
	tl := tally{dupIDs: map[int64]int{}}
	for _, id := range expected {
		if len(got[id]) == 0 {
			tl.lost = append(tl.lost, id)
		}
	}
	for id, ts := range got {
		if len(ts) > 1 {
			tl.duplicates += len(ts) - 1
			tl.dupIDs[id] = len(ts) - 1
		}
	}
	return tl
}

// firstAfter returns the first time in ts after t0.
func firstAfter(ts []time.Time, t0 time.Time) (time.Time, bool) {
	var best time.Time
	for _, x := range ts {
		if x.After(t0) && (best.IsZero() || x.Before(best)) {
			best = x
		}
	}
	return best, !best.IsZero()
}

func idList(ids []int64, max int) string {
	var b strings.Builder
	for i, id := range ids {
		if i == max {
			b.WriteString(" ...")
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String()
}
