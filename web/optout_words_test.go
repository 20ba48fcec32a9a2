package web

import (
	"fmt"
	"strings"
	"testing"
)

// Every CTIA opt-out word, spelled out here rather than read from the
// implementation's list, in upper case, lower case and with the spaces and
// line breaks a phone may add: texted through the signed webhook from an
// enrolled number, it suppresses the number at once and cancels the texts
// queued to it. A person who texted nothing keeps theirs.
func TestEveryCTIAOptOutWordSuppressesTheNumber(t *testing.T) {
	spellings := []string{
		"STOP", "stop", "  Stop\n",
		"STOPALL", "stopall", " StopAll ",
		"UNSUBSCRIBE", "unsubscribe", "\tUnsubscribe ",
		"CANCEL", "cancel", " Cancel\r\n",
		"END", "end", "  End  ",
		"QUIT", "quit", "\nQuit",
		"REVOKE", "revoke", " Revoke\t",
		"OPTOUT", "optout", "  OptOut\n",
	}
	f := newFixture(t)
	phoneOf := func(i int) string { return fmt.Sprintf("+447700900%03d", 300+i) }
	var enrollments []int64
	for i := range spellings {
		_, enr := f.enroll(fmt.Sprintf("optout%d@example.org", i), phoneOf(i))
		enrollments = append(enrollments, enr)
	}
	const stays = "+447700900399"
	_, staysEnr := f.enroll("stays@example.org", stays)
	f.planUntil(utc("2026-06-01T07:30:00Z")) // the welcome, by email and by text, for everyone
	queuedSMS := `SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND channel = 'sms' AND status = 'queued'`
	for i, enr := range append(enrollments, staysEnr) {
		if f.count(queuedSMS, enr) == 0 {
			t.Fatalf("setup: no text queued for person %d", i)
		}
	}

	for i, body := range spellings {
		phone := phoneOf(i)
		if out := f.sms(phone, body); !strings.Contains(out, "unsubscribed") {
			t.Errorf("%q: reply %s, want the unsubscribe confirmation", body, out)
		}
		if n := f.count(`SELECT count(*) FROM suppressions WHERE channel = 'sms' AND address = $1`, phone); n != 1 {
			t.Errorf("%q: %d SMS suppressions for the number, want 1", body, n)
		}
		if n := f.count(queuedSMS, enrollments[i]); n != 0 {
			t.Errorf("%q: %d texts still queued to the number, want them cancelled", body, n)
		}
		if n := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND channel = 'sms' AND status = 'cancelled'`, enrollments[i]); n == 0 {
			t.Errorf("%q: no text to the number was cancelled", body)
		}
		if n := f.count(`SELECT count(*) FROM subscribers WHERE phone = $1 AND sms_status = 'revoked'`, phone); n != 1 {
			t.Errorf("%q: the number's SMS consent is not revoked", body)
		}
	}
	if n := f.count(`SELECT count(*) FROM suppressions WHERE address = $1`, stays); n != 0 {
		t.Errorf("the number that texted nothing was suppressed")
	}
	if n := f.count(queuedSMS, staysEnr); n == 0 {
		t.Errorf("the texts queued to the number that texted nothing were cancelled")
	}
}
