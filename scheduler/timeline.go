package scheduler

import (
	"fmt"
	"time"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/store"
)

// maxTimeline bounds a timeline: far more steps than any program has.
const maxTimeline = 10000

// TimelineEntry is one message a person would get.
type TimelineEntry struct {
	Step    string    `json:"step"`
	Phase   string    `json:"phase"`
	Channel string    `json:"channel"`
	Kind    string    `json:"kind"`
	Local   time.Time `json:"local"`
	UTC     time.Time `json:"utc"`
}

// Timeline lists every message of a program's start track for a person in
// loc who starts on startDate and has the given channels, in send order,
// after quiet hours and pacing, with no answers given.
func (e *Engine) Timeline(p *programs.Program, loc *time.Location, startDate time.Time, channels []string) ([]TimelineEntry, error) {
	row := store.Enrollment{Email: "", EmailStatus: "none", SMSStatus: "none"}
	for _, ch := range channels {
		switch ch {
		case "email":
			row.Email, row.EmailStatus = "timeline@example.org", "confirmed"
		case "sms":
			row.Phone, row.SMSStatus = "+10000000000", "confirmed"
		}
	}
	w := &work{row: row, prog: p, loc: loc, last: map[string]time.Time{}, ext: map[string]int{}}
	w.st = State{Track: p.StartTrack(), StartDate: civilDate(startDate), Cursor: -1, CronCursors: map[string]string{}, Loc: loc}
	var out []TimelineEntry
	done, prev := false, ""
	for i := 0; i < maxTimeline; i++ {
		occ, err := Next(p, &w.st)
		if err != nil {
			return nil, err
		}
		if occ == nil {
			done = true
			break
		}
		// A schedule that gives the same occurrence twice would fill the
		// list with it (a date past year 9999 does not round-trip).
		if occ.Key == prev {
			return nil, fmt.Errorf("timeline: the schedule does not move past %s (%s)", occ.Key, occ.Civil.Format("2006-01-02 15:04"))
		}
		prev = occ.Key
		for _, ch := range channelsFor(occ.Step, row) {
			at := e.sendTime(w, occ.Step, ch, occ.Due, occ.Due) // the timeline plans each step on time
			phase := occ.Step.Phase
			out = append(out, TimelineEntry{Step: occ.Key, Phase: phase, Channel: ch, Kind: occ.Step.Kind, Local: at.In(loc), UTC: at.UTC()})
		}
		w.st.Advance(occ)
	}
	if !done {
		return nil, fmt.Errorf("timeline: more than %d steps; the program's schedule does not end", maxTimeline)
	}
	sortTimeline(out)
	return out, nil
}

func sortTimeline(t []TimelineEntry) {
	// Insertion sort: the list is nearly ordered already (quiet hours move a few).
	for i := 1; i < len(t); i++ {
		for j := i; j > 0 && t[j].UTC.Before(t[j-1].UTC); j-- {
			t[j], t[j-1] = t[j-1], t[j]
		}
	}
}
