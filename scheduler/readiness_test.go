package scheduler

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/store"
)

// readinessFixture enrolls someone in the shipped program (email and text,
// London) and plans until the readiness question has gone out.
type readinessFixture struct {
	e      *Engine
	clk    *clock.Manual
	id     int64
	sub    int64
	london *time.Location
}

func newReadinessFixture(t *testing.T) *readinessFixture {
	return newReadinessFixtureFor(t, "sam@example.org", nil)
}

// newReadinessFixtureFor enrolls someone with the given email ("" for texts
// only) in the shipped program as edit changes it.
func newReadinessFixtureFor(t *testing.T, email string, edit func(*programs.Program)) *readinessFixture {
	t.Helper()
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z")) // Monday
	st, _ := testdb.Store(t)
	p, err := programs.Load(programs.Embedded(), "rekindle")
	if err != nil {
		t.Fatal(err)
	}
	if edit != nil {
		edit(p)
	}
	e := engineRunning(t, st, clk, map[string]*programs.Program{"rekindle": p})
	f := &readinessFixture{e: e, clk: clk}
	f.id = mustEnroll(t, e, EnrollRequest{Program: "rekindle", FirstName: "Sam", Email: email,
		Phone: "+447700900155", Timezone: "Europe/London"})
	dbGet(t, e.Store.DB, &f.sub, `SELECT subscriber_id FROM enrollments WHERE id = $1`, f.id)
	f.london, _ = time.LoadLocation("Europe/London")
	return f
}

// planUntilAsked plans hour by hour until the check-in occurrence key has
// been planned and its time has come, and returns it.
func (f *readinessFixture) planUntilAsked(t *testing.T, key string) store.Checkin {
	t.Helper()
	for i := 0; i < 60*24; i++ {
		var c []store.Checkin
		if err := f.e.Store.DB.Select(&c, `SELECT id, enrollment_id, step_key, occurrence, prompt, opened_at, closes_at,
			coalesce(answer, '') AS answer FROM checkins WHERE enrollment_id = $1 AND occurrence = $2`, f.id, key); err != nil {
			t.Fatal(err)
		}
		if len(c) == 1 && !c[0].OpenedAt.After(f.clk.Now()) {
			return c[0]
		}
		planUntil(t, f.e, f.clk, f.clk.Now(), time.Hour)
	}
	t.Fatalf("check-in %s was never asked", key)
	return store.Checkin{}
}

// notYetThrice answers "not yet" (2) to the readiness question each time
// it is asked, three times, and returns what the third answer did.
func (f *readinessFixture) notYetThrice(t *testing.T) []string {
	t.Helper()
	var res AnswerResult
	for i, key := range []string{"readiness", "readiness#2", "readiness#3"} {
		c := f.planUntilAsked(t, key)
		var err error
		if res, err = f.e.RecordAnswer(context.Background(), AnswerInput{CheckinID: c.ID, Text: "2", Source: "sms"}); err != nil {
			t.Fatalf("answer %d: %v", i+1, err)
		}
	}
	return res.Actions
}

// localDay is the person's calendar date of the delivery of step (any
// channel), or "" when there is none.
func (f *readinessFixture) localDay(t *testing.T, step string) (string, time.Time) {
	t.Helper()
	for _, d := range deliveries(t, f.e, f.id) {
		if d.Step == step {
			at := d.NotBefore.In(f.london)
			return at.Format("2006-01-02"), at
		}
	}
	return "", time.Time{}
}

// A "not yet" answered the next morning is asked again a week after the
// question went out, the evening before the held-back phase begins, not a
// week after the answer (which would come after that phase's first lesson).
func TestNotYetAnsweredNextMorningIsAskedAgainBeforeTheNextPhase(t *testing.T) {
	f := newReadinessFixture(t)
	ctx := context.Background()
	c := f.planUntilAsked(t, "readiness")
	asked := c.OpenedAt.In(f.london) // 20:00: due 19:30, the text spaced after the 19:00 mood prompt
	// 08:00 the next morning, before that day's 09:00 lesson.
	next := time.Date(asked.Year(), asked.Month(), asked.Day()+1, 8, 0, 0, 0, f.london)
	planUntil(t, f.e, f.clk, next, time.Hour)
	f.clk.Set(next)
	res, err := f.e.RecordAnswer(ctx, AnswerInput{CheckinID: c.ID, Text: "not yet", Source: "sms"})
	if err != nil || res.Value != "not-ready" {
		t.Fatalf("not yet: %+v %v", res, err)
	}
	planUntil(t, f.e, f.clk, next.Add(9*24*time.Hour), time.Hour)

	wantAgain := asked.AddDate(0, 0, 7).Format("2006-01-02")
	again, againAt := f.localDay(t, "readiness#2")
	if again != wantAgain || againAt.Format("15:04") != "19:30" {
		t.Fatalf("asked again on %s at %s; want %s in the evening, a week after it was first asked", again, againAt.Format("15:04"), wantAgain)
	}
	_, lessonAt := f.localDay(t, "lesson-10")
	if lessonAt.IsZero() || !lessonAt.After(againAt) {
		t.Fatalf("the self-improvement phase's first lesson comes at %s, before the question about being ready for it (%s)", lessonAt, againAt)
	}
}

