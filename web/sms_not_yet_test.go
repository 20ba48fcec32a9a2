package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/smsseg"
)

// "Not yet" texted to the readiness question holds the next phase. The
// program's note saying so goes on one channel: by email to someone who
// has email, so their text reply says the gist (how long the next phase
// waits, that we'll ask again); by text to someone with texts only, where
// that note says it, and the reply need not.
func TestNotYetByTextSaysWhatHappens(t *testing.T) {
	f := newConfirmingFixture(t)
	enroll := func(email, phone string) int64 {
		t.Helper()
		_, enr, err := f.e.Enroll(context.Background(), scheduler.EnrollRequest{Program: "rekindle", FirstName: "Sam", Email: email, Phone: phone, Timezone: "Europe/London", Source: "operator"})
		if err != nil {
			t.Fatal(err)
		}
		return enr
	}
	both := enroll("notyet@example.org", "+447700900251")
	textsOnly := enroll("", "+447700900252")
	f.planUntil(f.clk.Now().Add(20*24*time.Hour + 15*time.Hour)) // day 20, 20:00 in London: the readiness question is out

	out := twimlMessage(t, f.sms("+447700900251", "not yet"))
	if !strings.Contains(out, "hold the next phase for 7 more days") || !strings.Contains(out, "ask how you feel again") {
		t.Errorf("email and texts, \"not yet\" by text: %q, want it to say the next phase waits 7 more days and we'll ask again", out)
	}
	if seg := smsseg.Count(out); seg.Encoding != smsseg.GSM7 || seg.Segments > 2 {
		t.Errorf("the reply %q is %+v; want at most two GSM-7 segments", out, seg)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND step_key LIKE 'healing-extension%' AND channel = 'email'`, both); n != 1 {
		t.Errorf("email and texts: %d healing-extension emails, want the note by email", n)
	}

	out = twimlMessage(t, f.sms("+447700900252", "not yet"))
	if out != "Thanks for letting us know." {
		t.Errorf("texts only, \"not yet\": %q", out)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND step_key LIKE 'healing-extension%' AND channel = 'sms'`, textsOnly); n != 1 {
		t.Errorf("texts only: %d healing-extension texts, want the note by text", n)
	}
	comp, _, _ := f.e.Current("rekindle")
	if note := comp.Program.Content[comp.Program.Step("healing-extension").ContentRef].SMS; !strings.Contains(note, "hold the next phase for a week") || !strings.Contains(note, "check in with you again") {
		t.Errorf("the healing-extension text %q does not say what the extra week is", note)
	}
}

// A third "not yet", with no extra time left, is told by text that the next
// phase goes ahead and how to take a break, when the program's note saying
// so goes by email.
func TestThirdNotYetByTextSaysTheNextPhaseGoesAhead(t *testing.T) {
	f := newConfirmingFixture(t)
	if _, _, err := f.e.Enroll(context.Background(), scheduler.EnrollRequest{Program: "rekindle", FirstName: "Sam",
		Email: "third@example.org", Phone: "+447700900253", Timezone: "Europe/London", Source: "operator"}); err != nil {
		t.Fatal(err)
	}
	start := f.clk.Now()
	var out string
	for week := 0; week < 3; week++ {
		// Day 20, 27 and 34 at 20:00 in London: the question (asked again
		// a week later each time) is out.
		f.planUntil(start.Add(time.Duration(20+7*week)*24*time.Hour + 15*time.Hour))
		out = twimlMessage(t, f.sms("+447700900253", "not yet"))
	}
	if !strings.Contains(out, "next phase goes ahead") || !strings.Contains(out, "PAUSE") {
		t.Errorf("third \"not yet\" by text: %q, want it to say the next phase goes ahead and how to pause", out)
	}
	if seg := smsseg.Count(out); seg.Encoding != smsseg.GSM7 || seg.Segments > 2 {
		t.Errorf("the reply %q is %+v; want at most two GSM-7 segments", out, seg)
	}
}
