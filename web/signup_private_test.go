package web

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/scheduler"
)

// A sign-up, which anyone can make, must not tell whether an address is
// already in the program, waiting for confirmation, opted out, or on file
// with other details: that would let anyone find out whether someone is in
// a breakup program. Six sign-ups, one per situation, get the same status
// and the same page (form) or body (API) as a sign-up with addresses never
// seen, but for the addresses typed. Only the owners hear anything: a new
// or waiting sign-up is sent its confirmation, the others nothing at all.
func TestSignupAnswersTheSameWhoeverIsOnFile(t *testing.T) {
	for _, via := range []string{"form", "api"} {
		t.Run(via, func(t *testing.T) {
			f := newConfirmingFixture(t)
			f.clk.Set(utc("2026-06-01T11:00:00Z")) // noon in London: no quiet hours
			ctx := context.Background()
			enroll := func(email, phone string, pending bool) int64 {
				t.Helper()
				_, enr, err := f.e.Enroll(ctx, scheduler.EnrollRequest{Program: "rekindle", FirstName: "Ola", Email: email, Phone: phone,
					Timezone: "Europe/London", Source: "operator", Pending: pending})
				if err != nil {
					t.Fatal(err)
				}
				return enr
			}
			enrolled := enroll("in@example.org", "+447911123461", false)
			waiting := enroll("waiting@example.org", "+447911123462", true)
			if err := f.e.PlanConfirmations(ctx, waiting, f.links.Confirm(waiting, 48*time.Hour)); err != nil {
				t.Fatal(err)
			}
			gone := enroll("gone@example.org", "+447911123463", false)
			goneSub, err := f.e.Store.FindSubscriber(ctx, nil, "gone@example.org", "")
			if err != nil {
				t.Fatal(err)
			}
			if err := f.e.OptOut(ctx, goneSub, "email", "link", "", ""); err != nil {
				t.Fatal(err)
			}
			stopped := enroll("stopped@example.org", "+447911123464", false)
			if out := f.sms("+447911123464", "STOP"); !strings.Contains(out, "unsubscribed") {
				t.Fatalf("setup: STOP: %s", out)
			}
			other := enroll("other@example.org", "+447911123465", false)
			f.clk.Advance(scheduler.ConfirmResendGap) // the waiting sign-up may be asked again

			confirmations := func(enr int64) int {
				return f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND kind = 'confirm'`, enr)
			}
			cases := []struct {
				name, email, phone string
				enr                int64 // 0: a new person
				sends              bool  // whether the owner is sent a confirmation
			}{
				{"never seen", "new@example.org", "+447911123466", 0, true},
				{"in the program", "in@example.org", "+447911123461", enrolled, false},
				{"waiting for confirmation", "waiting@example.org", "+447911123462", waiting, true},
				{"email opted out", "gone@example.org", "+447911123463", gone, false},
				{"number texted STOP", "stopped@example.org", "+447911123464", stopped, false},
				{"number on file with another email", "someone@example.org", "+447911123465", other, false},
			}
			var want string
			wantCode := 0
			for _, c := range cases {
				before := 0
				if c.enr != 0 {
					before = confirmations(c.enr)
				}
				var code int
				var body string
				if via == "form" {
					code, body = f.signupForm("rekindle", url.Values{"first_name": {"Ola"}, "email": {c.email}, "phone": {c.phone},
						"timezone": {"Europe/London"}, "consent_email": {"yes"}, "consent_sms": {"yes"}})
				} else {
					code, body = api(f, `{"program":"rekindle","first_name":"Ola","email":"`+c.email+`","phone":"`+c.phone+`","timezone":"Europe/London","consent_email":true,"consent_sms":true}`)
				}
				// html/template writes the phone's "+" as "&#43;".
				body = strings.NewReplacer(c.email, "EMAIL", c.phone, "PHONE", "&#43;"+c.phone[1:], "PHONE").Replace(body)
				if wantCode == 0 {
					want, wantCode = body, code
					if via == "form" && (code != 200 || !strings.Contains(body, "Thank you: please check your messages")) ||
						via == "api" && (code != 202 || body != received) {
						t.Fatalf("%s: %d\n%s", c.name, code, body)
					}
				} else if code != wantCode || body != want {
					t.Errorf("%s: %d\n%s\nwant what a new sign-up gets: %d\n%s", c.name, code, visible(body), wantCode, visible(want))
				}
				// What the answers said before they were made the same.
				for _, leak := range []string{"You're already signed up", "already in Rekindle. We've sent", "unsubscribed from our emails earlier",
					"asked us to stop texting it, so", "signed up with a different", "Please confirm your email address"} {
					if strings.Contains(visible(body), leak) {
						t.Errorf("%s: the answer says %q:\n%s", c.name, leak, visible(body))
					}
				}
				if c.enr == 0 {
					continue
				}
				if got := confirmations(c.enr) - before; c.sends && got == 0 {
					t.Errorf("%s: no confirmation sent to the owner", c.name)
				} else if !c.sends && got != 0 {
					t.Errorf("%s: %d confirmations sent; want none", c.name, got)
				}
			}
			if n := f.count(`SELECT count(*) FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id WHERE s.email = 'new@example.org' AND d.kind = 'confirm'`); n != 2 {
				t.Errorf("the new sign-up was sent %d confirmations, want an email and a text", n)
			}
			if n := f.count(`SELECT count(*) FROM subscribers WHERE email = 'someone@example.org' OR email = 'other@example.org' AND phone <> '+447911123465'`); n != 0 {
				t.Error("the clashing sign-up changed who the number belongs to")
			}
		})
	}
}
