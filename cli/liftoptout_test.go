package cli

import (
	"strings"
	"testing"
)

// Someone who unsubscribed from email and writes in to have it back: the
// operator lifts the opt-out, recording how they asked; the address goes
// back to unconfirmed and nothing is sent until the person signs up and
// confirms. A text opt-out is never lifted by the operator, and bad input
// changes nothing.
func TestLiftOptOutAtThePersonsRequest(t *testing.T) {
	env, db := sweepDB(t)
	if code, out, errs := run(t, env, "unsubscribe", "--email", "ana@example.org"); code != 0 {
		t.Fatalf("unsubscribe: %d %s %s", code, out, errs)
	}
	refused(t, env, db, 2, "--request: say how and when the person asked", "lift-optout", "--email", "ana@example.org")
	refused(t, env, db, 2, "--phone: a text opt-out is lifted only by the person texting START", "lift-optout", "--phone", "+351912345678", "--request", "call")
	refused(t, env, db, 1, "has no opt-out to lift; nothing changed", "lift-optout", "--email", "someone@example.org", "--request", "email to support")
	refused(t, env, db, 2, "stray", "lift-optout", "--email", "ana@example.org", "stray", "--request", "x")

	// Ana's program goes on by text: signing up to it again asks her to
	// confirm the email (web: TestSignupAgainAfterALiftedOptOutAsksToConfirmTheEmail).
	code, out, errs := run(t, env, "lift-optout", "--email", "Ana@Example.org", "--request", "email to support, 5 Dec")
	if code != 0 || !strings.Contains(out, "in 1 running program(s) by text") || !strings.Contains(out, "signing up to it again on the web page asks them to confirm") ||
		strings.Contains(out, "once the person signs up") || !strings.Contains(out, "lifted: unsubscribed") {
		t.Fatalf("lift-optout: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	var n int
	if err := db.Get(&n, `SELECT count(*) FROM suppressions WHERE channel = 'email'`); err != nil || n != 0 {
		t.Fatalf("email suppressions after lifting: %d %v", n, err)
	}
	var status string
	if err := db.Get(&status, `SELECT email_status FROM subscribers WHERE email = 'ana@example.org'`); err != nil || status != "none" {
		t.Fatalf("email status after lifting: %q %v; want none, so a sign-up asks her to confirm", status, err)
	}
	var request string
	if err := db.Get(&request, `SELECT data->>'request' FROM events WHERE kind = 'optout_lifted'`); err != nil || request != "email to support, 5 Dec" {
		t.Fatalf("audit event: %q %v", request, err)
	}
	// Lifting again finds nothing to lift.
	refused(t, env, db, 1, "has no opt-out to lift", "lift-optout", "--email", "ana@example.org", "--request", "again")

	// Bo had email alone: unsubscribing ended his program, so a new sign-up
	// is his way back.
	if code, out, errs := run(t, env, "enroll", "--program", "rekindle", "--email", "bo@example.org", "--tz", "UTC"); code != 0 {
		t.Fatalf("enroll: %d %s %s", code, out, errs)
	}
	if code, out, errs := run(t, env, "unsubscribe", "--email", "bo@example.org"); code != 0 {
		t.Fatalf("unsubscribe: %d %s %s", code, out, errs)
	}
	code, out, errs = run(t, env, "lift-optout", "--email", "bo@example.org", "--request", "phoned support")
	if code != 0 || !strings.Contains(out, "may be emailed again once the person signs up and confirms") {
		t.Fatalf("lift-optout for Bo: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
}

// A mailbox the provider refused for good (a bounce) that works again: the
// person never withdrew consent, so lifting the block leaves their address
// confirmed, and the operator is told their programs email them again,
// not that they must sign up.
func TestLiftOptOutOfAProviderBlock(t *testing.T) {
	env, db := sweepDB(t)
	if _, err := db.Exec(`INSERT INTO suppressions (channel, address, reason, source, created_at)
		VALUES ('email', 'ana@example.org', 'provider 550', 'provider', now())`); err != nil {
		t.Fatal(err)
	}
	code, out, errs := run(t, env, "lift-optout", "--email", "ana@example.org", "--request", "her mailbox works again")
	if code != 0 || !strings.Contains(out, "no longer blocked; the person's consent to it stands") || strings.Contains(out, "signs up") {
		t.Fatalf("lift-optout of a block: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
	var status string
	if err := db.Get(&status, `SELECT email_status FROM subscribers WHERE email = 'ana@example.org'`); err != nil || status != "confirmed" {
		t.Fatalf("email status after lifting a block: %q %v; want it still confirmed", status, err)
	}
}

// TestLiftOptOutRequestIsPlainText: a --request with a NUL byte was refused
// by PostgreSQL (an error naming no flag), and one that was not UTF-8 was
// kept in the audit log with its bytes replaced. Either is refused naming
// --request, and nothing changes.
func TestLiftOptOutRequestIsPlainText(t *testing.T) {
	env, db := sweepDB(t)
	if code, out, errs := run(t, env, "unsubscribe", "--email", "ana@example.org"); code != 0 {
		t.Fatalf("unsubscribe: %d %s %s", code, out, errs)
	}
	for _, request := range []string{"email\x00to support", "email to supp\xffort", "call\x1b[2J", strings.Repeat("x", 501)} {
		refused(t, env, db, 1, "--request", "lift-optout", "--email", "ana@example.org", "--request", request)
	}
	// A line break in a note is taken.
	if code, out, errs := run(t, env, "lift-optout", "--email", "ana@example.org", "--request", "email to support,\n5 Dec"); code != 0 {
		t.Fatalf("lift-optout: exit %d\nstdout: %s\nstderr: %s", code, out, errs)
	}
}
