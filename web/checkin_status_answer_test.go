package web

import (
	"net/url"
	"strings"
	"testing"
)

// An answer by email link to a paused or left program is recorded without
// steering it, and the page promises no next message it will not send.
func TestLinkAnswerToAPausedOrLeftProgramPromisesNoNextMessage(t *testing.T) {
	f := newFixture(t)
	_, paused := f.enroll("paused-answer@example.org", "+447700900241")
	leftSub, left := f.enroll("left-answer@example.org", "+447700900242")
	f.planUntil(utc("2026-06-07T18:30:00Z")) // the first mood check-in is open for both
	token := func(enr int64) string {
		var tok string
		if err := f.e.Store.DB.Get(&tok, `SELECT token FROM checkins WHERE enrollment_id = $1 AND step_key = 'mood'`, enr); err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if out := f.sms("+447700900241", "pause"); !strings.Contains(out, "Paused") {
		t.Fatalf("PAUSE: %s", out)
	}
	code, _ := f.do("POST", local(f.links.Manage(leftSub)), "application/x-www-form-urlencoded",
		url.Values{"enrollment": {itoa(left)}, "action": {"leave"}}.Encode())
	if code != 303 {
		t.Fatalf("leave from the manage page: %d", code)
	}

	for _, c := range []struct {
		who, token, want string
	}{
		{"paused", token(paused), "Your program is paused, so nothing is sent for now"},
		{"left", token(left), "You&#39;ve left this program, so we won&#39;t send you anything more from it"},
	} {
		code, page := f.do("POST", "/checkin/"+c.token, "application/x-www-form-urlencoded", "a=4")
		if code != 200 || !strings.Contains(page, "We&#39;ve noted your answer") || !strings.Contains(page, c.want) ||
			strings.Contains(page, "Your next message will arrive as planned") {
			t.Errorf("%s: answer by link: %d\n%s\nwant it noted, saying %q, promising no next message", c.who, code, page, c.want)
		}
	}
}
