package web

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// A text whose handling fails is answered with a request to send it again,
// and must be handled when it comes back with the same MessageSid (Twilio's
// retry, when the webhook URL asks for one), not skipped as a duplicate. The failure is a real
// database error (a trigger refusing the check-in update), as a full disk
// or a killed connection would give.
func TestInboundRetriedAfterFailure(t *testing.T) {
	f := newFixture(t)
	_, enr := f.enroll("retry@example.org", "+447700900210")
	f.planUntil(utc("2026-06-07T18:30:00Z")) // the first mood check-in is open
	answered := func() int {
		return f.count(`SELECT count(*) FROM checkins WHERE enrollment_id = $1 AND answer = '4' AND source = 'sms'`, enr)
	}
	for _, q := range []string{
		`CREATE FUNCTION refuse_answer() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device'; END $$`,
		`CREATE TRIGGER refuse_answer BEFORE UPDATE ON checkins FOR EACH ROW EXECUTE FUNCTION refuse_answer()`,
	} {
		if _, err := f.e.Store.DB.Exec(q); err != nil {
			t.Fatal(err)
		}
	}

	code, out := f.smsWith("+447700900210", "4", "SMretryfail", "")
	if code != 200 || !strings.Contains(out, "Please send it again") {
		t.Fatalf("a text whose handling failed: %d %s; want a reply asking to send it again", code, out)
	}
	if answered() != 0 {
		t.Fatal("the failed attempt recorded the answer")
	}

	if _, err := f.e.Store.DB.Exec(`DROP TRIGGER refuse_answer ON checkins`); err != nil {
		t.Fatal(err)
	}
	code, out = f.smsWith("+447700900210", "4", "SMretryfail", "")
	if code != 200 || !strings.Contains(out, "Thanks for letting us know") {
		t.Fatalf("Twilio's retry after the failure: %d %s; want the answer taken and thanked", code, out)
	}
	if answered() != 1 {
		t.Fatal("the retry did not record the answer")
	}

	// Once handled, a further retry is a duplicate again.
	code, out = f.smsWith("+447700900210", "4", "SMretryfail", "")
	if code != 200 || strings.Contains(out, "<Message>") {
		t.Fatalf("a retry of a handled text: %d %s; want 200 and empty TwiML", code, out)
	}
	if n := f.count(`SELECT count(*) FROM inbound_messages WHERE provider_id = 'SMretryfail' AND result = 'answer: 4'`); n != 1 {
		t.Fatalf("inbound rows for the text: %d, want one, marked answered", n)
	}
}

// A text claimed by an attempt that never finished (the process died
// mid-way) is held while that attempt could still be running, then taken
// over by Twilio's next retry.
func TestInboundAbandonedAttemptTakenOver(t *testing.T) {
	f := newFixture(t)
	_, enr := f.enroll("crash@example.org", "+447700900211")
	f.planUntil(utc("2026-06-07T18:30:00Z"))
	if _, err := f.e.Store.DB.Exec(`INSERT INTO inbound_messages (provider_id, channel, from_addr, body, received_at)
		VALUES ('SMcrashed', 'sms', '+447700900211', '4', $1)`, f.clk.Now()); err != nil {
		t.Fatal(err)
	}
	before := f.state()
	code, out := f.smsWith("+447700900211", "4", "SMcrashed", "")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("a retry while the first attempt may still run: %d %s; want 503", code, out)
	}
	sameState(t, "a retry of a text in hand", before, f.state())

	f.clk.Advance(inboundAbandonedAfter + time.Second)
	code, out = f.smsWith("+447700900211", "4", "SMcrashed", "")
	if code != 200 || !strings.Contains(out, "Thanks for letting us know") {
		t.Fatalf("a retry after the attempt was abandoned: %d %s", code, out)
	}
	if n := f.count(`SELECT count(*) FROM checkins WHERE enrollment_id = $1 AND answer = '4' AND source = 'sms'`, enr); n != 1 {
		t.Fatalf("answers recorded: %d, want 1", n)
	}
}
