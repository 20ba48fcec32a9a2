package faults

import (
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/rekindle/rekindle/internal/fakesmtp"
	"github.com/rekindle/rekindle/internal/faketwilio"
	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/token"
)

// How a person's first message stands when their opt-out arrives.
const (
	raceAccepted = "in flight, then accepted" // the provider holds the send, then takes it
	raceRetry    = "in flight, then retried"  // the provider holds it, then answers 451/503
	raceDue      = "due now"                  // the opt-out races the dispatcher's claim
	raceQueued   = "queued"                   // not yet due
)

// race is one person's opt-out on one channel.
type race struct {
	person  person
	channel string
	mode    string
	to      string
	ids     []int64 // the person's deliveries on this channel, in order

	sent, done time.Time // the opt-out request's start, and its answer
	err        error
}

// testOptOut sends STOP (signed like Twilio) and one-click unsubscribe
// requests while the person's messages are queued, being claimed, or held
// by the provider mid-send. A claim made after the opt-out must never send:
// the claim statement re-checks suppressions. What may still arrive after
// the opt-out is only what was already in flight, and the suite measures how
// late that is.
func testOptOut(t *testing.T, sc scale, bin string, sum *summary) {
	r := row{scenario: "opt-out: STOP and one-click unsubscribe racing queued, claimed and in-flight messages", recovery: "-"}
	defer func() { r.failed = t.Failed(); sum.add(r) }()
	const hold = 1500 * time.Millisecond // how long the provider holds an in-flight send

	p := startProviders(t)
	dsn := testdb.New(t)
	db := openDB(t, dsn)
	auditClaims(t, db)
	set := p.settings(dsn)
	set["REKINDLE_SMTP_TIMEOUT"] = "5s"
	set["REKINDLE_TWILIO_TIMEOUT"] = "5s"
	d := newDaemon(t, bin, "serve", set)
	signer, err := token.NewSigner(secretKey)
	if err != nil {
		t.Fatal(err)
	}
	links := &token.Links{Base: d.base, Signer: signer, Now: time.Now}

	now := time.Now()
	bg := seedPeople(t, db, 1, sc.optoutBackground)
	background := append(seedDeliveries(t, db, bg, "email", "lesson-1", now), seedDeliveries(t, db, bg, "sms", "lesson-1", now)...)

	// Every mode on both channels (people are dealt modes in turn from a
	// random start), in random pairings of a person's email and SMS.
	rng := rand.New(rand.NewPCG(sc.seed, 5))
	modes := []string{raceAccepted, raceRetry, raceDue, raceQueued}
	offset := map[string]int{"email": rng.IntN(len(modes)), "sms": rng.IntN(len(modes))}
	var races []*race
	for i, pp := range seedPeople(t, db, 300000, sc.optoutPeople) {
		for _, ch := range []string{"email", "sms"} {
			rc := &race{person: pp, channel: ch, mode: modes[(i+offset[ch])%len(modes)], to: pp.Email}
			if ch == "sms" {
				rc.to = pp.Phone
			}
			first := now
			if rc.mode == raceQueued {
				first = now.Add(time.Minute)
			}
			// Three lessons a few seconds apart: one in play, the rest queued.
			for k := range 3 {
				rc.ids = append(rc.ids, seedDeliveries(t, db, []person{pp}, ch, fmt.Sprintf("lesson-%d", k+1), first.Add(time.Duration(k)*3*time.Second))[0])
			}
			if ch == "email" {
				if _, err := db.Exec(`UPDATE deliveries SET unsubscribe_url = $1 WHERE id = ANY($2)`,
					links.Unsubscribe(pp.ID, "email"), pq.Array(rc.ids)); err != nil {
					t.Fatal(err)
				}
			}
			holdFirst(p, rc, hold)
			races = append(races, rc)
		}
	}

	d.start()
	d.waitReady(15 * time.Second)
	var wg sync.WaitGroup
	for _, rc := range races {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if rc.mode == raceAccepted || rc.mode == raceRetry {
				if !waitAttempt(p, rc, 60*time.Second) {
					rc.err = fmt.Errorf("the provider never saw the first attempt")
					return
				}
			}
			rc.sent = time.Now()
			if rc.channel == "email" {
				rc.err = oneClick(links.Unsubscribe(rc.person.ID, "email"))
			} else {
				rc.err = stop(d.base, rc.to)
			}
			rc.done = time.Now()
		}()
	}
	wg.Wait()
	waitDelivered(t, p, db, background, 2*time.Minute)
	d.stop(15 * time.Second)

	got := p.received(t)
	claims := claimTimes(t, db)
	tl := countReceipts(got, background)
	r.runs, r.lost, r.duplicates = len(races), len(tl.lost), tl.duplicates
	if len(tl.lost) > 0 || tl.duplicates > 0 {
		t.Errorf("background: %d lost, %d duplicates; want each sent once", len(tl.lost), tl.duplicates)
	}
	var worst time.Duration
	late := 0
	for _, rc := range races {
		name := fmt.Sprintf("%s opt-out of %s (%s)", rc.channel, rc.to, rc.mode)
		if rc.err != nil {
			t.Errorf("%s: %v", name, rc.err)
			continue
		}
		checkRecorded(t, db, rc, name)
		statuses := deliveryStatuses(t, db, rc.ids)
		for k, id := range rc.ids {
			for _, c := range claims[id] {
				if c.After(rc.done) {
					t.Errorf("%s: lesson %d claimed %s after the opt-out was answered", name, k+1, c.Sub(rc.done))
				}
			}
			n := len(got[id])
			switch {
			case statuses[id] == "sent" && n != 1:
				t.Errorf("%s: lesson %d is sent but the provider has it %d times", name, k+1, n)
				if n == 0 {
					r.lost++
				}
				r.duplicates += max(0, n-1)
			case statuses[id] == "cancelled" && n != 0:
				t.Errorf("%s: lesson %d is cancelled but the provider received it %d times", name, k+1, n)
			case statuses[id] != "sent" && statuses[id] != "cancelled":
				t.Errorf("%s: lesson %d ended %q, want sent (in flight before the opt-out) or cancelled", name, k+1, statuses[id])
			}
			for _, at := range got[id] {
				if at.After(rc.done) {
					late++
					worst = max(worst, at.Sub(rc.done))
				}
			}
		}
		first := statuses[rc.ids[0]]
		switch rc.mode {
		case raceAccepted:
			if first != "sent" {
				t.Errorf("%s: the message the provider held ended %q, want sent", name, first)
			}
		case raceRetry, raceQueued:
			if first != "cancelled" {
				t.Errorf("%s: the first lesson ended %q, want cancelled (its next claim must see the opt-out)", name, first)
			}
		}
		for _, id := range rc.ids[1:] {
			if statuses[id] != "cancelled" {
				t.Errorf("%s: a later lesson ended %q, want cancelled", name, statuses[id])
			}
		}
	}
	r.recovery = fmt.Sprintf("%s (opt-out answered → last in-flight message accepted; %d such)", secs(worst), late)
	t.Logf("%d opt-outs; %d messages claimed before them reached the provider after them, the last %s later",
		len(races), late, worst.Round(time.Millisecond))
}

