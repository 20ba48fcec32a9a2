package scheduler

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/render"
)

// A program step is rendered when it is sent: each email that reaches the
// SMTP server is, byte for byte, what the program's templates give for that
// person on that program day, with their name, their signed links and their
// check-in token.
func TestStepEmailsRenderedAtSendAreThePersonsOwn(t *testing.T) {
	s := newSMTPSetup(t, 2)
	const name, addr = `Chris <O'Neil> & Co+1`, "chris@example.org"
	id := mustEnroll(t, s.e, EnrollRequest{Program: "basic", FirstName: name, Email: addr, Timezone: "UTC", Start: s.clk.Now()})
	planUntil(t, s.e, s.clk, utc("2026-06-05T20:00:00Z"), time.Hour)

	var rows []struct {
		ID    int64  `db:"id"`
		Step  string `db:"step_key"`
		Day   int    `db:"day"`
		Sub   int64  `db:"subscriber_id"`
		Phase string `db:"phase"`
	}
	if err := s.e.Store.DB.Select(&rows, `SELECT id, step_key, day, subscriber_id, phase FROM deliveries
		WHERE enrollment_id = $1 AND status = 'queued' ORDER BY id`, id); err != nil {
		t.Fatal(err)
	}
	var token string
	if err := s.e.Store.DB.Get(&token, `SELECT token FROM checkins WHERE enrollment_id = $1`, id); err != nil {
		t.Fatal(err)
	}
	comp, _, _ := s.e.Current("basic")
	p := comp.Program
	wantDay := map[string]int{"welcome": 1, "l1": 1, "l2": 3, "l3": 4, "ready": 5}
	want := map[int64]queued{}
	for _, r := range rows {
		if d, ok := wantDay[r.Step]; !ok || d != r.Day {
			t.Fatalf("planned %s for program day %d; want the steps and days %v", r.Step, r.Day, wantDay)
		}
		step := p.Step(r.Step)
		unsub := s.e.Links.Unsubscribe(r.Sub, "email")
		v := programs.Vars{FirstName: name, ProgramTitle: p.Title, Day: r.Day, Week: (r.Day-1)/7 + 1,
			Phase: p.PhaseTitle(r.Phase), ManageURL: s.e.Links.Manage(r.Sub), UnsubscribeURL: unsub}
		m, err := comp.Email(step, v, render.LinksFor(step.Checkin, func(value string) string { return s.e.Links.Checkin(token, value) }))
		if err != nil {
			t.Fatal(err)
		}
		want[r.ID] = queued{ID: r.ID, To: addr, Subj: m.Subject, Text: m.Text, HTML: m.HTML, Unsub: unsub}
		if r.Step == "welcome" && !strings.Contains(m.Text, "Hi "+name+",") {
			t.Fatalf("the welcome email does not greet %s by name:\n%s", name, m.Text)
		}
		if r.Step == "ready" && !strings.Contains(m.HTML, `href="https://rekindle.test/checkin/`+token+`?a=ready"`) {
			t.Fatalf("the check-in email lacks the answer link with the check-in's token:\n%s", m.HTML)
		}
	}
	if len(want) != len(wantDay) {
		t.Fatalf("%d emails queued, want %d", len(want), len(wantDay))
	}
	s.drain(t)
	msgs := s.srv.Messages()
	if len(msgs) != len(want) {
		t.Fatalf("%d emails reached the server, want %d", len(msgs), len(want))
	}
	for _, m := range msgs {
		checkReceived(t, m, want)
	}
}

// Editing a program changes what new enrollments get, never a message
// already planned: it is rendered from the version it was planned on.
func TestQueuedStepIsRenderedFromItsPlannedVersion(t *testing.T) {
	e := newEngine(t, clock.NewManual(utc("2026-06-01T10:00:00Z")))
	cnt := newCounting(channel.Email)
	mustEnroll(t, e, EnrollRequest{Program: "basic", FirstName: "Robin", Email: "robin@example.org", Timezone: "UTC", Start: e.Clock.Now()})
	if _, _, err := e.PlanOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	p, err := programs.Load(os.DirFS("../programs/testdata"), "basic")
	if err != nil {
		t.Fatal(err)
	}
	p.Title, p.Hash = "Basic, edited", p.Hash+"-edited"
	if err := e.LoadPrograms(context.Background(), map[string]*programs.Program{"basic": p}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.NewDispatcher(cnt, 1, "t").DispatchOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	var welcome string
	for _, m := range cnt.order {
		if m.Step == "welcome" {
			welcome = m.Subject
		}
	}
	if welcome != "Welcome to Basic" {
		t.Fatalf("the welcome planned before the edit went out as %q, want \"Welcome to Basic\"", welcome)
	}
}

// The first SMS carries the STOP hint, for a Christopher too: a name is not
// a way to opt out.
func TestFirstSMSCarriesTheStopHintWhateverTheName(t *testing.T) {
	e := newEngine(t, clock.NewManual(utc("2026-06-01T10:00:00Z")))
	cnt := newCounting(channel.SMS)
	mustEnroll(t, e, EnrollRequest{Program: "basic", FirstName: "Christopher", Phone: "+12025550123", Timezone: "UTC", Start: e.Clock.Now()})
	if _, _, err := e.PlanOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := e.NewDispatcher(cnt, 1, "t").DispatchOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	const want = "Test: Welcome, Christopher. Your first lesson arrives soon. Reply STOP to opt out."
	if len(cnt.order) != 1 || cnt.order[0].Text != want {
		t.Fatalf("SMS sent: %+v; want one saying %q", cnt.order, want)
	}
}
