package scheduler

import (
	"context"
	"errors"
	"testing"

	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/store"
)

// A returning person's addresses: one they add starts unconfirmed, one the
// operator gives replaces the old (and only the operator's is confirmed),
// and a sign-up never takes over or replaces an address on file.
func TestReturningPersonsAddresses(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(utc("2026-06-10T09:00:00Z"))
	e := newEngine(t, clk)
	type contact struct {
		Email       string `db:"email"`
		Phone       string `db:"phone"`
		EmailStatus string `db:"email_status"`
		SMSStatus   string `db:"sms_status"`
	}
	on := func(sub int64) contact {
		t.Helper()
		var c contact
		if err := e.Store.DB.Get(&c, `SELECT coalesce(email, '') AS email, coalesce(phone, '') AS phone, email_status, sms_status
			FROM subscribers WHERE id = $1`, sub); err != nil {
			t.Fatal(err)
		}
		return c
	}
	enroll := func(r EnrollRequest) (int64, int64, error) {
		r.Program, r.Timezone = "basic", "Europe/London"
		if r.Pending {
			r.Source = "web"
		} else {
			r.Source = "operator"
		}
		return e.Enroll(ctx, r)
	}

	// A sign-up with a mistyped number, never confirmed; it ends.
	sub, first, err := enroll(EnrollRequest{Email: "kim@example.org", Phone: "+447700900111", Pending: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Unenroll(ctx, first, "left"); err != nil {
		t.Fatal(err)
	}
	// The operator enrolls Kim with her right number: that number is on
	// file and confirmed; the mistyped one is gone.
	if _, _, err := enroll(EnrollRequest{Email: "kim@example.org", Phone: "+447700900222"}); err != nil {
		t.Fatal(err)
	}
	if got, want := on(sub), (contact{"kim@example.org", "+447700900222", "confirmed", "confirmed"}); got != want {
		t.Fatalf("after the operator's enrollment: %+v, want %+v", got, want)
	}

	// Someone signs up with Kim's number and their own email: refused,
	// naming the phone, and Kim's record is unchanged.
	_, _, err = enroll(EnrollRequest{Program: "basic", Email: "other@example.org", Phone: "+447700900222", Pending: true})
	var ce *store.ContactError
	if !errors.As(err, &ce) || ce.Field != "phone" || ce.OnFile != "email" {
		t.Fatalf("sign-up with Kim's number and another email: %v, want a contact error on phone", err)
	}
	// A sign-up with Kim's email and another number: refused too.
	_, _, err = enroll(EnrollRequest{Email: "kim@example.org", Phone: "+447700900333", Pending: true})
	if !errors.As(err, &ce) || ce.Field != "phone" || ce.OnFile != "phone" {
		t.Fatalf("sign-up with Kim's email and another number: %v, want a contact error on phone", err)
	}
	if got, want := on(sub), (contact{"kim@example.org", "+447700900222", "confirmed", "confirmed"}); got != want {
		t.Fatalf("refused sign-ups changed Kim's record: %+v, want %+v", got, want)
	}

	// Lee signed up by email alone; adding a number later stores it,
	// waiting for its own confirmation, and keeps the email confirmed.
	lee, _, err := enroll(EnrollRequest{Email: "lee@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Unenroll(ctx, mustLive(t, e, lee), "left"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := enroll(EnrollRequest{Email: "lee@example.org", Phone: "+447700900444", Pending: true}); err != nil {
		t.Fatal(err)
	}
	if got, want := on(lee), (contact{"lee@example.org", "+447700900444", "confirmed", "pending"}); got != want {
		t.Fatalf("Lee adding a number: %+v, want %+v", got, want)
	}
}

// mustLive is the person's one running enrollment.
func mustLive(t *testing.T, e *Engine, sub int64) int64 {
	t.Helper()
	var id int64
	if err := e.Store.DB.Get(&id, `SELECT id FROM enrollments WHERE subscriber_id = $1 AND status IN ('pending', 'active', 'paused')`, sub); err != nil {
		t.Fatal(err)
	}
	return id
}
