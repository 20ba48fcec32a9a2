package scheduler

import (
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/programs"
)

// The space question asks about "this week": it waits until there is a
// week to look back on (the shipped program's note 13), whatever the
// weekday someone starts on. And the texts a week the program states (note
// 14, and the consent and HELP reply: at most 6 from the plan alone in any
// 7 days) stay true.
func TestSpaceQuestionWaitsForAWeekAndTextsAWeekHold(t *testing.T) {
	e := engineWithQuietProgram(t, clock.NewManual(utc("2026-06-01T05:00:00Z")), nil)
	p, err := programs.Load(programs.Embedded(), "rekindle")
	if err != nil {
		t.Fatal(err)
	}
	london, _ := time.LoadLocation("Europe/London")
	for d := 0; d < 7; d++ {
		start := time.Date(2026, 6, 1+d, 0, 0, 0, 0, time.UTC)
		out, err := e.Timeline(p, london, start, []string{"email", "sms"})
		if err != nil {
			t.Fatal(err)
		}
		var texts []time.Time
		first := -1
		for _, m := range out {
			day := int(civilDate(m.Local).Sub(civilDate(start)).Hours() / 24)
			if strings.HasPrefix(m.Step, "space") && first < 0 {
				first = day
			}
			if m.Channel == "sms" {
				texts = append(texts, civilDate(m.Local))
			}
		}
		if first < 7 {
			t.Errorf("starting on a %s, the space question is first asked on day %d, before there is a week to look back on", start.Weekday(), first)
		}
		for _, from := range texts {
			n := 0
			for _, at := range texts {
				if !at.Before(from) && at.Before(from.AddDate(0, 0, 7)) {
					n++
				}
			}
			if n > 6 {
				t.Errorf("starting on a %s, %d texts in the 7 days from %s; the program says at most 6 from its plan", start.Weekday(), n, from.Format("2006-01-02"))
			}
		}
	}
}
