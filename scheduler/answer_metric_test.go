package scheduler

import (
	"context"
	"testing"

	"github.com/rekindle/rekindle/programs"
)

// answerObserver records the check-in answers the engine reports.
type answerObserver struct {
	nopObserver
	steps []string
}

func (o *answerObserver) CheckinAnswer(program, step, value string) {
	o.steps = append(o.steps, step)
}

// rekindle_checkin_answers_total{step} is the step's key, the id an
// operator finds in the program file, not its check-in prompt (which
// several steps may share, as the two mood check-ins do).
func TestCheckinAnswerIsCountedByStepKey(t *testing.T) {
	f := newReadinessFixtureFor(t, "sam@example.org", func(p *programs.Program) {
		p.Step("readiness").Checkin.Prompt = "ready-or-not"
	})
	obs := &answerObserver{}
	f.e.Observer = obs
	c := f.planUntilAsked(t, "readiness")
	if c.Prompt != "ready-or-not" {
		t.Fatalf("setup: the check-in's prompt is %q", c.Prompt)
	}
	if _, err := f.e.RecordAnswer(context.Background(), AnswerInput{CheckinID: c.ID, Text: "2", Source: "sms"}); err != nil {
		t.Fatal(err)
	}
	if len(obs.steps) != 1 || obs.steps[0] != "readiness" {
		t.Fatalf("the answer was counted with step %q, want the step key \"readiness\"", obs.steps)
	}
}
