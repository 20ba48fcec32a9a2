package web

import (
	"context"
	"testing"

	"github.com/rekindle/rekindle/internal/faketwilio"
	"github.com/rekindle/rekindle/scheduler"
)

// Twilio's 21610 means the person texted STOP and Twilio blocks their
// number: when rekindle missed that STOP, the report is how it learns of
// it. The person is then opted out as if the STOP had reached us: texts
// revoked and recorded, and a program with no channel left ends. Someone
// who also gets email keeps their program.
func TestProvider21610OptsThePersonOut(t *testing.T) {
	for _, path := range []string{"status callback", "send"} {
		t.Run(path, func(t *testing.T) {
			f := newStatusFixture(t)
			ctx := context.Background()
			textOnly, textEnr, err := f.e.Enroll(ctx, scheduler.EnrollRequest{Program: "basic", FirstName: "Ren", Phone: "+447700900306", Timezone: "Europe/London", Source: "operator"})
			if err != nil {
				t.Fatal(err)
			}
			both, bothEnr := f.enroll("both@example.org", "+447700900307")
			if path == "send" {
				f.tw.InjectTo("+447700900306", 1, faketwilio.Fault{Status: 400, Code: 21610})
				f.tw.InjectTo("+447700900307", 1, faketwilio.Fault{Status: 400, Code: 21610})
				f.planUntil(utc("2026-06-01T07:30:00Z"))
				if _, err := f.sm.DispatchOnce(ctx); err != nil {
					t.Fatal(err)
				}
			} else {
				sent := f.sendWelcomes()
				f.callback(sent["+447700900306"], "failed", "21610")
				f.callback(sent["+447700900307"], "failed", "21610")
			}
			for _, p := range []struct {
				sub, enr   int64
				enrollment string
			}{{textOnly, textEnr, "unenrolled"}, {both, bothEnr, "active"}} {
				if n := f.count(`SELECT count(*) FROM subscribers WHERE id = $1 AND sms_status = 'revoked'`, p.sub); n != 1 {
					t.Errorf("person %d: texts not revoked after 21610", p.sub)
				}
				if n := f.count(`SELECT count(*) FROM consents WHERE subscriber_id = $1 AND channel = 'sms' AND action = 'revoked' AND source = 'provider'`, p.sub); n != 1 {
					t.Errorf("person %d: %d recorded revocations, want 1", p.sub, n)
				}
				if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = $2`, p.enr, p.enrollment); n != 1 {
					t.Errorf("person %d: enrollment not %s", p.sub, p.enrollment)
				}
			}
			if n := f.count(`SELECT count(*) FROM subscribers WHERE id = $1 AND email_status = 'confirmed'`, both); n != 1 {
				t.Error("a 21610 touched the person's email")
			}
		})
	}
}
