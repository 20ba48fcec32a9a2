package scheduler

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/store"
)

// Answer errors.
var (
	ErrNoOpenCheckin   = errors.New("there is no check-in to answer")
	ErrUnrecognized    = errors.New("the answer is not one this check-in accepts")
	ErrAnswerWindowEnd = errors.New("the answer window for this check-in has closed")
)

// AnswerInput is an answer from any source. Exactly one of CheckinID or
// SubscriberID (meaning: their latest check-in) is set; Value is an answer
// value (web links) or Text a free reply to match (SMS).
type AnswerInput struct {
	CheckinID    int64
	SubscriberID int64
	Value        string
	Text         string
	Source       string // sms, email-link, demo
}

// AnswerResult says what an answer did.
type AnswerResult struct {
	CheckinID int64
	Prompt    string
	Value     string
	Updated   bool     // a second answer within the window replaced the first
	Late      bool     // a first answer after the window: kept, but it changed nothing
	Actions   []string // branch actions applied, e.g. "send support", "switch moving-on"
	// Enrollment is the program's status when the answer came: a paused or
	// left program records the answer without steering, and the reply
	// must not promise a next message it will not send.
	Enrollment string
}

// NormalizeReply is how a whole-message reply is compared with the words
// it may mean: lower case, single spaces, no surrounding whitespace and no
// ".", "!" or "?" around it ("Yes!", " moved  on. ", "Ready?": people
// often answer a question with one).
func NormalizeReply(text string) string {
	t := strings.ToLower(strings.Join(strings.Fields(text), " "))
	return strings.TrimSpace(strings.Trim(t, ".!?"))
}

// MatchAnswer finds the answer value a reply means, or "".
func MatchAnswer(c *programs.Checkin, text string) string {
	t := NormalizeReply(text)
	for _, a := range c.Answers {
		if slices.Contains(a.MatchWords(), t) {
			return a.Value
		}
	}
	return ""
}

// RecordAnswer records an answer and applies the program's branches in the
// same transaction. The first valid answer branches; a later one within the
// answer window replaces the stored value without branching again. A first
// answer after the window is kept but does not branch: by then the program
// has moved on, and a "not yet" weeks late must not pull someone back out
// of the phase they are in.
func (e *Engine) RecordAnswer(ctx context.Context, in AnswerInput) (AnswerResult, error) {
	var res AnswerResult
	now := e.Clock.Now()
	id := in.CheckinID
	if id == 0 {
		c, err := e.Store.OpenCheckin(ctx, in.SubscriberID, now)
		if errors.Is(err, store.ErrNotFound) {
			return res, ErrNoOpenCheckin
		}
		if err != nil {
			return res, err
		}
		id = c.ID
	}
	var program, stepKey string
	err := e.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		c, err := e.Store.LockCheckin(ctx, tx, id)
		if errors.Is(err, store.ErrNotFound) {
			return ErrNoOpenCheckin
		}
		if err != nil {
			return err
		}
		row, err := e.Store.LockEnrollment(ctx, tx, c.EnrollmentID)
		if err != nil {
			return err
		}
		w, err := e.newWork(ctx, row)
		if err != nil {
			return err
		}
		program, stepKey = w.prog.Slug, c.StepKey
		step := w.prog.Step(c.StepKey)
		if step == nil || step.Checkin == nil {
			return fmt.Errorf("answer: check-in %d: step %q asks nothing", c.ID, c.StepKey)
		}
		value := in.Value
		if value != "" {
			if !slices.ContainsFunc(step.Checkin.Answers, func(a programs.Answer) bool { return a.Value == value }) {
				return ErrUnrecognized
			}
		} else if value = MatchAnswer(step.Checkin, in.Text); value == "" {
			return ErrUnrecognized
		}
		res = AnswerResult{CheckinID: c.ID, Prompt: c.Prompt, Value: value, Enrollment: row.Status}
		if c.Answer != "" {
			if now.After(c.ClosesAt) {
				return ErrAnswerWindowEnd
			}
			res.Updated = true
			return e.Store.SetCheckinAnswer(ctx, tx, c.ID, value, now, in.Source, in.Text)
		}
		if err := e.Store.SetCheckinAnswer(ctx, tx, c.ID, value, now, in.Source, in.Text); err != nil {
			return err
		}
		if row.Status != "active" && row.Status != "completed" {
			return nil // recorded; a paused or ended program does not branch
		}
		if now.After(c.ClosesAt) {
			res.Late = true
			return e.Store.Event(ctx, tx, now, row.SubscriberID, row.ID, "checkin_answered",
				map[string]any{"step": c.StepKey, "value": value, "source": in.Source, "late": true})
		}
		for _, b := range step.Checkin.Branches {
			if !slices.Contains(b.When, value) {
				continue
			}
			if b.Streak > 1 {
				recent, err := e.Store.RecentAnswers(ctx, tx, row.ID, c.Prompt, b.Streak)
				if err != nil {
					return err
				}
				if len(recent) < b.Streak || slices.ContainsFunc(recent, func(a string) bool { return !slices.Contains(b.When, a) }) {
					continue
				}
			}
			acts, err := e.applyBranch(ctx, tx, w, &asked{step, c.OpenedAt}, b.Send, b.Switch, b.Extend, now)
			if err != nil {
				return err
			}
			res.Actions = append(res.Actions, acts...)
		}
		return e.Store.Event(ctx, tx, now, row.SubscriberID, row.ID, "checkin_answered",
			map[string]any{"step": c.StepKey, "value": value, "source": in.Source, "actions": res.Actions})
	})
	if err != nil {
		return AnswerResult{}, err
	}
	// Counted by the step's key (its id in the program file); the prompt
	// may be shared by several steps.
	e.Observer.CheckinAnswer(program, stepKey, res.Value)
	return res, nil
}

