package web

import (
	"strings"
	"testing"
	"time"
)

// Consent is recorded before any text goes out: the YES that confirms a
// sign-up's number is the evidence, kept once as a confirmed SMS consent
// with what was said, when, and how (by text). A second YES adds nothing.
func TestSMSYesIsRecordedAsConfirmedConsent(t *testing.T) {
	f := newFixture(t)
	code, out := api(f, `{"program":"basic","first_name":"Ann","email":"ann@example.org","phone":"07400 123456","timezone":"Europe/London","consent_email":true,"consent_sms":true}`)
	if code != 202 {
		t.Fatalf("sign-up: %d %s", code, out)
	}
	const phone = "+447400123456"
	if n := f.count(`SELECT count(*) FROM consents WHERE channel = 'sms' AND action = 'confirmed'`); n != 0 {
		t.Fatalf("before the YES: %d confirmed SMS consents, want none", n)
	}
	f.clk.Advance(3 * time.Minute)
	if out := f.sms(phone, "Yes"); !strings.Contains(out, "confirmed") {
		t.Fatalf("YES: %s", out)
	}
	var c []struct {
		Text    string    `db:"consent_text"`
		Source  string    `db:"source"`
		Created time.Time `db:"created_at"`
	}
	if err := f.e.Store.DB.Select(&c, `SELECT c.consent_text, c.source, c.created_at FROM consents c
		JOIN subscribers s ON s.id = c.subscriber_id
		WHERE s.phone = $1 AND c.channel = 'sms' AND c.action = 'confirmed'`, phone); err != nil {
		t.Fatal(err)
	}
	if len(c) != 1 {
		t.Fatalf("%d confirmed SMS consents after the YES, want exactly 1: %+v", len(c), c)
	}
	if c[0].Source != "sms" || c[0].Text != "Yes" || !c[0].Created.Equal(f.clk.Now()) {
		t.Fatalf("the YES was recorded as %+v; want source sms, the text as sent (Yes), at %s", c[0], f.clk.Now().UTC())
	}
	if n := f.count(`SELECT count(*) FROM subscribers WHERE phone = $1 AND sms_status = 'confirmed'`, phone); n != 1 {
		t.Fatal("the number is not confirmed after the YES")
	}

	f.clk.Advance(time.Minute)
	f.sms(phone, "YES")
	if n := f.count(`SELECT count(*) FROM consents WHERE channel = 'sms' AND action = 'confirmed'`); n != 1 {
		t.Fatalf("after a second YES: %d confirmed SMS consents, want still 1", n)
	}
}
