package scheduler

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/render"
	"github.com/rekindle/rekindle/templates"
	"github.com/rekindle/rekindle/token"
)

// eyebrowOf is the line under the subject of a plain-text email in the
// shipped layout ("Rekindle - Healing - Week 1"), and the eyebrow paragraph
// of its HTML.
func eyebrowOf(t *testing.T, text, html string) (string, string) {
	t.Helper()
	lines := strings.SplitN(text, "\n", 3)
	if len(lines) < 3 {
		t.Fatalf("a plain-text email too short for an eyebrow:\n%s", text)
	}
	i := strings.Index(html, `<p class="eyebrow">`)
	j := strings.Index(html[max(i, 0):], "</p>")
	if i < 0 || j < 0 {
		t.Fatalf("an HTML email without its eyebrow:\n%s", html)
	}
	return lines[1], html[i+len(`<p class="eyebrow">`) : i+j]
}

// shippedEngine runs the shipped program through the shipped layouts, so
// that a test reads an email as its reader does.
func shippedEngine(t *testing.T, clk *clock.Manual) *Engine {
	t.Helper()
	st, _ := testdb.Store(t)
	p, err := programs.Load(programs.Embedded(), "rekindle")
	if err != nil {
		t.Fatal(err)
	}
	r, err := render.New(templates.FS, render.Config{SMSBrand: "Rekindle"})
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := token.NewSigner("test-secret-key-0123456789")
	links := &token.Links{Base: "https://rekindle.test", Signer: signer, Now: clk.Now}
	e := New(st, clk, quietLog(), Config{SMSQuiet: DefaultSMSQuiet}, r, links)
	if err := e.LoadPrograms(context.Background(), map[string]*programs.Program{"rekindle": p}); err != nil {
		t.Fatal(err)
	}
	return e
}

// The eyebrow over each email says where in the program it stands, and
// must be true: a lesson of the main calendar names its phase and week; the
// confirmation email (which someone well into the program by text may get
// too) is no week of it; a lesson of the moving-on track, which someone
// enters mid-program and whose days run past the eight weeks, names no week
// of the eight; a note sent on demand (a branch's reply to an answer) names
// neither.
func TestEmailEyebrowSaysOnlyWhatIsTrue(t *testing.T) {
	ctx := context.Background()
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z")) // Monday
	e := shippedEngine(t, clk)

	// The confirmation, as the sign-up plans it.
	pending := mustEnroll(t, e, EnrollRequest{Program: "rekindle", FirstName: "Ana", Email: "ana@example.org",
		Timezone: "Europe/London", Pending: true, Source: "web"})
	if err := e.PlanConfirmations(ctx, pending, "https://rekindle.test/confirm/x"); err != nil {
		t.Fatal(err)
	}
	var conf struct {
		Text string `db:"body_text"`
		HTML string `db:"body_html"`
	}
	dbGet(t, e.Store.DB, &conf, `SELECT body_text, body_html FROM deliveries WHERE enrollment_id = $1 AND channel = 'email'`, pending)
	if txt, html := eyebrowOf(t, conf.Text, conf.HTML); txt != "Rekindle" || html != "Rekindle" {
		t.Errorf("the confirmation email's eyebrow reads %q (HTML %q), want just the program: it is no week or phase of it", txt, html)
	}

	// A lesson of the main calendar, then, switched to moving on in week
	// 1, a moving-on lesson.
	id := mustEnroll(t, e, EnrollRequest{Program: "rekindle", FirstName: "Sam", Email: "sam@example.org", Timezone: "Europe/London"})
	cleo := mustEnroll(t, e, EnrollRequest{Program: "rekindle", FirstName: "Cleo", Email: "cleo@example.org", Timezone: "Europe/London"})
	cnt := newCounting(channel.Email)
	d := e.NewDispatcher(cnt, 1, "t")
	send := func(until time.Time) {
		t.Helper()
		for clk.Now().Before(until) {
			planUntil(t, e, clk, clk.Now(), time.Hour)
			if _, err := d.DispatchOnce(ctx); err != nil {
				t.Fatal(err)
			}
			clk.Advance(time.Hour)
		}
	}
	send(utc("2026-06-02T12:00:00Z"))
	if _, ok, err := e.ApplyCommand(ctx, id, "moved on"); err != nil || !ok {
		t.Fatalf("MOVED ON: %v %v", ok, err)
	}
	send(utc("2026-06-03T12:00:00Z"))
	// Cleo, still on the main calendar, answers the space question "no":
	// the note it sends is on demand, no step of any week.
	send(utc("2026-06-10T18:00:00Z"))
	var space int64
	dbGet(t, e.Store.DB, &space, `SELECT id FROM checkins WHERE enrollment_id = $1 AND step_key = 'space'`, cleo)
	if _, err := e.RecordAnswer(ctx, AnswerInput{CheckinID: space, Text: "no", Source: "email-link"}); err != nil {
		t.Fatal(err)
	}
	send(utc("2026-06-10T20:00:00Z"))
	got := map[string][2]string{}
	for _, m := range cnt.order {
		txt, html := eyebrowOf(t, m.Text, m.HTML)
		got[StepOf(m.Step)] = [2]string{txt, html}
	}
	want := map[string][2]string{
		"lesson-01":    {"Rekindle - Healing - Week 1", "Rekindle &middot; Healing &middot; Week 1"},
		"moving-on-01": {"Rekindle - Healing", "Rekindle &middot; Healing"},
		"space":        {"Rekindle - Healing - Week 2", "Rekindle &middot; Healing &middot; Week 2"},
		"space-nudge":  {"Rekindle", "Rekindle"},
	}
	for step, w := range want {
		if g, ok := got[step]; !ok {
			t.Errorf("%s was not sent (sent: %v)", step, got)
		} else if g != w {
			t.Errorf("%s's eyebrow reads %q, want %q", step, g, w)
		}
	}
}
