package web

import (
	"strings"
	"testing"
)

// People answer a question with a question mark as often as without:
// "Ready?" to the readiness check-in is the answer "ready", as "Ready" and
// "Ready!" are, and is thanked and recorded as such.
func TestReplyWithQuestionMarkAnswersTheCheckin(t *testing.T) {
	f := newFixture(t)
	bodies := []string{"Ready?", " not yet?? ", "2?"}
	want := []string{"ready", "not-ready", "not-ready"}
	phone := func(i int) string { return "+44770090022" + string(rune('0'+i)) }
	var enrollments []int64
	for i := range bodies {
		_, enr := f.enroll("qmark"+string(rune('0'+i))+"@example.org", phone(i))
		enrollments = append(enrollments, enr)
	}
	f.planUntil(utc("2026-06-05T18:30:00Z")) // the readiness check-in is open
	for i, body := range bodies {
		out := twimlMessage(t, f.sms(phone(i), body))
		if !strings.HasPrefix(out, "Thanks for letting us know") {
			t.Errorf("%q to the readiness check-in: reply %q, want it taken as an answer", body, out)
		}
		if n := f.count(`SELECT count(*) FROM checkins WHERE enrollment_id = $1 AND step_key = 'ready' AND answer = $2`, enrollments[i], want[i]); n != 1 {
			t.Errorf("%q was not recorded as %q", body, want[i])
		}
	}
}

// "Y" is how many people write yes: to the sign-up's confirmation text it
// confirms, as YES does.
func TestYConfirmsASignupAsYesDoes(t *testing.T) {
	f := newFixture(t)
	for i, body := range []string{"Y", " y. "} {
		phone := "07400 12346" + string(rune('0'+i))
		code, out := api(f, `{"program":"basic","first_name":"Kit","phone":"`+phone+`","timezone":"Europe/London","consent_sms":true}`)
		if code != 202 {
			t.Fatalf("sign-up: %d %s", code, out)
		}
		e164 := "+4474001234" + "6" + string(rune('0'+i))
		if reply := twimlMessage(t, f.sms(e164, body)); !strings.Contains(reply, "you're confirmed") {
			t.Errorf("%q to the confirmation text: %q, want the confirmation", body, reply)
		}
		if n := f.count(`SELECT count(*) FROM enrollments e JOIN subscribers s ON s.id = e.subscriber_id WHERE s.phone = $1 AND e.status = 'active' AND s.sms_status = 'confirmed'`, e164); n != 1 {
			t.Errorf("%q did not confirm the sign-up", body)
		}
	}
}
