package scheduler

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/clock"
)

// SMS needs a confirmed opt-in. Someone who signed up with both an email
// address and a phone number and confirmed only the email (clicked the link,
// never texted YES) is in the program, by email alone: nothing is planned to
// the unconfirmed number, and the check-ins that prefer SMS go by email. Once
// the number is confirmed, texts follow.
func TestNoSMSPlannedToAnUnconfirmedNumber(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z")) // Monday 1 June, 06:00 in London
	e := newEngine(t, clk)
	const phone = "+447700900999"
	sub, id, err := e.Enroll(ctx, EnrollRequest{Program: "basic", FirstName: "Cat", Email: "cat@example.org", Phone: phone,
		Timezone: "Europe/London", Source: "web", Pending: true})
	if err != nil {
		t.Fatal(err)
	}
	// The email link: the address is confirmed and the enrollment starts
	// (as web.confirmChannel does); the number stays pending.
	if err := e.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := e.Store.SetChannelStatus(ctx, tx, clk.Now(), sub, "email", "confirmed"); err != nil {
			return err
		}
		return e.Activate(ctx, tx, id)
	}); err != nil {
		t.Fatal(err)
	}
	var st struct {
		Email string `db:"email_status"`
		SMS   string `db:"sms_status"`
	}
	dbGet(t, e.Store.DB, &st, `SELECT email_status, sms_status FROM subscribers WHERE id = $1`, sub)
	if st.Email != "confirmed" || st.SMS != "pending" {
		t.Fatalf("setup: email %s, sms %s; want email confirmed, sms pending", st.Email, st.SMS)
	}

	// Through Friday: the welcome (email and SMS), l1-l3 (email) and the
	// readiness check-in at 19:00 (SMS first, else email).
	planUntil(t, e, clk, utc("2026-06-05T18:30:00Z"), time.Hour)
	rows := deliveries(t, e, id)
	for _, d := range rows {
		if d.Channel == "sms" {
			t.Errorf("%s planned by SMS to a number whose opt-in is pending", d.Step)
		}
	}
	for _, step := range []string{"welcome", "l1", "l2", "l3", "ready"} {
		if stepOn(t, e, id, step, "email") == nil {
			t.Errorf("%s was not planned by email, the one confirmed channel; planned: %v", step, steps(rows))
		}
	}
	if t.Failed() {
		return
	}

	// YES: the number is confirmed. Saturday's l4 (email and SMS) goes by
	// text too, and Sunday's mood check-in (SMS first) by text alone.
	if err := e.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		return e.Store.SetChannelStatus(ctx, tx, clk.Now(), sub, "sms", "confirmed")
	}); err != nil {
		t.Fatal(err)
	}
	planUntil(t, e, clk, utc("2026-06-07T18:30:00Z"), time.Hour)
	for _, step := range []string{"l4", "mood@2026-06-07"} {
		if stepOn(t, e, id, step, "sms") == nil {
			t.Errorf("%s was not planned by SMS after the number was confirmed", step)
		}
	}
}