// Two "not yet"s each hold the next phase a week and say so; the third
// finds no week left, so the person is told the next lessons begin, not
// that they are held.
func TestThirdNotYetSaysTheNextPhaseBegins(t *testing.T) {
	f := newReadinessFixture(t)
	if acts := f.notYetThrice(t); !slices.Equal(acts, []string{"extend limit reached", "send healing-onward"}) {
		t.Fatalf("third not yet: %v", acts)
	}
	planUntil(t, f.e, f.clk, f.clk.Now().Add(2*24*time.Hour), time.Hour)
	held, onward := 0, 0
	for _, d := range deliveries(t, f.e, f.id) {
		switch {
		case strings.HasPrefix(d.Step, "healing-extension@"):
			held++
		case strings.HasPrefix(d.Step, "healing-onward@"):
			onward++
		}
	}
	if held != 2 || onward != 1 {
		t.Fatalf("%d 'we'll hold the next phase' messages and %d 'the next lessons begin'; want 2 and 1", held, onward)
	}
	// What it says, by email (this person's first channel for it) and by
	// text (for someone who gets only texts).
	comp, _, _ := f.e.Current("rekindle")
	step := comp.Program.Step("healing-onward")
	m, err := comp.SMS(step, programs.Vars{FirstName: "Sam"}, 1)
	if err != nil {
		t.Fatal(err)
	}
	em, err := comp.Email(step, programs.Vars{FirstName: "Sam"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, said := range []string{m, em.Subject + "\n" + em.Text} {
		if strings.Contains(said, "hold") || strings.Contains(said, "extra week,") || !strings.Contains(said, "next phase") {
			t.Fatalf("the answer to a third 'not yet' reads %q", said)
		}
	}
	// The question itself, asked the third time in the same words, must not
	// promise a week it cannot give: it says the extra time has a limit.
	q, err := comp.Email(comp.Program.Step("readiness"), programs.Vars{FirstName: "Sam"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(q.Text, "two extra weeks in all") {
		t.Fatalf("the readiness question does not say the extra time is limited:\n%s", q.Text)
	}
}

// A program (or a version pinned before at_limit existed) whose extend has
// no at_limit still sends the branch's message at the limit: the person who
// answers "not yet" a third time hears back, as they always did.
func TestExtendWithoutAtLimitStillAnswersAtTheLimit(t *testing.T) {
	f := newReadinessFixtureFor(t, "sam@example.org", func(p *programs.Program) {
		for _, b := range p.Step("readiness").Checkin.Branches {
			if b.Extend != nil {
				b.Extend.AtLimit = ""
			}
		}
	})
	if acts := f.notYetThrice(t); !slices.Equal(acts, []string{"extend limit reached", "send healing-extension"}) {
		t.Fatalf("third not yet without at_limit: %v; want the branch's own message", acts)
	}
	planUntil(t, f.e, f.clk, f.clk.Now().Add(2*24*time.Hour), time.Hour)
	held := 0
	for _, d := range deliveries(t, f.e, f.id) {
		if strings.HasPrefix(d.Step, "healing-extension@") {
			held++
		}
	}
	if held != 3 {
		t.Fatalf("%d replies to three 'not yet's; want 3", held)
	}
}

// Someone who gets only texts, whose readiness question was planned late
// (21:30, the planner behind) and so held by quiet hours until 08:00 the
// next day, is asked again before the held phase's first lesson: the
// second asking counts from the day the question was due, not the morning
// it went out.
func TestQuestionHeldOvernightIsAskedAgainBeforeTheHeldPhase(t *testing.T) {
	f := newReadinessFixtureFor(t, "", nil)
	ctx := context.Background()
	// Readiness is due on Sunday 21 June at 19:30 London (18:30Z).
	planUntil(t, f.e, f.clk, utc("2026-06-21T12:00:00Z"), time.Hour)
	if day, _ := f.localDay(t, "readiness"); day != "" {
		t.Fatalf("readiness was planned for %s, before the planner fell behind", day)
	}
	f.clk.Set(utc("2026-06-21T20:30:00Z"))
	planUntil(t, f.e, f.clk, f.clk.Now(), time.Hour)
	c := f.planUntilAsked(t, "readiness")
	if got := c.OpenedAt.In(f.london).Format("2006-01-02 15:04"); got != "2026-06-22 08:00" {
		t.Fatalf("the late readiness text went out at %s; want the next morning, after quiet hours", got)
	}
	f.clk.Set(c.OpenedAt.Add(30 * time.Minute))
	if _, err := f.e.RecordAnswer(ctx, AnswerInput{CheckinID: c.ID, Text: "2", Source: "sms"}); err != nil {
		t.Fatal(err)
	}
	planUntil(t, f.e, f.clk, f.clk.Now().Add(9*24*time.Hour), time.Hour)
	_, againAt := f.localDay(t, "readiness#2")
	_, lessonAt := f.localDay(t, "lesson-10-nudge") // the texts' first lesson of the phase
	if againAt.IsZero() || lessonAt.IsZero() || !lessonAt.After(againAt) {
		t.Fatalf("asked again at %s, the held phase's first lesson at %s; want the question first", againAt, lessonAt)
	}
	if got := againAt.Format("2006-01-02 15:04"); got != "2026-06-28 19:30" {
		t.Fatalf("asked again at %s; want Sunday 28 June 19:30, a week after it was due", got)
	}
}

// A first answer after the window is kept but changes nothing: weeks into
// the next phase, a late "not yet" must not pull the person back.
func TestLateFirstAnswerIsKeptButDoesNotBranch(t *testing.T) {
	f := newReadinessFixture(t)
	ctx := context.Background()
	c := f.planUntilAsked(t, "readiness")
	planUntil(t, f.e, f.clk, c.ClosesAt.Add(time.Hour), time.Hour)
	res, err := f.e.RecordAnswer(ctx, AnswerInput{CheckinID: c.ID, Value: "not-ready", Source: "email-link"})
	if err != nil || !res.Late || len(res.Actions) != 0 {
		t.Fatalf("late answer: %+v %v; want it kept as late, with no actions", res, err)
	}
	var answer string
	var shift int
	dbGet(t, f.e.Store.DB, &answer, `SELECT coalesce(answer, '') FROM checkins WHERE id = $1`, c.ID)
	dbGet(t, f.e.Store.DB, &shift, `SELECT shift_days FROM enrollments WHERE id = $1`, f.id)
	if answer != "not-ready" || shift != 0 {
		t.Fatalf("stored answer %q, calendar shifted %d days; want the answer kept and no shift", answer, shift)
	}
	planUntil(t, f.e, f.clk, f.clk.Now().Add(8*24*time.Hour), time.Hour)
	if s := steps(deliveries(t, f.e, f.id)); s["readiness#2"] != 0 {
		t.Fatalf("a late answer asked the question again: %v", s)
	}
	// A second late answer is refused as before: the first one stands.
	if _, err := f.e.RecordAnswer(ctx, AnswerInput{CheckinID: c.ID, Value: "ready", Source: "email-link"}); err != ErrAnswerWindowEnd {
		t.Fatalf("second late answer: %v, want ErrAnswerWindowEnd", err)
	}
}

// A "not yet" that arrives after the self-improvement phase's first lesson
// went out still holds the rest of that phase for the extra week, and the
// message that says so does not pretend the first lesson never came.
func TestNotYetAfterTheNextPhaseBeganHoldsTheRest(t *testing.T) {
	f := newReadinessFixture(t)
	c := f.planUntilAsked(t, "readiness")
	asked := c.OpenedAt.In(f.london)
	noon := time.Date(asked.Year(), asked.Month(), asked.Day()+1, 12, 30, 0, 0, f.london)
	planUntil(t, f.e, f.clk, noon, time.Hour)
	f.clk.Set(noon)
	if day, _ := f.localDay(t, "lesson-10"); day != noon.Format("2006-01-02") {
		t.Fatalf("lesson-10 planned for %q; want it out this morning, before the answer", day)
	}
	res, err := f.e.RecordAnswer(context.Background(), AnswerInput{CheckinID: c.ID, Text: "not yet", Source: "sms"})
	if err != nil || !slices.Contains(res.Actions, "send healing-extension") {
		t.Fatalf("not yet at noon: %+v %v", res, err)
	}
	planUntil(t, f.e, f.clk, noon.Add(10*24*time.Hour), time.Hour)
	_, againAt := f.localDay(t, "readiness#2")
	_, lesson11 := f.localDay(t, "lesson-11")
	if againAt.IsZero() || lesson11.IsZero() || !lesson11.After(againAt) {
		t.Fatalf("lesson-11 at %s, asked again at %s; want the rest of the phase held until after the question", lesson11, againAt)
	}
	p := f.e.Programs()["rekindle"]
	msg := p.Content[p.Step("healing-extension").ContentRef].Body
	if !strings.Contains(msg, "If the first self-improvement lesson reached you before your answer did") {
		t.Fatalf("the extension message does not speak to a lesson already sent:\n%s", msg)
	}
}
