package scheduler

import (
	"context"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/clock"
)

// confirmationEmail plans the confirmation a sign-up by email gets and
// returns its plain-text and HTML parts.
func confirmationEmail(t *testing.T, e *Engine, email, confirmURL string) (text, html string) {
	t.Helper()
	id := mustEnroll(t, e, EnrollRequest{Program: "rekindle", FirstName: "Ana", Email: email,
		Timezone: "Europe/London", Pending: true, Source: "web"})
	if err := e.PlanConfirmations(context.Background(), id, confirmURL); err != nil {
		t.Fatal(err)
	}
	var b struct {
		Text string `db:"body_text"`
		HTML string `db:"body_html"`
	}
	dbGet(t, e.Store.DB, &b, `SELECT body_text, body_html FROM deliveries WHERE enrollment_id = $1 AND channel = 'email'`, id)
	return b.Text, b.HTML
}

// The confirmation email goes both to a new sign-up and to someone already
// in the program by text who gave their email again: what it says about
// what waits for the confirmation must be true for both. Texts go on for
// the second, so it speaks of emails only.
func TestConfirmationEmailPromisesOnlyAboutEmails(t *testing.T) {
	e := shippedEngine(t, clock.NewManual(utc("2026-06-01T10:00:00Z")))
	text, _ := confirmationEmail(t, e, "ana@example.org", "https://rekindle.test/confirm/x")
	flat := strings.Join(strings.Fields(text), " ")
	if strings.Contains(flat, "anything else") || !strings.Contains(flat, "We won't send you any emails until you do.") {
		t.Errorf("the confirmation email, want it to say no emails come until they confirm, and no more than that:\n%s", text)
	}
}

// The confirm address shows once in the plain-text part (the link's own
// line, "Confirm my sign-up (address)"), not again on a line of its own: a
// long signed address twice over reads as two different links. The HTML
// part links it.
func TestConfirmationEmailGivesTheAddressOnce(t *testing.T) {
	e := shippedEngine(t, clock.NewManual(utc("2026-06-01T10:00:00Z")))
	const url = "https://rekindle.test/confirm/e1.once.abcdefghijklmnop"
	text, html := confirmationEmail(t, e, "once@example.org", url)
	if n := strings.Count(text, url); n != 1 || !strings.Contains(text, "Confirm my sign-up ("+url+")") {
		t.Errorf("the plain-text part gives the confirm address %d times, want once, with its link:\n%s", n, text)
	}
	if !strings.Contains(html, `href="`+url+`"`) {
		t.Errorf("the HTML part does not link the confirm address:\n%s", html)
	}
}
