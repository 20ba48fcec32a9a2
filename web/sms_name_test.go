package web

import (
	"context"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/smsseg"
)

// The welcome text Twilio is handed for Zoë, the one her phone will show,
// is GSM-7 and the same as Zoe's: "Zoe" stands in for a name GSM-7 cannot
// send as written, rather than the whole text going as UCS-2.
func TestWelcomeTextToZoeWithDiaeresisIsGSM7(t *testing.T) {
	f := newStatusFixture(t)
	for _, p := range []struct{ name, email, phone string }{{"Zoë", "zoe1@example.org", "+447700900215"}, {"Zoe", "zoe2@example.org", "+447700900216"}} {
		if _, _, err := f.e.Enroll(context.Background(), scheduler.EnrollRequest{Program: "basic", FirstName: p.name, Email: p.email, Phone: p.phone, Timezone: "Europe/London", Source: "operator"}); err != nil {
			t.Fatal(err)
		}
	}
	f.sendWelcomes()
	sent := map[string]string{}
	for _, m := range f.tw.Messages() {
		sent[m.To] = m.Body
	}
	zoe, plain := sent["+447700900215"], sent["+447700900216"]
	if !strings.Contains(zoe, "Zoe") {
		t.Fatalf("welcome text to Zoë: %q; the test wants one that names her", zoe)
	}
	got, want := smsseg.Count(zoe), smsseg.Count(plain)
	if got.Encoding != smsseg.GSM7 || got.Segments != want.Segments || zoe != plain {
		t.Errorf("welcome text to Zoë: %q (%s, %d segments); to Zoe: %q (%s, %d)", zoe, got.Encoding, got.Segments, plain, want.Encoding, want.Segments)
	}
}
