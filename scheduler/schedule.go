package scheduler

import (
	"fmt"
	"time"

	"github.com/rekindle/rekindle/programs"
)

// State is the part of an enrollment that decides what comes next.
type State struct {
	Track       string
	StartDate   time.Time // civil day 0
	Origin      int       // days from StartDate to the track's day 0 (before Shift)
	Shift       int       // days the calendar has moved (catch-up, pauses, extensions)
	Cursor      int64     // position of the last planned day step, -1 for none
	CronCursors map[string]string
	Loc         *time.Location
}

const civilLayout = "2006-01-02T15:04"

// Occurrence is one planned send of a step.
type Occurrence struct {
	Step  *programs.Step
	Key   string    // the delivery's step key: unique per enrollment
	Civil time.Time // local wall-clock time
	Due   time.Time // the instant
	Pos   int64     // cursor position (day steps)
}

// position orders day steps: by track day, time of day, then file order.
func position(origin int, s *programs.Step) int64 {
	return (int64(origin+*s.Day)*1440+int64(s.Minute()))*1000 + int64(s.Ordinal)
}

// Next returns the next occurrence after the state's cursors, or nil when the
// track is finished.
func Next(p *programs.Program, st *State) (*Occurrence, error) {
	t := p.Track(st.Track)
	if t == nil {
		return nil, fmt.Errorf("schedule: program %s has no track %q", p.Slug, st.Track)
	}
	var best *Occurrence
	consider := func(o *Occurrence) {
		if best == nil || o.Due.Before(best.Due) || (o.Due.Equal(best.Due) && o.Step.Ordinal < best.Step.Ordinal) {
			best = o
		}
	}
	var nextDay *programs.Step
	var nextPos int64
	for _, s := range t.Steps {
		if s.IsCron() || s.Day == nil {
			continue
		}
		if pos := position(st.Origin, s); pos > st.Cursor && (nextDay == nil || pos < nextPos) {
			nextDay, nextPos = s, pos
		}
	}
	if nextDay != nil {
		civil := st.civilOf(*nextDay.Day, nextDay.Minute())
		consider(&Occurrence{Step: nextDay, Key: nextDay.Key, Civil: civil, Due: Resolve(civil, st.Loc), Pos: nextPos})
	}
	for _, s := range t.Steps {
		if !s.IsCron() {
			continue
		}
		sched := s.Schedule()
		if sched == nil {
			return nil, fmt.Errorf("schedule: step %s: cron %q was not parsed", s.Key, s.Cron)
		}
		winStart := st.StartDate.AddDate(0, 0, st.Origin+st.Shift+s.Window.FromDay)
		winEnd := st.StartDate.AddDate(0, 0, st.Origin+st.Shift+s.Window.ToDay+1)
		after := winStart.Add(-time.Minute)
		if c, ok := st.CronCursors[s.Key]; ok {
			if last, err := time.Parse(civilLayout, c); err == nil && last.After(after) {
				after = last
			}
		}
		civil := sched.Next(after)
		if civil.IsZero() || !civil.Before(winEnd) {
			continue
		}
		consider(&Occurrence{Step: s, Key: s.Key + "@" + civil.Format("2006-01-02"), Civil: civil, Due: Resolve(civil, st.Loc)})
	}
	return best, nil
}

// civilOf is the local wall-clock time of a day step of the current track
// (its track day and minute of the day), as the calendar stands.
func (st *State) civilOf(day, minute int) time.Time {
	return st.StartDate.AddDate(0, 0, st.Origin+st.Shift+day).Add(time.Duration(minute) * time.Minute)
}

// Advance moves the state's cursors past o.
func (st *State) Advance(o *Occurrence) {
	if o.Step.IsCron() {
		if st.CronCursors == nil {
			st.CronCursors = map[string]string{}
		}
		st.CronCursors[o.Step.Key] = o.Civil.Format(civilLayout)
		return
	}
	st.Cursor = o.Pos
}

// ProgramDay is the 1-based day of the program a civil time falls on, not
// counting days the calendar was shifted.
func (st *State) ProgramDay(civil time.Time) int {
	d := daysBetween(st.StartDate, civil) - st.Shift + 1
	if d < 1 {
		d = 1
	}
	return d
}
