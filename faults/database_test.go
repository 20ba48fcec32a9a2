package faults

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/internal/fakesystemd"
)

// testDatabase restarts PostgreSQL under a sending daemon. The daemon must
// keep running, report not ready and keep feeding the watchdog (its loops
// are alive; a starved watchdog would have systemd restart it) while the
// database is gone, come back on its own, and lose nothing. Nothing may be
// sent twice either: the batches in flight when the database went away were
// handed to the providers, and the dispatcher keeps trying to record that
// until their lease runs out, which is longer than the outage here.
func testDatabase(t *testing.T, sc scale, bin string, sum *summary) {
	r := row{scenario: fmt.Sprintf("database: PostgreSQL stopped for %s and restarted, %d deliveries", sc.dbDown, sc.dbEmail+sc.dbSMS), recovery: "-"}
	defer func() { r.failed = t.Failed(); sum.add(r) }()

	pg := startPrivatePG(t)
	admin, err := sqlx.Connect("postgres", pg.dsn("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(`CREATE DATABASE rekindle_faults`); err != nil {
		t.Fatal(err)
	}
	admin.Close()
	dsn := pg.dsn("rekindle_faults")
	db := openDB(t, dsn)

	p := startProviders(t)
	people := seedPeople(t, db, 1, max(sc.dbEmail, sc.dbSMS))
	now := time.Now().Add(-time.Minute)
	want := seedDeliveries(t, db, people[:sc.dbEmail], "email", "lesson-1", now)
	want = append(want, seedDeliveries(t, db, people[:sc.dbSMS], "sms", "lesson-1", now)...)

	const (
		lease     = 20 * time.Second // longer than an outage plus a batch's sending time
		emailRate = 50
		smsRate   = 15
		watchdog  = time.Second // fed every half of it while the loops run
	)
	ns := fakesystemd.Listen(t)
	set := p.settings(dsn)
	set["REKINDLE_LEASE"] = lease.String()
	set["REKINDLE_EMAIL_RATE"] = strconv.Itoa(emailRate)
	set["REKINDLE_SMS_RATE"] = strconv.Itoa(smsRate)
	set["NOTIFY_SOCKET"] = ns.Path
	set["WATCHDOG_USEC"] = strconv.FormatInt(watchdog.Microseconds(), 10)
	d := newDaemon(t, bin, "serve", set)
	d.start()
	d.waitReady(15 * time.Second)

	var worst time.Duration
	for i := 0; i < sc.dbRestarts; i++ {
		// Spread the restarts over the run, each while messages are flowing.
		target := (i + 1) * len(want) / (sc.dbRestarts + 2)
		for p.count(t, want) < target {
			if !d.running() {
				t.Fatalf("serve exited: %v", d.err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		downAt := time.Now()
		if fed := between(ns.Times("WATCHDOG=1"), downAt.Add(-2*watchdog), downAt); fed == 0 {
			t.Errorf("restart %d: the watchdog was not fed in the %s before the database went down", i+1, 2*watchdog)
		}
		// The outage must catch a batch mid-send for the no-duplicate check
		// to mean anything.
		var inFlight int
		if err := db.Get(&inFlight, `SELECT count(*) FROM deliveries WHERE status = 'sending'`); err != nil {
			t.Fatal(err)
		}
		if inFlight == 0 {
			t.Errorf("restart %d: no delivery was in flight when the database went down", i+1)
		}
		pg.stop()
		stoppedAt := time.Now()
		notReady := 0
		for time.Since(stoppedAt) < sc.dbDown {
			if !d.running() {
				t.Fatalf("restart %d: serve exited while the database was down: %v", i+1, d.err)
			}
			if code := d.readyz(); code != http.StatusOK && code != 0 {
				notReady++
			}
			time.Sleep(100 * time.Millisecond)
		}
		upAt := time.Now()
		if fed := between(ns.Times("WATCHDOG=1"), stoppedAt.Add(watchdog), upAt); fed == 0 {
			t.Errorf("restart %d: the watchdog went unfed while the database was down; systemd would restart the service", i+1)
		}
		if notReady == 0 {
			t.Errorf("restart %d: /readyz never answered non-200 while the database was down", i+1)
		}
		pg.start()
		startedAt := time.Now()

		readyAt := waitFor(t, 30*time.Second, func() bool { return d.readyz() == http.StatusOK })
		fedAt := waitFor(t, 30*time.Second, func() bool { return between(ns.Times("WATCHDOG=1"), startedAt, time.Now()) > 0 })
		back := later(readyAt, fedAt)
		if p.count(t, want) < len(want) {
			sendingAt := waitFor(t, 60*time.Second, func() bool {
				for _, ts := range p.received(t) {
					if _, ok := firstAfter(ts, startedAt); ok {
						return true
					}
				}
				return false
			})
			back = later(back, sendingAt)
		}
		worst = max(worst, back.Sub(startedAt))
		t.Logf("restart %d: %d deliveries in flight; down %s; /readyz non-200 %d times; back (ready, watchdog fed, sending) %s after the database",
			i+1, inFlight, upAt.Sub(downAt).Round(time.Millisecond), notReady, back.Sub(startedAt).Round(time.Millisecond))
	}
	waitDelivered(t, p, db, want, 3*time.Minute)
	if !d.running() {
		t.Fatalf("serve exited: %v", d.err)
	}
	d.stop(15 * time.Second)

	tl := countReceipts(p.received(t), want)
	r.runs, r.lost, r.duplicates = sc.dbRestarts, len(tl.lost), tl.duplicates
	r.recovery = secs(worst) + " (database up → ready, watchdog fed, sending)"
	if len(tl.lost) > 0 {
		t.Errorf("%d deliveries never reached a provider: %s", len(tl.lost), idList(tl.lost, 20))
	}
	if tl.duplicates > 0 {
		t.Errorf("%d duplicates (%v); the batches in flight during an outage shorter than the lease must be recorded, not resent",
			tl.duplicates, tl.dupIDs)
	}
	if c := statusCounts(t, db); c["sent"] != len(want) {
		t.Errorf("deliveries by status %v, want all %d sent", c, len(want))
	}
}

// waitFor polls cond until it holds and returns when it did; it fails the
// test after timeout.
func waitFor(t *testing.T, timeout time.Duration, cond func() bool) time.Time {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %s", timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Now()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
