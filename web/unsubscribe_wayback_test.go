package web

import (
	"context"
	"html"
	"strings"
	"testing"
	"time"
)

// The page after unsubscribing says how to have messages back in a way that
// works. Signing up again alone does not bring emails back (the address
// stays suppressed, and the sign-up sends nothing), and support lifting the
// opt-out sends nothing by itself: emails start again only when, after the
// lift, the person signs up again and confirms. So the page gives the steps
// in that order, and promises no more than they do; the test walks them.
// Texts come back with START, and the page says so.
func TestUnsubscribePageOffersAWayBackThatWorks(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	sub, _ := f.enroll("back-by-email@example.org", "")
	_, page := f.do("POST", local(f.links.Unsubscribe(sub, "email")), "", "")
	page = html.UnescapeString(mainOf(page))
	if !saysEmailWayBack(page) {
		t.Errorf("email unsubscribe page, want: write to support, then once the address is off the list sign up again and confirm:\n%s", page)
	}
	const again = `{"program":"basic","first_name":"Sam","email":"back-by-email@example.org","timezone":"Europe/London","consent_email":true}`
	before := f.state()
	api(f, again)
	sameState(t, "signing up again after unsubscribing", before, f.state())
	if _, err := f.e.Store.LiftEmailOptOut(ctx, f.clk.Now(), "back-by-email@example.org", "wrote to support"); err != nil {
		t.Fatal(err)
	}
	api(f, again)
	if n := f.count(`SELECT count(*) FROM enrollments WHERE subscriber_id = $1 AND status = 'pending'`, sub); n != 1 {
		t.Error("once support lifted the opt-out, signing up again did not go through")
	}

	// Unsubscribed before confirming: the confirm link says the same.
	pendingSub, enr := f.enrollPending("unconfirmed@example.org")
	f.do("POST", local(f.links.Unsubscribe(pendingSub, "email")), "", "")
	_, page = f.do("POST", local(f.links.Confirm(enr, 48*time.Hour)), "", "")
	page = html.UnescapeString(mainOf(page))
	if !strings.Contains(page, "You've unsubscribed") || !saysEmailWayBack(page) {
		t.Errorf("confirm link after unsubscribing:\n%s", page)
	}

	sub, _ = f.enroll("back-by-text@example.org", "+447700900214")
	_, page = f.do("POST", local(f.links.Unsubscribe(sub, "sms")), "", "")
	page = html.UnescapeString(mainOf(page))
	if strings.Contains(page, "sign up again") || !strings.Contains(page, "reply START to any text from us") {
		t.Errorf("text unsubscribe page:\n%s", page)
	}
	if out := twimlMessage(t, f.sms("+447700900214", "START")); !strings.Contains(out, "resubscribed") {
		t.Errorf("START after unsubscribing from texts: %q", out)
	}
}

// saysEmailWayBack is whether a page gives the way back to emails as it
// works: write to support; once the address is off the do-not-email list,
// sign up again and confirm; and only then do emails start. A promise that
// support alone turns emails back on is not it.
func saysEmailWayBack(page string) bool {
	steps := []string{"write to us at help@rekindle.test", "off our do-not-email list", "sign up again", "confirm", "your emails will start again"}
	at := 0
	for _, s := range steps {
		i := strings.Index(page[at:], s)
		if i < 0 {
			return false
		}
		at += i + len(s)
	}
	return !strings.Contains(page, "turn your emails back on") && !strings.Contains(page, "turn them back on")
}

// enrollPending adds a sign-up waiting for confirmation, by email only.
func (f *fixture) enrollPending(email string) (sub, enr int64) {
	f.t.Helper()
	code, out := api(f, `{"program":"basic","first_name":"Sam","email":"`+email+`","timezone":"Europe/London","consent_email":true}`)
	if code != 202 {
		f.t.Fatalf("sign-up: %d %s", code, out)
	}
	if err := f.e.Store.DB.QueryRow(`SELECT s.id, e.id FROM subscribers s JOIN enrollments e ON e.subscriber_id = s.id WHERE s.email = $1 AND e.status = 'pending'`, email).Scan(&sub, &enr); err != nil {
		f.t.Fatal(err)
	}
	return sub, enr
}
