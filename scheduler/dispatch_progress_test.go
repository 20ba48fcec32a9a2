package scheduler

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
)

// An opt-out recorded while a claimed batch is being sent wins over the
// messages of that batch not started yet: they are cancelled, not sent.
func TestOptOutWinsOverClaimedBatch(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T10:00:00Z"))
	e := newEngine(t, clk)
	e.Cfg.Recheck = time.Nanosecond // every message counts as having waited
	seedQueued(t, e.Store, 10, clk.Now())
	ch := newCounting(channel.Email)
	var stopped string
	ch.fail = func(m channel.Message) error {
		if stopped != "" {
			return nil
		}
		// The first message is in the provider's hands; someone else in the
		// batch says stop now.
		for i := 1; i <= 10; i++ {
			if a := fmt.Sprintf("p%d@example.org", i); a != m.To {
				stopped = a
				break
			}
		}
		_, err := e.Store.DB.Exec(`INSERT INTO suppressions (channel, address, reason, source, created_at) VALUES ('email', $1, 'unsubscribed', 'test', now())`, stopped)
		return err
	}
	d := e.NewDispatcher(ch, 1, "w")
	if n, err := d.DispatchOnce(context.Background()); err != nil || n != 10 {
		t.Fatalf("dispatch: %d, %v", n, err)
	}
	for _, m := range ch.order {
		if m.To == stopped {
			t.Fatalf("%s was sent after opting out", stopped)
		}
	}
	if got := ch.total(); got != 9 {
		t.Fatalf("sent %d messages, want the 9 to people who did not opt out", got)
	}
	var status, reason string
	if err := e.Store.DB.QueryRow(`SELECT status, coalesce(error, '') FROM deliveries WHERE to_addr = $1`, stopped).Scan(&status, &reason); err != nil {
		t.Fatal(err)
	}
	if status != "cancelled" || reason != "address suppressed" {
		t.Fatalf("the opted-out delivery is %s (%q), want cancelled (address suppressed)", status, reason)
	}
}

// A batch that is slow to send records its outcomes as it goes: a crash
// then repeats only what was sent since the last record, and a provider's
// status report finds its message id within moments.
func TestSlowBatchRecordsAsItGoes(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T10:00:00Z"))
	e := newEngine(t, clk)
	e.Cfg.AckEvery = 10 * time.Millisecond
	seedQueued(t, e.Store, 5, clk.Now())
	ch := newCounting(channel.Email)
	sends := 0
	ch.fail = func(channel.Message) error {
		sends++
		if sends != 3 {
			return nil
		}
		// Two messages are with the provider; while the third is being sent
		// their outcome must reach the database.
		deadline := time.Now().Add(10 * time.Second)
		for {
			var n int
			if err := e.Store.DB.QueryRow(`SELECT count(*) FROM deliveries WHERE status = 'sent'`).Scan(&n); err != nil {
				return err
			}
			if n == 2 {
				return nil
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("test: %d of the 2 messages already sent are recorded", n)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	d := e.NewDispatcher(ch, 1, "w")
	if n, err := d.DispatchOnce(context.Background()); err != nil || n != 5 {
		t.Fatalf("dispatch: %d, %v", n, err)
	}
	var sent int
	if err := e.Store.DB.QueryRow(`SELECT count(*) FROM deliveries WHERE status = 'sent' AND attempts = 1`).Scan(&sent); err != nil {
		t.Fatal(err)
	}
	if sent != 5 || ch.total() != 5 {
		t.Fatalf("%d rows sent once and %d messages at the provider, want 5 and 5", sent, ch.total())
	}
}

// A shutdown in the middle of a long batch finishes the message being sent,
// records it, and gives the rest back to the queue at once: not sent, not
// left leased until the rescuer finds them, the attempt not counted.
func TestShutdownGivesBackUnstartedMessages(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T10:00:00Z"))
	e := newEngine(t, clk)
	seedQueued(t, e.Store, 10, clk.Now())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := newCounting(channel.Email)
	ch.fail = func(channel.Message) error {
		cancel() // SIGTERM while the first message is with the provider
		return nil
	}
	d := e.NewDispatcher(ch, 1, "w")
	if n, err := d.DispatchOnce(ctx); err != nil || n != 10 {
		t.Fatalf("dispatch: %d, %v", n, err)
	}
	if got := ch.total(); got != 1 {
		t.Fatalf("%d messages reached the provider after shutdown began, want only the 1 being sent", got)
	}
	var sent, queued, leased, counted int
	if err := e.Store.DB.QueryRow(`SELECT count(*) FILTER (WHERE status = 'sent'),
		count(*) FILTER (WHERE status = 'queued'),
		count(*) FILTER (WHERE lease_until IS NOT NULL),
		count(*) FILTER (WHERE status = 'queued' AND attempts > 0)
		FROM deliveries`).Scan(&sent, &queued, &leased, &counted); err != nil {
		t.Fatal(err)
	}
	if sent != 1 || queued != 9 || leased != 0 || counted != 0 {
		t.Fatalf("after shutdown: %d sent, %d queued, %d leased, %d queued with an attempt counted; want 1, 9, 0, 0", sent, queued, leased, counted)
	}
}

// A claim cancels a queued message whose address opted out, and leaves it
// without a lease: only a message in flight holds one, and the lease index
// (migration 00008) keeps nothing else.
func TestClaimCancelsOptedOutWithoutLease(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-01T10:00:00Z"))
	e := newEngine(t, clk)
	seedQueued(t, e.Store, 3, clk.Now())
	if _, err := e.Store.DB.Exec(`INSERT INTO suppressions (channel, address, reason, source, created_at) VALUES ('email', 'p2@example.org', 'unsubscribed', 'test', now())`); err != nil {
		t.Fatal(err)
	}
	ch := newCounting(channel.Email)
	if _, err := e.NewDispatcher(ch, 1, "w").DispatchOnce(context.Background()); err != nil {
		t.Fatalf("dispatch: %v", err)
	}
	if got := ch.total(); got != 2 {
		t.Fatalf("sent %d messages, want the 2 to people who did not opt out", got)
	}
	var status string
	var leased bool
	if err := e.Store.DB.QueryRow(`SELECT status, lease_until IS NOT NULL FROM deliveries WHERE to_addr = 'p2@example.org'`).Scan(&status, &leased); err != nil {
		t.Fatal(err)
	}
	if status != "cancelled" || leased {
		t.Fatalf("the opted-out delivery is %s with a lease %v, want cancelled without one", status, leased)
	}
	var inFlight int
	if err := e.Store.DB.QueryRow(`SELECT count(*) FROM deliveries WHERE lease_until IS NOT NULL`).Scan(&inFlight); err != nil {
		t.Fatal(err)
	}
	if inFlight != 0 {
		t.Fatalf("%d deliveries still hold a lease after the batch was recorded", inFlight)
	}
}