// holdFirst makes the provider hold the first attempt for rc's address:
// then accept it, or answer a temporary error.
func holdFirst(p *providers, rc *race, hold time.Duration) {
	switch {
	case rc.mode == raceAccepted && rc.channel == "email":
		p.smtp.InjectRecipient(rc.to, 1, fakesmtp.Fault{Hang: hold})
	case rc.mode == raceRetry && rc.channel == "email":
		p.smtp.InjectRecipient(rc.to, 1, fakesmtp.Fault{Hang: hold, Code: 451})
	case rc.mode == raceAccepted:
		p.twilio.InjectTo(rc.to, 1, faketwilio.Fault{Hang: hold})
	case rc.mode == raceRetry:
		p.twilio.InjectTo(rc.to, 1, faketwilio.Fault{Hang: hold, Status: 503})
	}
}

// waitAttempt waits until the provider is holding rc's first send.
func waitAttempt(p *providers, rc *race, timeout time.Duration) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		n := p.twilio.AttemptsTo(rc.to)
		if rc.channel == "email" {
			n = p.smtp.RcptAttempts(rc.to)
		}
		if n > 0 {
			return true
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

// oneClick posts an RFC 8058 one-click unsubscribe, as a mail client does.
func oneClick(link string) error {
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		return fmt.Errorf("one-click unsubscribe: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("one-click unsubscribe: %s: %s", resp.Status, b)
	}
	return nil
}

// stop posts an inbound "STOP" the way Twilio does, signed with the auth
// token over the public URL and the sorted form fields.
func stop(base, from string) error {
	sid := make([]byte, 16)
	crand.Read(sid)
	form := url.Values{"MessageSid": {"SM" + hex.EncodeToString(sid)}, "AccountSid": {"AC" + hex.EncodeToString(sid)},
		"From": {from}, "To": {twilioFrom}, "Body": {"STOP"}}
	u := base + "/webhooks/twilio/sms"
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", faketwilio.Sign(twilioToken, u, form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("STOP: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("STOP: %s: %s", resp.Status, b)
	}
	return nil
}

