package web

import (
	"strings"
	"testing"
	"time"
)

// After unsubscribing from one channel by link, a person who also gets the
// other is told how to leave that one too.
func TestUnsubscribePageSaysHowToLeaveTheOtherChannel(t *testing.T) {
	f := newFixture(t)
	sub, _ := f.enroll("both@example.org", "+447700900303")
	code, page := f.do("POST", local(f.links.Unsubscribe(sub, "email")), "", "")
	if code != 200 || !strings.Contains(page, "We won&#39;t send you any more emails.") ||
		!strings.Contains(page, "reply STOP to any text from us") {
		t.Fatalf("email unsubscribe: %d\n%s", code, mainOf(page))
	}

	sub, _ = f.enroll("both2@example.org", "+447700900304")
	code, page = f.do("POST", local(f.links.Unsubscribe(sub, "sms")), "", "")
	if code != 200 || !strings.Contains(page, "We won&#39;t send you any more text messages.") ||
		!strings.Contains(page, "use the unsubscribe link at the bottom of any email from us") {
		t.Fatalf("text unsubscribe: %d\n%s", code, mainOf(page))
	}

	// With nothing left, there is nothing more to leave.
	code, page = f.do("POST", local(f.links.Unsubscribe(sub, "email")), "", "")
	if code != 200 || strings.Contains(page, "STOP") || strings.Contains(page, "unsubscribe link") {
		t.Fatalf("last channel: %d\n%s", code, mainOf(page))
	}
}

// A channel the person never confirmed is not one they get messages on:
// leaving the other is not answered with "This doesn't change your texts"
// (or emails), as if those went on.
func TestLeavingOneChannelSaysNothingOfAnUnconfirmedOther(t *testing.T) {
	f := newFixture(t)
	signup := func(email, phone string) (sub, enr int64) {
		t.Helper()
		code, out := api(f, `{"program":"basic","first_name":"Jo","email":"`+email+`","phone":"`+phone+`","timezone":"Europe/London","consent_email":true,"consent_sms":true}`)
		if code != 202 {
			t.Fatalf("sign-up %s: %d %s", email, code, out)
		}
		if err := f.e.Store.DB.QueryRow(`SELECT s.id, e.id FROM subscribers s JOIN enrollments e ON e.subscriber_id = s.id WHERE s.email = $1`, email).Scan(&sub, &enr); err != nil {
			t.Fatal(err)
		}
		return sub, enr
	}
	statuses := func(sub int64, email, sms string) {
		t.Helper()
		if n := f.count(`SELECT count(*) FROM subscribers WHERE id = $1 AND email_status = $2 AND sms_status = $3`, sub, email, sms); n != 1 {
			t.Fatalf("setup: subscriber %d is not email %s, sms %s", sub, email, sms)
		}
	}

	// Confirmed by the email link; the texts still wait for YES.
	sub, enr := signup("email-only@example.org", "07400 123461")
	if code, page := f.do("POST", local(f.links.Confirm(enr, 48*time.Hour)), "", ""); code != 200 {
		t.Fatalf("confirm: %d\n%s", code, mainOf(page))
	}
	statuses(sub, "confirmed", "pending")
	code, page := f.do("POST", local(f.links.Unsubscribe(sub, "email")), "", "")
	if code != 200 || !strings.Contains(page, "We won&#39;t send you any more emails.") ||
		strings.Contains(page, "texts") || strings.Contains(page, "STOP") {
		t.Errorf("email unsubscribe with texts never confirmed: %d\n%s", code, mainOf(page))
	}

	// Confirmed by YES; the emails still wait for the link.
	sub, _ = signup("text-only@example.org", "07400 123462")
	if out := f.sms("+447400123462", "YES"); !strings.Contains(out, "confirmed") {
		t.Fatalf("YES: %s", out)
	}
	statuses(sub, "pending", "confirmed")
	code, page = f.do("POST", local(f.links.Unsubscribe(sub, "sms")), "", "")
	if code != 200 || !strings.Contains(page, "We won&#39;t send you any more text messages.") ||
		strings.Contains(page, "emails") || strings.Contains(page, "unsubscribe link") {
		t.Errorf("text unsubscribe with emails never confirmed: %d\n%s", code, mainOf(page))
	}

	sub, _ = signup("text-stop@example.org", "07400 123463")
	f.sms("+447400123463", "YES")
	statuses(sub, "pending", "confirmed")
	if out := f.sms("+447400123463", "STOP"); !strings.Contains(out, "unsubscribed") || strings.Contains(out, "email") {
		t.Errorf("STOP with emails never confirmed: %s; want no word of email lessons", out)
	}
}
