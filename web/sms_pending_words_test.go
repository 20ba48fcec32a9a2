package web

import (
	"context"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/smsseg"
)

// PAUSE or RESUME from someone whose sign-up still waits for their YES
// finds nothing running, and the reply says what would start it, rather
// than "You're all set" (nothing has started) or a bare "nothing to
// pause". Each reply is one GSM-7 segment.
func TestPauseAndResumeBeforeYesSayWhatStartsIt(t *testing.T) {
	f := newFixture(t)
	const phone = "+447700900247"
	if _, _, err := f.e.Enroll(context.Background(), scheduler.EnrollRequest{Program: "basic", FirstName: "Ola", Phone: phone,
		Timezone: "Europe/London", Source: "web", Pending: true}); err != nil {
		t.Fatal(err)
	}
	for _, body := range []string{"PAUSE", "RESUME"} {
		out := twimlMessage(t, f.sms(phone, body))
		if !strings.Contains(out, "Your sign-up waits for you to confirm it: reply YES to start") || strings.Contains(out, "all set") {
			t.Errorf("%s before YES: %q, want it to say YES starts the sign-up", body, out)
		}
		if seg := smsseg.Count(out); seg.Encoding != smsseg.GSM7 || seg.Segments != 1 {
			t.Errorf("the reply %q is %+v; want one GSM-7 segment", out, seg)
		}
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE status = 'pending'`); n != 1 {
		t.Error("PAUSE or RESUME changed a sign-up waiting for YES")
	}
}