// ApplyCommand runs the program command a whole-message reply names (such
// as MOVED ON) on a running enrollment, as the program version the
// enrollment is pinned to defines it: a newer version's command may send a
// step or switch to a track this one lacks. ok is false when the
// enrollment is not running or its version has no such command.
func (e *Engine) ApplyCommand(ctx context.Context, enrollmentID int64, text string) (acts []string, ok bool, err error) {
	err = e.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		acts, ok = nil, false
		row, err := e.Store.LockEnrollment(ctx, tx, enrollmentID)
		if err != nil {
			return err
		}
		if row.Status != "active" && row.Status != "paused" {
			return nil
		}
		w, err := e.newWork(ctx, row)
		if err != nil {
			return err
		}
		cmd, found := FindCommand(w.prog, text)
		if !found {
			return nil
		}
		ok = true
		acts, err = e.applyBranch(ctx, tx, w, nil, cmd.Send, cmd.Switch, nil, e.Clock.Now())
		if err != nil {
			return err
		}
		return e.Store.Event(ctx, tx, e.Clock.Now(), row.SubscriberID, row.ID, "command", map[string]any{"actions": acts})
	})
	if err != nil {
		return nil, false, err
	}
	return acts, ok, nil
}

// FindCommand finds the program command a whole-message reply names.
func FindCommand(p *programs.Program, text string) (programs.Command, bool) {
	t := NormalizeReply(text)
	for _, c := range p.Commands {
		for _, m := range c.Match {
			if strings.EqualFold(m, t) {
				return c, true
			}
		}
	}
	return programs.Command{}, false
}

// asked is the check-in a branch answers: its step and when it went out.
type asked struct {
	step   *programs.Step
	opened time.Time
}

