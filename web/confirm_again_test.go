package web

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/scheduler"
)

// A confirm link opened by someone already in the program says where they
// stand. One who unsubscribed from email and goes on by text is told that,
// not that messages are on their way (which read as emails); and the page
// before the button, when only their email waits (they signed up again
// after an opt-out was lifted), does not promise a "first message" to
// someone already getting them.
func TestConfirmLinkForSomeoneInTheProgramSaysWhereTheyStand(t *testing.T) {
	f := newConfirmingFixture(t)
	ctx := context.Background()
	enroll := func(email, phone string) (int64, int64) {
		t.Helper()
		_, enr, err := f.e.Enroll(ctx, scheduler.EnrollRequest{Program: "rekindle", FirstName: "Bea", Email: email,
			Phone: phone, Timezone: "Europe/London", Source: "operator"})
		if err != nil {
			t.Fatal(err)
		}
		sub, err := f.e.Store.FindSubscriber(ctx, nil, email, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := f.e.OptOut(ctx, sub, "email", "link", "", ""); err != nil {
			t.Fatal(err)
		}
		return sub.ID, enr
	}

	// Email unsubscribed, texts go on: the link, pressed again.
	_, enr := enroll("textonly@example.org", "+447911123461")
	code, page := f.do("POST", local(f.links.Confirm(enr, 48*time.Hour)), "", "")
	if code != 200 || !strings.Contains(page, "You unsubscribed from our emails, so we won&#39;t send you any. Your program goes on by text only.") ||
		strings.Contains(page, "on their way") || strings.Contains(page, "on its way") {
		t.Errorf("confirm link of a texts-only person: %d, want it to say the program goes on by text only:\n%s", code, page)
	}
	if n := f.count(`SELECT count(*) FROM subscribers WHERE email = 'textonly@example.org' AND email_status = 'revoked'`); n != 1 {
		t.Error("the confirm link undid an email opt-out")
	}

	// Email opt-out lifted and signed up again: only the email waits.
	sub, enr := enroll("again@example.org", "+447911123462")
	if _, err := f.e.Store.LiftEmailOptOut(ctx, f.clk.Now(), "again@example.org", "email to support"); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"first_name": {"Bea"}, "email": {"again@example.org"}, "phone": {"+447911123462"},
		"timezone": {"Europe/London"}, "consent_email": {"yes"}, "consent_sms": {"yes"}}
	if code, page := f.signupForm("rekindle", form); code != 200 {
		t.Fatalf("sign-up again: %d\n%s", code, page)
	}
	if n := f.count(`SELECT count(*) FROM subscribers WHERE id = $1 AND email_status = 'pending'`, sub); n != 1 {
		t.Fatal("the email is not waiting for confirmation")
	}
	code, page = f.do("GET", local(f.links.Confirm(enr, 48*time.Hour)), "", "")
	if code != 200 || !strings.Contains(page, "Press the button to confirm this email address, and your messages will come by email too.") ||
		strings.Contains(page, "first message") {
		t.Errorf("confirm page of someone in the program: %d, want no first message promised:\n%s", code, page)
	}

	// A new sign-up's page still promises the first message.
	code, out := api(f, `{"program":"rekindle","first_name":"Cy","email":"new@example.org","timezone":"Europe/London","consent_email":true}`)
	if code != 202 {
		t.Fatalf("sign-up: %d %s", code, out)
	}
	var pending int64
	if err := f.e.Store.DB.Get(&pending, `SELECT e.id FROM enrollments e JOIN subscribers s ON s.id = e.subscriber_id WHERE s.email = 'new@example.org'`); err != nil {
		t.Fatal(err)
	}
	code, page = f.do("GET", local(f.links.Confirm(pending, 48*time.Hour)), "", "")
	if code != 200 || !strings.Contains(page, "your first message will be on its way") {
		t.Errorf("confirm page of a new sign-up: %d\n%s", code, page)
	}
}
