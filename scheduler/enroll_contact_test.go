package scheduler

import (
	"context"
	"errors"
	"testing"

	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/store"
)

// A returning person's addresses: the operator may add or replace one (and
// only the new one is confirmed); a sign-up, which may be anyone's, never
// adds, replaces or takes over an address on file.
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

	// Lee signed up by email alone. A sign-up with his email and a number
	// is refused: whoever typed the number would answer its confirmation
	// and start Lee's program. The operator may add it.
	lee, _, err := enroll(EnrollRequest{Email: "lee@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.Unenroll(ctx, mustLive(t, e, lee), "left"); err != nil {
		t.Fatal(err)
	}
	_, _, err = enroll(EnrollRequest{Email: "lee@example.org", Phone: "+447700900444", Pending: true})
	if !errors.As(err, &ce) || ce.Field != "phone" || ce.OnFile != "phone" {
		t.Fatalf("sign-up adding a number to Lee: %v, want a contact error on phone", err)
	}
	if got, want := on(lee), (contact{"lee@example.org", "", "confirmed", "none"}); got != want {
		t.Fatalf("the refused sign-up changed Lee's record: %+v, want %+v", got, want)
	}
	// Mo is on file by number alone; a sign-up with that number and an
	// email is refused the same way.
	mo, _, err := enroll(EnrollRequest{Phone: "+447700900555"})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = enroll(EnrollRequest{Email: "someone@example.org", Phone: "+447700900555", Pending: true})
	if !errors.As(err, &ce) || ce.Field != "phone" || ce.OnFile != "email" {
		t.Fatalf("sign-up adding an email to Mo: %v, want a contact error on phone", err)
	}
	if got, want := on(mo), (contact{"", "+447700900555", "none", "confirmed"}); got != want {
		t.Fatalf("the refused sign-up changed Mo's record: %+v, want %+v", got, want)
	}
	// The operator adds Lee's number: stored and confirmed.
	if _, _, err := enroll(EnrollRequest{Email: "lee@example.org", Phone: "+447700900444"}); err != nil {
		t.Fatal(err)
	}
	if got, want := on(lee), (contact{"lee@example.org", "+447700900444", "confirmed", "confirmed"}); got != want {
		t.Fatalf("the operator adding Lee's number: %+v, want %+v", got, want)
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
