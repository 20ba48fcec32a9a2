package scheduler

import (
	"testing"
	"time"

	"github.com/rekindle/rekindle/clock"
)

// Email has no quiet hours unless they are configured; when they are, a
// late-evening email waits for the morning like a text, each channel by its
// own window: email here is quiet from 21:30 to 07:00, SMS from 21:00 to
// 08:00 (the default).
func TestConfiguredEmailQuietHoursDeferLateEmail(t *testing.T) {
	clk := clock.NewManual(utc("2026-06-10T10:00:00Z")) // noon in Berlin
	e := newEngine(t, clk)
	e.Cfg.EmailQuiet = Quiet{Start: 21*60 + 30, End: 7 * 60}
	id := mustEnroll(t, e, EnrollRequest{Program: "timing", Email: "eq@example.org", Phone: "+4915112345672", Timezone: "Europe/Berlin"})
	planUntil(t, e, clk, utc("2026-06-10T21:00:00Z"), 30*time.Minute)

	email, sms := stepOn(t, e, id, "late", "email"), stepOn(t, e, id, "late", "sms")
	if email == nil || sms == nil {
		t.Fatal("the 22:00 step was not planned on both channels")
	}
	if want := utc("2026-06-10T20:00:00Z"); !email.DueAt.Equal(want) {
		t.Fatalf("the step is due %s, want 22:00 in Berlin (%s)", email.DueAt.UTC(), want)
	}
	if want := utc("2026-06-11T05:00:00Z"); !email.NotBefore.Equal(want) {
		t.Errorf("the email goes at %s, want 07:00 next morning in Berlin (%s), when its quiet hours end", email.NotBefore.UTC(), want)
	}
	if want := utc("2026-06-11T06:00:00Z"); !sms.NotBefore.Equal(want) {
		t.Errorf("the SMS goes at %s, want 08:00 next morning in Berlin (%s), when its own quiet hours end", sms.NotBefore.UTC(), want)
	}
}
