package scheduler

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/store"
)

// EnrollRequest is a person joining a program.
type EnrollRequest struct {
	Program   string
	FirstName string
	Email     string // lower-cased by the caller
	Phone     string // E.164
	Timezone  string
	Start     time.Time // any instant on the local start day; zero means today
	Source    string    // operator, web, api
	Pending   bool      // wait for confirmation before anything is planned
	Consents  []store.Consent
}

// ErrUnknownProgram means no loaded program has that slug.
var ErrUnknownProgram = errors.New("no such program")

// Enroll records the person, their consent and the enrollment, pinned to the
// program's current version. Operator enrollments count as confirmed for the
// channels given.
func (e *Engine) Enroll(ctx context.Context, r EnrollRequest) (subscriberID, enrollmentID int64, err error) {
	comp, versionID, ok := e.Current(r.Program)
	if !ok {
		return 0, 0, fmt.Errorf("enroll: %w: %q", ErrUnknownProgram, r.Program)
	}
	loc, err := e.Zone(r.Timezone)
	if err != nil {
		return 0, 0, fmt.Errorf("enroll: %w", err)
	}
	now := e.Clock.Now()
	start := r.Start
	if start.IsZero() {
		start = now
	}
	startDate := LocalDate(start, loc)
	p := comp.Program
	n := store.NewEnrollment{
		FirstName: r.FirstName, Email: r.Email, Phone: r.Phone, Timezone: r.Timezone,
		EmailStatus: "none", SMSStatus: "none", Consents: r.Consents,
		ProgramVersionID: versionID, Program: p.Slug, Status: "active",
		StartDate: startDate, Track: p.StartTrack(), Phase: p.Phases[0].Key,
	}
	status := "confirmed"
	if r.Pending {
		status, n.Status = "pending", "pending"
	}
	if r.Email != "" {
		n.EmailStatus = status
	}
	if r.Phone != "" {
		n.SMSStatus = status
	}
	if !r.Pending {
		st := State{Track: n.Track, StartDate: startDate, Cursor: -1, Loc: loc}
		occ, err := Next(p, &st)
		if err != nil {
			return 0, 0, fmt.Errorf("enroll: %w", err)
		}
		if occ != nil {
			n.NextDueAt = &occ.Due
		}
	}
	return e.Store.Enroll(ctx, now, n)
}

// Activate starts a pending enrollment (after the person confirmed), with day
// 0 on the local day of now.
func (e *Engine) Activate(ctx context.Context, tx *sqlx.Tx, enrollmentID int64) error {
	row, err := e.Store.LockEnrollment(ctx, tx, enrollmentID)
	if err != nil {
		return err
	}
	if row.Status != "pending" {
		return nil
	}
	w, err := e.newWork(ctx, row)
	if err != nil {
		return err
	}
	now := e.Clock.Now()
	w.st.StartDate = LocalDate(now, w.loc)
	next, err := w.nextDue(now)
	if err != nil {
		return err
	}
	return e.Store.ActivateEnrollment(ctx, tx, now, enrollmentID, w.st.StartDate, next)
}

// Pause stops a person's schedule until Resume (or until until, if set).
func (e *Engine) Pause(ctx context.Context, enrollmentID int64, until *time.Time) (bool, error) {
	var ok bool
	err := e.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		var err error
		now := e.Clock.Now()
		if ok, err = e.Store.Pause(ctx, tx, now, enrollmentID, until); err != nil || !ok {
			return err
		}
		row, err := e.Store.LockEnrollment(ctx, tx, enrollmentID)
		if err != nil {
			return err
		}
		return e.Store.Event(ctx, tx, now, row.SubscriberID, enrollmentID, "paused", nil)
	})
	return ok, err
}

// Resume restarts a paused schedule. The calendar (queued messages
// included) shifts by the whole local days the person was away, so nothing
// is lost, repeated or sent in a pile. A queued message keeps its local
// wall-clock time, resolved as every other (Resolve) if the shift puts it
// on a DST change.
func (e *Engine) Resume(ctx context.Context, enrollmentID int64) (bool, error) {
	var ok bool
	err := e.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		row, err := e.Store.LockEnrollment(ctx, tx, enrollmentID)
		if err != nil {
			return err
		}
		if row.Status != "paused" {
			return nil
		}
		w, err := e.newWork(ctx, row)
		if err != nil {
			return err
		}
		now := e.Clock.Now()
		days := 0
		if row.PausedAt.Valid {
			days = max(0, daysBetween(LocalDate(row.PausedAt.Time, w.loc), LocalDate(now, w.loc)))
		}
		w.st.Shift += days
		next, err := w.nextDue(now)
		if err != nil {
			return err
		}
		shift := func(t time.Time) time.Time { return shiftLocalDays(t, days, w.loc) }
		if ok, err = e.Store.Resume(ctx, tx, now, enrollmentID, days, next, shift); err != nil || !ok {
			return err
		}
		return e.Store.Event(ctx, tx, now, row.SubscriberID, enrollmentID, "resumed", map[string]any{"shift_days": days})
	})
	return ok, err
}

// Unenroll ends an enrollment and cancels what is queued for it.
func (e *Engine) Unenroll(ctx context.Context, enrollmentID int64, reason string) (bool, error) {
	var ok bool
	err := e.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		now := e.Clock.Now()
		var err error
		if ok, err = e.Store.Unenroll(ctx, tx, now, enrollmentID); err != nil || !ok {
			return err
		}
		row, err := e.Store.LockEnrollment(ctx, tx, enrollmentID)
		if err != nil {
			return err
		}
		return e.Store.Event(ctx, tx, now, row.SubscriberID, enrollmentID, "unenrolled", map[string]any{"reason": reason})
	})
	return ok, err
}

// ResumeExpiredPauses resumes enrollments whose PAUSE n days ran out.
func (e *Engine) ResumeExpiredPauses(ctx context.Context) (int, error) {
	ids, err := e.Store.DueToResume(ctx, e.Clock.Now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, id := range ids {
		ok, err := e.Resume(ctx, id)
		if err != nil {
			return n, err
		}
		if ok {
			n++
		}
	}
	return n, nil
}
