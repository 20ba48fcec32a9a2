package web

import (
	"strings"
	"testing"

	"github.com/rekindle/rekindle/smsseg"
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

// A reply that is not one of the check-in's answers is told the answers
// this check-in takes: "4" to the readiness question (1 to 3) is told 1, 2
// or 3, not "1-5", and a text to the mood question (1 to 5) is told so.
func TestOutOfRangeAnswerIsToldThisCheckinsAnswers(t *testing.T) {
	f := newFixture(t)
	const phone = "+447700900229"
	f.enroll("range@example.org", phone)
	f.planUntil(utc("2026-06-05T18:30:00Z")) // the readiness check-in (1-3) is open
	out := twimlMessage(t, f.sms(phone, "4"))
	if !strings.Contains(out, "To answer the check-in, reply 1, 2 or 3.") || strings.Contains(out, "5") {
		t.Errorf("4 to the readiness check-in: %q, want the answers 1, 2 or 3", out)
	}
	if n := f.count(`SELECT count(*) FROM checkins WHERE answer IS NOT NULL`); n != 0 {
		t.Errorf("an answer out of range was recorded")
	}
	f.planUntil(utc("2026-06-07T18:30:00Z")) // Sunday: the mood check-in (1-5)
	out = twimlMessage(t, f.sms(phone, "6"))
	if !strings.Contains(out, "To answer the check-in, reply a number from 1 to 5.") {
		t.Errorf("6 to the mood check-in: %q, want a number from 1 to 5", out)
	}
	if seg := smsseg.Count(out); seg.Encoding != smsseg.GSM7 || seg.Segments != 1 {
		t.Errorf("the hint %q is %+v; want one GSM-7 segment", out, seg)
	}
}