// auditClaims makes the test database log the start of every statement that
// claims a delivery (raises its attempt count). It observes the daemon's own
// statements; nothing in them changes. A cancelled-at-claim row is not an
// attempt and is not logged.
func auditClaims(t *testing.T, db *sqlx.DB) {
	t.Helper()
	for _, q := range []string{
		`CREATE TABLE fault_claims (delivery_id bigint NOT NULL, attempt int NOT NULL, at timestamptz NOT NULL)`,
		`CREATE FUNCTION fault_log_claim() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			INSERT INTO fault_claims VALUES (NEW.id, NEW.attempts, statement_timestamp());
			RETURN NULL;
		END $$`,
		`CREATE TRIGGER fault_log_claim AFTER UPDATE OF attempts ON deliveries
			FOR EACH ROW WHEN (NEW.attempts > OLD.attempts) EXECUTE FUNCTION fault_log_claim()`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("claim audit: %v", err)
		}
	}
}

// claimTimes returns when each delivery was claimed.
func claimTimes(t *testing.T, db *sqlx.DB) map[int64][]time.Time {
	t.Helper()
	var rows []struct {
		ID int64     `db:"delivery_id"`
		At time.Time `db:"at"`
	}
	if err := db.Select(&rows, `SELECT delivery_id, at FROM fault_claims`); err != nil {
		t.Fatal(err)
	}
	out := map[int64][]time.Time{}
	for _, r := range rows {
		out[r.ID] = append(out[r.ID], r.At)
	}
	return out
}

func deliveryStatuses(t *testing.T, db *sqlx.DB, ids []int64) map[int64]string {
	t.Helper()
	var rows []struct {
		ID     int64  `db:"id"`
		Status string `db:"status"`
	}
	if err := db.Select(&rows, `SELECT id, status FROM deliveries WHERE id = ANY($1)`, pq.Array(ids)); err != nil {
		t.Fatal(err)
	}
	out := map[int64]string{}
	for _, r := range rows {
		out[r.ID] = r.Status
	}
	return out
}

// checkRecorded checks that the opt-out is in the database as the person
// would expect: the address suppressed, the channel revoked with a consent
// record, all written before the request was answered.
func checkRecorded(t *testing.T, db *sqlx.DB, rc *race, name string) {
	t.Helper()
	var sup []time.Time
	if err := db.Select(&sup, `SELECT created_at FROM suppressions WHERE channel = $1 AND address = $2`, rc.channel, rc.to); err != nil {
		t.Fatal(err)
	}
	var revoked []time.Time
	if err := db.Select(&revoked, `SELECT created_at FROM consents WHERE subscriber_id = $1 AND channel = $2 AND action = 'revoked'`,
		rc.person.ID, rc.channel); err != nil {
		t.Fatal(err)
	}
	var status string
	if err := db.Get(&status, fmt.Sprintf(`SELECT %s_status FROM subscribers WHERE id = $1`, rc.channel), rc.person.ID); err != nil {
		t.Fatal(err)
	}
	if len(sup) != 1 || len(revoked) != 1 || status != "revoked" {
		t.Errorf("%s: %d suppressions, %d revocations, channel %q; want 1, 1, revoked", name, len(sup), len(revoked), status)
		return
	}
	if sup[0].After(rc.done) || sup[0].Before(rc.sent.Add(-time.Second)) {
		t.Errorf("%s: suppression recorded at %s, outside the request (%s to %s)", name, sup[0], rc.sent, rc.done)
	}
}
