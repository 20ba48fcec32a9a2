package faults

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/rekindle/rekindle/internal/testdb"
)

// kill is one kill -9 and what the killed process held at that moment.
type kill struct {
	at       time.Time
	inFlight []int64 // deliveries it had claimed and not yet recorded
}

// testCrash kills serve with SIGKILL at random moments and restarts it each
// time. Every delivery must reach a provider; a copy beyond the first is
// allowed only for a delivery the killed process held in flight (the
// documented window: accepted by the provider, outcome not yet recorded).
func testCrash(t *testing.T, sc scale, bin string, sum *summary) {
	r := row{scenario: fmt.Sprintf("crash: kill -9 during sending, %d deliveries", sc.crashEmail+sc.crashSMS), recovery: "-"}
	defer func() { r.failed = t.Failed(); sum.add(r) }()

	p := startProviders(t)
	dsn := testdb.New(t)
	db := openDB(t, dsn)
	people := seedPeople(t, db, 1, max(sc.crashEmail, sc.crashSMS))
	now := time.Now().Add(-time.Minute)
	want := seedDeliveries(t, db, people[:sc.crashEmail], "email", "lesson-1", now)
	want = append(want, seedDeliveries(t, db, people[:sc.crashSMS], "sms", "lesson-1", now)...)

	const lease = 3 * time.Second
	set := p.settings(dsn)
	set["REKINDLE_LEASE"] = lease.String()
	set["REKINDLE_EMAIL_RATE"] = strconv.Itoa(sc.crashEmailRate)
	set["REKINDLE_SMS_RATE"] = strconv.Itoa(sc.crashSMSRate)
	d := newDaemon(t, bin, "serve", set)

	rng := rand.New(rand.NewPCG(sc.seed, 1))
	var kills []kill
	for i := 0; i < sc.crashKills; i++ {
		d.start()
		// A random moment from just after exec to a couple of seconds in:
		// during start-up, between batches, mid-batch.
		time.Sleep(time.Duration(50+rng.IntN(1950)) * time.Millisecond)
		if !d.running() {
			t.Fatalf("serve exited on its own before kill %d: %v", i+1, d.err)
		}
		k := kill{at: time.Now()}
		pid := d.cmd.Process.Pid
		d.kill()
		// claimed_by is "host/pid/start": only what this process held, not
		// rows still leased to an earlier, already dead one.
		if err := db.Select(&k.inFlight, `SELECT id FROM deliveries WHERE status = 'sending' AND split_part(claimed_by, '/', 2) = $1
			ORDER BY id`, strconv.Itoa(pid)); err != nil {
			t.Fatal(err)
		}
		kills = append(kills, k)
		t.Logf("kill %d at +%s: %d deliveries in flight; providers have %d of %d",
			i+1, k.at.Sub(kills[0].at).Round(time.Millisecond), len(k.inFlight), p.count(t, want), len(want))
	}
	d.start()
	d.waitReady(15 * time.Second)
	waitDelivered(t, p, db, want, 3*time.Minute)
	d.stop(15 * time.Second)

	got := p.received(t)
	tl := countReceipts(got, want)
	r.runs, r.lost, r.duplicates = len(kills), len(tl.lost), tl.duplicates

	// Recovery: from a kill until every message the killed process held has
	// reached a provider (restart, lease expiry, rescue, resend).
	heldAt := map[int64]int{} // delivery -> how many kills caught it in flight
	allowed := 0
	var worst time.Duration
	for _, k := range kills {
		allowed += len(k.inFlight)
		for _, id := range k.inFlight {
			heldAt[id]++
			if at, ok := firstAfter(got[id], k.at); ok {
				worst = max(worst, at.Sub(k.at))
			}
		}
	}
	r.recovery = secs(worst) + " (kill → held messages sent)"

	if len(tl.lost) > 0 {
		t.Errorf("%d deliveries never reached a provider: %s", len(tl.lost), idList(tl.lost, 20))
	}
	for id, extra := range tl.dupIDs {
		if extra > heldAt[id] {
			t.Errorf("delivery %d received %d extra times but was in flight at only %d kills", id, extra, heldAt[id])
		}
	}
	if tl.duplicates > allowed {
		t.Errorf("%d duplicates, more than the %d deliveries in flight at the kills", tl.duplicates, allowed)
	}
	var notSent []int64
	if err := db.Select(&notSent, `SELECT id FROM deliveries WHERE status <> 'sent' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if len(notSent) > 0 {
		t.Errorf("%d deliveries not marked sent: %s", len(notSent), idList(notSent, 20))
	}
	var unknown int
	if err := db.Get(&unknown, `SELECT count(*) FROM deliveries WHERE NOT (id = ANY($1))`, pq.Array(want)); err != nil || unknown != 0 {
		t.Errorf("%d deliveries besides the seeded ones (%v)", unknown, err)
	}
	t.Logf("crash: %d kills, %d held in flight in total, %d duplicates, %d lost, worst recovery %s",
		len(kills), allowed, tl.duplicates, len(tl.lost), worst.Round(time.Millisecond))
}
