package scheduler

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/render"
	"github.com/rekindle/rekindle/store"
)

// MaxStepsPerPass bounds how many steps one enrollment may have planned in
// one planner pass; anything beyond waits for the next pass.
const MaxStepsPerPass = 32

// work is an enrollment being planned: its row, program and schedule state.
type work struct {
	row   store.Enrollment
	comp  *render.Compiled
	prog  *programs.Program
	loc   *time.Location
	st    State
	last  map[string]time.Time // channel -> last lesson's send time (pacing)
	ext   map[string]int
	sms   int
	phase string
}

func (e *Engine) newWork(ctx context.Context, row store.Enrollment) (*work, error) {
	comp, err := e.Version(ctx, row.ProgramVersionID)
	if err != nil {
		return nil, err
	}
	loc, err := e.Zone(row.Timezone)
	if err != nil {
		return nil, err
	}
	w := &work{row: row, comp: comp, prog: comp.Program, loc: loc, last: row.LastLesson.V, ext: row.Extensions.V,
		sms: row.SMSCount, phase: row.Phase}
	if w.last == nil {
		w.last = map[string]time.Time{}
	}
	if w.ext == nil {
		w.ext = map[string]int{}
	}
	w.st = State{Track: row.Track, StartDate: civilDate(row.StartDate), Origin: row.TrackOrigin, Shift: row.ShiftDays,
		Cursor: row.Cursor, CronCursors: row.CronCursors.V, Loc: loc}
	if w.st.CronCursors == nil {
		w.st.CronCursors = map[string]string{}
	}
	return w, nil
}

// channelsFor picks the channels a step goes on for this person: the ones it
// lists that the person confirmed (only the first of them with prefer_first).
func channelsFor(s *programs.Step, row store.Enrollment) []string {
	var out []string
	for _, ch := range s.Channels {
		ok := (ch == "email" && row.Email != "" && row.EmailStatus == "confirmed") ||
			(ch == "sms" && row.Phone != "" && row.SMSStatus == "confirmed")
		if ok {
			out = append(out, ch)
			if s.PreferFirst {
				break
			}
		}
	}
	return out
}

// plan advances w through every step due by now (at most MaxStepsPerPass),
// appending deliveries and check-ins to b. It returns the
// enrollment's next due time (nil when its track is finished) and whether it
// completed.
func (e *Engine) plan(w *work, now time.Time, b *store.PlanBatch) (next *time.Time, completed bool, err error) {
	for i := 0; i < MaxStepsPerPass; i++ {
		occ, err := Next(w.prog, &w.st)
		if err != nil {
			return nil, false, err
		}
		if occ == nil {
			return nil, true, nil
		}
		if occ.Due.After(now) {
			return &occ.Due, false, nil
		}
		if late := now.Sub(occ.Due); late > e.Cfg.Grace {
			if occ.Step.IsCron() {
				// A stale repeating prompt is skipped; the next one comes on time.
				w.st.Advance(occ)
				continue
			}
			// Catch-up: the calendar shifts so this step lands today and the
			// rest keep their spacing, instead of a backlog arriving at once.
			if days := daysBetween(occ.Civil, LocalDate(now, w.loc)); days > 0 {
				w.st.Shift += days
				continue
			}
		}
		if err := e.planOccurrence(w, occ, now, b); err != nil {
			return nil, false, err
		}
		w.st.Advance(occ)
	}
	// More is due than one pass plans: come back at once.
	return &now, false, nil
}

// planOccurrence plans one occurrence for each of the person's channels.
func (e *Engine) planOccurrence(w *work, occ *Occurrence, now time.Time, b *store.PlanBatch) error {
	s := occ.Step
	if s.Phase != "" && !s.IsCron() && s.Day != nil {
		// Only calendar steps move the person's phase: a weekly check-in or
		// an on-demand message belongs to whatever phase they are in.
		w.phase = s.Phase
	}
	chans := channelsFor(s, w.row)
	if len(chans) == 0 {
		return nil
	}
	day := w.st.ProgramDay(occ.Civil)
	var token string
	if s.Checkin != nil {
		token = newToken()
	}
	var opened time.Time
	for _, ch := range chans {
		notBefore := e.sendTime(w, s, ch, occ.Due, now)
		if opened.IsZero() || notBefore.Before(opened) {
			opened = notBefore
		}
		d := store.NewDelivery{
			EnrollmentID: w.row.ID, SubscriberID: w.row.SubscriberID, StepKey: occ.Key, Kind: s.Kind,
			Phase: w.phase, Channel: ch, DueAt: occ.Due, NotBefore: notBefore,
		}
		// The message is rendered when it is sent (Engine.message): the
		// row keeps what it is rendered from.
		d.ProgramVersionID, d.Day, d.FirstName, d.CheckinToken = w.row.ProgramVersionID, day, w.row.FirstName, token
		switch ch {
		case "email":
			d.To = w.row.Email
		case "sms":
			d.To, d.StopHint = w.row.Phone, render.NeedsStopHint(w.sms)
			w.sms++
		}
		b.Deliveries = append(b.Deliveries, d)
	}
	if s.Checkin != nil {
		window := s.Checkin.AnswerWindow.D()
		if window <= 0 {
			window = 72 * time.Hour
		}
		b.Checkins = append(b.Checkins, store.NewCheckin{
			EnrollmentID: w.row.ID, StepKey: s.Key, Occurrence: occ.Key, Prompt: s.Checkin.Prompt,
			Token: token, OpenedAt: opened, ClosesAt: opened.Add(window),
		})
	}
	return nil
}

// sendTime is when an occurrence due at due may go on ch, planned at now:
// lessons keep the pacing interval after the last lesson on that channel,
// and quiet hours defer the rest. A step planned late (the planner was
// down) goes no earlier than now, so quiet hours hold for it too: an SMS due
// at 09:00 and planned at 22:00 waits for the morning. It records the
// lesson for the next one's pacing.
func (e *Engine) sendTime(w *work, s *programs.Step, ch string, due, now time.Time) time.Time {
	at := due
	if now.After(at) {
		at = now
	}
	lesson := s.Kind == programs.KindLesson
	if last, ok := w.last[ch]; lesson && ok && at.Before(last.Add(e.pacingFor(w.prog))) {
		at = last.Add(e.pacingFor(w.prog))
	}
	at = e.quietFor(w.prog, ch).Defer(at, w.loc)
	if lesson {
		w.last[ch] = at
	}
	return at
}

// update is the enrollment row after planning.
func (w *work) update(next *time.Time, completed bool) store.EnrollmentUpdate {
	status := "active"
	if completed {
		status = "completed"
	}
	return store.EnrollmentUpdate{
		ID: w.row.ID, Status: status, Track: w.st.Track, Origin: w.st.Origin, Shift: w.st.Shift, Cursor: w.st.Cursor,
		CronCursors: jsonText(w.st.CronCursors), LastLesson: jsonText(w.last), Extensions: jsonText(w.ext),
		SMSCount: w.sms, Phase: w.phase, NextDueAt: next,
	}
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func newToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err)) // the platform's random source is gone; nothing is safe
	}
	return hex.EncodeToString(b)
}

// nextDue is when the enrollment should next be looked at after a change to
// its schedule: its next step's due time, or now when nothing is left (the
// planner then marks it completed).
func (w *work) nextDue(now time.Time) (*time.Time, error) {
	occ, err := Next(w.prog, &w.st)
	if err != nil {
		return nil, err
	}
	if occ == nil {
		return &now, nil
	}
	return &occ.Due, nil
}
