package web

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/internal/faketwilio"
	"github.com/rekindle/rekindle/scheduler"
)

// smsOptIn posts a text as Twilio does with Advanced Opt-Out on, when it
// has classified the text as an opt-in word (START, UNSTOP, YES).
func (f *fixture) smsOptIn(from, body string) string {
	f.t.Helper()
	sidN++
	form := url.Values{"MessageSid": {"SMoptin" + strings.Repeat("y", sidN%30) + from}, "From": {from}, "To": {"+15550100000"},
		"Body": {body}, "AccountSid": {"ACtest"}, "OptOutType": {"START"}}
	req, _ := http.NewRequest("POST", f.srv.URL+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", faketwilio.Sign(authToken, base+"/webhooks/twilio/sms", form))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		f.t.Fatalf("sms %q: status %d: %s", body, resp.StatusCode, b)
	}
	return string(b)
}

// Twilio counts YES as an opt-in word and marks it OptOutType=START. For a
// text-only sign-up, that YES is the confirmation the program waits for.
func TestYesMarkedAsOptInByTwilioConfirmsASignup(t *testing.T) {
	f := newFixture(t)
	code, out := api(f, `{"program":"basic","first_name":"Kit","phone":"07400 123457","timezone":"Europe/London","consent_sms":true}`)
	if code != 202 {
		t.Fatalf("sign-up: %d %s", code, out)
	}
	out = f.smsOptIn("+447400123457", "Yes")
	if !strings.Contains(out, "confirmed") {
		t.Errorf("reply to YES: %s; want the confirmation", out)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE status = 'active'`); n != 1 {
		t.Fatalf("%d active enrollments after YES, want 1", n)
	}
	if n := f.count(`SELECT count(*) FROM consents WHERE channel = 'sms' AND action = 'confirmed' AND source = 'sms'`); n != 1 {
		t.Fatalf("%d recorded sms confirmations, want 1", n)
	}
}

// YES from a number that texted STOP is Twilio's opt-in: Twilio texts it
// again, so rekindle must lift its own suppression too.
func TestYesAfterStopResubscribes(t *testing.T) {
	f := newFixture(t)
	sub, _ := f.enroll("yes@example.org", "+447700900204")
	f.sms("+447700900204", "STOP")
	if n := f.count(`SELECT count(*) FROM suppressions WHERE channel = 'sms'`); n != 1 {
		t.Fatalf("setup: %d sms suppressions after STOP", n)
	}
	for _, post := range []func(string, string) string{f.sms, f.smsOptIn} {
		post("+447700900204", "yes")
		if n := f.count(`SELECT count(*) FROM suppressions WHERE channel = 'sms'`); n != 0 {
			t.Fatalf("after YES the number is still suppressed")
		}
		if n := f.count(`SELECT count(*) FROM subscribers WHERE id = $1 AND sms_status = 'confirmed'`, sub); n != 1 {
			t.Fatal("after YES texts are not confirmed again")
		}
		f.sms("+447700900204", "STOP")
	}
}

// Someone who only gets texts and texts STOP leaves the program. START
// lets us text them again, but nothing would come: the reply says so, and
// how to start again, even when Twilio has already answered START itself.
func TestStartAfterTextOnlyStopSaysHowToRejoin(t *testing.T) {
	f := newFixture(t)
	_, enr, err := f.e.Enroll(context.Background(), scheduler.EnrollRequest{Program: "basic", FirstName: "Lee", Phone: "+447700900205", Timezone: "Europe/London", Source: "operator"})
	if err != nil {
		t.Fatal(err)
	}
	f.sms("+447700900205", "stop")
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'unenrolled'`, enr); n != 1 {
		t.Fatal("setup: a text-only STOP did not end the program")
	}
	for _, post := range []func(string, string) string{f.sms, f.smsOptIn} {
		out := post("+447700900205", "START")
		if strings.Contains(out, "resubscribed to") || !strings.Contains(out, "sign up again") || !strings.Contains(out, base+"/subscribe/basic") {
			t.Errorf("START with no program running: %s; want how to sign up again", out)
		}
		f.sms("+447700900205", "stop")
	}
}