// applyBranch changes the enrollment's schedule as a branch says, plans any
// step it sends, and saves the new state, all inside tx. q is nil for a
// command.
func (e *Engine) applyBranch(ctx context.Context, tx *sqlx.Tx, w *work, q *asked, send, switchTo string, ext *programs.Extend, now time.Time) ([]string, error) {
	var acts []string
	var b store.PlanBatch
	// Validation keeps a version's branches within the version; a branch
	// from elsewhere must fail here, not reach a nil step.
	if send != "" && w.prog.Step(send) == nil {
		return nil, fmt.Errorf("program version %d has no step %q", w.row.ProgramVersionID, send)
	}
	if switchTo != "" && w.prog.Track(switchTo) == nil {
		return nil, fmt.Errorf("program version %d has no track %q", w.row.ProgramVersionID, switchTo)
	}
	today := LocalDate(now, w.loc)
	if ext != nil && q != nil {
		s := q.step
		if w.ext[s.Key] < ext.Max {
			w.ext[s.Key]++
			w.st.Shift += ext.Days
			civil := reaskAt(w, q, ext.Days)
			occ := &Occurrence{Step: s, Key: fmt.Sprintf("%s#%d", s.Key, w.ext[s.Key]+1), Civil: civil, Due: Resolve(civil, w.loc)}
			if err := e.planOccurrence(w, occ, now, &b); err != nil {
				return nil, err
			}
			acts = append(acts, extendAction(ext.Days, w.ext[s.Key], ext.Max))
		} else {
			acts = append(acts, extendLimitAction)
			// The branch's message is about the extra time; there is none
			// left, so the program's message for that case goes instead.
			// A program without one (or a version pinned before at_limit
			// existed) keeps the branch's message, written for both.
			if ext.AtLimit != "" {
				send = ext.AtLimit
				if w.prog.Step(send) == nil {
					return nil, fmt.Errorf("program version %d has no step %q", w.row.ProgramVersionID, send)
				}
			}
		}
	}
	if switchTo != "" && switchTo != w.st.Track {
		w.st.Track = switchTo
		w.st.Origin = daysBetween(w.st.StartDate, today) - w.st.Shift + 1
		if err := e.Store.CancelQueuedLessons(ctx, tx, now, w.row.ID); err != nil {
			return nil, err
		}
		acts = append(acts, switchAction(switchTo))
	}
	if send != "" {
		s := w.prog.Step(send)
		civil := now.In(w.loc)
		civil = time.Date(civil.Year(), civil.Month(), civil.Day(), civil.Hour(), civil.Minute(), 0, 0, time.UTC)
		occ := &Occurrence{Step: s, Key: s.Key + "@" + civil.Format("2006-01-02"), Civil: civil, Due: now}
		if err := e.planOccurrence(w, occ, now, &b); err != nil {
			return nil, err
		}
		acts = append(acts, "send "+send)
	}
	if _, err := e.Store.WritePlan(ctx, tx, now, b); err != nil {
		return nil, err
	}
	next, err := w.nextDue(now)
	if err != nil {
		return nil, err
	}
	return acts, e.Store.SaveEnrollmentState(ctx, tx, now, store.StateUpdate{
		ID: w.row.ID, Track: w.st.Track, Origin: w.st.Origin, Shift: w.st.Shift, Cursor: w.st.Cursor,
		CronCursors: jsonText(w.st.CronCursors), Extensions: jsonText(w.ext), NextDueAt: next, Phase: w.phase,
	})
}

// reaskAt is when an extended check-in is asked again: on the day the
// moved calendar now puts it, the extra days after it was due, not after it
// was answered (an answer given the next morning must still be asked again
// before the held phase begins) nor after it went out (a text held overnight
// by quiet hours went out the next morning, the day the held phase's
// lessons now begin on, shifted). A check-in with no calendar day, or of a
// track the person has since left, counts from the day it went out.
func reaskAt(w *work, q *asked, days int) time.Time {
	s := q.step
	if t := w.prog.Track(w.st.Track); s.Day != nil && !s.IsCron() && t != nil && slices.Contains(t.Steps, s) {
		return w.st.civilOf(*s.Day, askMinute(s)) // w.st.Shift already includes the extra days
	}
	return LocalDate(q.opened, w.loc).AddDate(0, 0, days).Add(time.Duration(askMinute(s)) * time.Minute)
}

func askMinute(s *programs.Step) int {
	if s.At != "" {
		return s.Minute()
	}
	if sched := s.Schedule(); sched != nil {
		n := sched.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC))
		return n.Hour()*60 + n.Minute()
	}
	return 9 * 60
}
