package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ErrNotFound is returned when a looked-up row does not exist.
var ErrNotFound = errors.New("not found")

// ErrAlreadyEnrolled means the person is already in the program.
var ErrAlreadyEnrolled = errors.New("already enrolled in this program")

// SaveProgramVersion stores a program definition once per content hash and
// returns its id.
func (s *Store) SaveProgramVersion(ctx context.Context, now time.Time, slug, version, hash string, definition any) (int64, error) {
	b, err := json.Marshal(definition)
	if err != nil {
		return 0, fmt.Errorf("store: program %s: %w", slug, err)
	}
	var id int64
	if err := s.stmt(nil, "upsert_program_version").GetContext(ctx, &id, slug, version, hash, string(b), now); err != nil {
		return 0, fmt.Errorf("store: save program %s: %w", slug, err)
	}
	return id, nil
}

// ProgramVersion loads a stored definition into v.
func (s *Store) ProgramVersion(ctx context.Context, id int64, v any) error {
	var b []byte
	if err := s.stmt(nil, "program_version").GetContext(ctx, &b, id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: program version %d: %w", id, ErrNotFound)
		}
		return fmt.Errorf("store: program version %d: %w", id, err)
	}
	return json.Unmarshal(b, v)
}

// Subscriber is a person.
type Subscriber struct {
	ID          int64  `db:"id"`
	FirstName   string `db:"first_name"`
	Email       string `db:"email"`
	Phone       string `db:"phone"`
	Timezone    string `db:"timezone"`
	EmailStatus string `db:"email_status"`
	SMSStatus   string `db:"sms_status"`
}

// FindSubscriber finds a person by email or phone.
func (s *Store) FindSubscriber(ctx context.Context, tx *sqlx.Tx, email, phone string) (Subscriber, error) {
	var sub Subscriber
	err := s.stmt(tx, "find_subscriber").GetContext(ctx, &sub, email, phone)
	if errors.Is(err, sql.ErrNoRows) {
		return sub, ErrNotFound
	}
	if err != nil {
		return sub, fmt.Errorf("store: find subscriber: %w", err)
	}
	return sub, nil
}

// Consent is one piece of consent evidence.
type Consent struct {
	Channel, Action, Text, Source, IP, UserAgent string
}

// NewEnrollment is what Enroll writes.
type NewEnrollment struct {
	FirstName, Email, Phone, Timezone string
	EmailStatus, SMSStatus            string // none, pending, confirmed
	Consents                          []Consent
	ProgramVersionID                  int64
	Program                           string
	Status                            string // active or pending (until confirmed)
	StartDate                         time.Time
	Track, Phase                      string
	NextDueAt                         *time.Time
}

// Enroll creates or updates the subscriber, records consent and creates the
// enrollment, in one transaction. It returns ErrAlreadyEnrolled when the
// person is already in the program.
func (s *Store) Enroll(ctx context.Context, now time.Time, n NewEnrollment) (subscriberID, enrollmentID int64, err error) {
	err = s.InTx(ctx, func(tx *sqlx.Tx) error {
		existing, ferr := s.returningSubscriber(ctx, tx, n)
		switch {
		case ferr == nil:
			subscriberID = existing.ID
			u := returning(existing, n)
			if _, err := s.stmt(tx, "update_subscriber_channels").ExecContext(ctx, existing.ID, n.FirstName, n.Timezone,
				u.emailStatus, u.smsStatus, now, u.email, u.phone); err != nil {
				return fmt.Errorf("store: update subscriber: %w", err)
			}
		case errors.Is(ferr, ErrNotFound):
			if err := s.stmt(tx, "upsert_subscriber").GetContext(ctx, &subscriberID, n.FirstName, n.Email, n.Phone, n.Timezone,
				n.EmailStatus, n.SMSStatus, now); err != nil {
				return fmt.Errorf("store: create subscriber: %w", err)
			}
		default:
			return ferr
		}
		for _, c := range n.Consents {
			if _, err := s.stmt(tx, "insert_consent").ExecContext(ctx, subscriberID, c.Channel, c.Action, c.Text, c.Source, c.IP, c.UserAgent, now); err != nil {
				return fmt.Errorf("store: record consent: %w", err)
			}
		}
		var next any
		if n.NextDueAt != nil {
			next = *n.NextDueAt
		}
		err := s.stmt(tx, "insert_enrollment").GetContext(ctx, &enrollmentID, subscriberID, n.ProgramVersionID, n.Program,
			n.Status, n.Timezone, n.StartDate.Format("2006-01-02"), n.Track, n.Phase, next, now)
		if isUniqueViolation(err) {
			return ErrAlreadyEnrolled
		}
		if err != nil {
			return fmt.Errorf("store: create enrollment: %w", err)
		}
		return s.Event(ctx, tx, now, subscriberID, enrollmentID, "enrolled", map[string]any{"program": n.Program, "status": n.Status})
	})
	return subscriberID, enrollmentID, err
}

// ContactError refuses an enrollment whose email or phone clashes with
// what is on file: the phone belongs to someone with another email, or a
// sign-up gives an address the person on file does not have (only the
// operator may add or replace one: anyone can type one). Field names the
// input at fault.
type ContactError struct {
	Field  string
	OnFile string // "email" or "phone": the address on file that differs
	Reason string
}

func (e *ContactError) Error() string { return e.Field + ": " + e.Reason }

// returningSubscriber is the person an enrollment's email or phone finds,
// ErrNotFound for someone new, or a *ContactError.
func (s *Store) returningSubscriber(ctx context.Context, tx *sqlx.Tx, n NewEnrollment) (Subscriber, error) {
	var found []Subscriber
	if err := s.stmt(tx, "subscribers_by_contact").SelectContext(ctx, &found, n.Email, n.Phone); err != nil {
		return Subscriber{}, fmt.Errorf("store: find subscriber: %w", err)
	}
	if len(found) == 0 {
		return Subscriber{}, ErrNotFound
	}
	sub := found[0]
	if len(found) > 1 {
		return Subscriber{}, &ContactError{Field: "phone", OnFile: "email", Reason: "this number is already on file with another email address"}
	}
	if n.Status != "pending" {
		return sub, nil // the operator may add or replace an address
	}
	// A sign-up may be anyone's: it must give the addresses on file, and
	// may not add one to a person either, since whoever typed it would then
	// answer the confirmation for them.
	if n.Email != "" && n.Email != sub.Email {
		return Subscriber{}, &ContactError{Field: "phone", OnFile: "email", Reason: "this number is already on file with another email address, or none"}
	}
	if n.Phone != "" && n.Phone != sub.Phone {
		return Subscriber{}, &ContactError{Field: "phone", OnFile: "phone", Reason: "this email address is on file with another number, or none"}
	}
	return sub, nil
}

// contactUpdate is what an enrollment writes on a returning person.
type contactUpdate struct {
	email, phone           string // "" keeps the one on file
	emailStatus, smsStatus string // "none" keeps the one on file
}

// returning works out a returning person's addresses and their statuses. A
// confirmed address stays confirmed; an address new to them starts from
// what this enrollment says, never from the confirmation of the one it
// replaces.
func returning(sub Subscriber, n NewEnrollment) contactUpdate {
	u := contactUpdate{emailStatus: n.EmailStatus, smsStatus: n.SMSStatus}
	if n.Email != "" && n.Email != sub.Email {
		u.email = n.Email
	} else {
		u.emailStatus = keepConfirmed(sub.EmailStatus, n.EmailStatus)
	}
	if n.Phone != "" && n.Phone != sub.Phone {
		u.phone = n.Phone
	} else {
		u.smsStatus = keepConfirmed(sub.SMSStatus, n.SMSStatus)
	}
	return u
}

func keepConfirmed(old, new string) string {
	if old == "confirmed" && new != "revoked" {
		return "confirmed"
	}
	return new
}

// Event appends to the audit trail.
func (s *Store) Event(ctx context.Context, tx *sqlx.Tx, now time.Time, subscriberID, enrollmentID int64, kind string, data map[string]any) error {
	b, _ := json.Marshal(data)
	if _, err := s.stmt(tx, "insert_event").ExecContext(ctx, subscriberID, enrollmentID, kind, string(b), now); err != nil {
		return fmt.Errorf("store: event %s: %w", kind, err)
	}
	return nil
}

// LiveEnrollment is an enrollment that is not finished.
type LiveEnrollment struct {
	ID      int64  `db:"id"`
	Program string `db:"program"`
	Status  string `db:"status"`
	// PausedUntil and Timezone let a page say when a timed pause ends,
	// in the person's own calendar (LiveEnrollments only).
	PausedUntil *time.Time `db:"paused_until"`
	Timezone    string     `db:"timezone"`
}

// LiveEnrollments lists a person's running or paused enrollments.
func (s *Store) LiveEnrollments(ctx context.Context, subscriberID int64) ([]LiveEnrollment, error) {
	var out []LiveEnrollment
	if err := s.stmt(nil, "live_enrollments_of").SelectContext(ctx, &out, subscriberID); err != nil {
		return nil, fmt.Errorf("store: enrollments: %w", err)
	}
	return out, nil
}

// LockEnrollment reads an enrollment for update inside tx.
func (s *Store) LockEnrollment(ctx context.Context, tx *sqlx.Tx, id int64) (Enrollment, error) {
	var e Enrollment
	err := s.stmt(tx, "lock_enrollment").GetContext(ctx, &e, id)
	if errors.Is(err, sql.ErrNoRows) {
		return e, fmt.Errorf("store: enrollment %d: %w", id, ErrNotFound)
	}
	if err != nil {
		return e, fmt.Errorf("store: enrollment %d: %w", id, err)
	}
	return e, nil
}

// Pause stops an active enrollment's schedule; its queued deliveries are
// held until it resumes.
func (s *Store) Pause(ctx context.Context, tx *sqlx.Tx, now time.Time, id int64, until *time.Time) (bool, error) {
	var u any
	if until != nil {
		u = *until
	}
	res, err := s.stmt(tx, "pause_enrollment").ExecContext(ctx, id, now, u)
	if err != nil {
		return false, fmt.Errorf("store: pause: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	if _, err := s.stmt(tx, "hold_queued_of_enrollment").ExecContext(ctx, id, now); err != nil {
		return false, fmt.Errorf("store: pause: hold queued: %w", err)
	}
	return true, nil
}

// Resume restarts a paused enrollment, shifting its calendar by shiftDays.
// Its held and queued deliveries go back to the queue at shift(not_before),
// or now if that has passed; shift is the engine's, which knows the
// enrollment's zone and how a local wall time resolves to an instant.
func (s *Store) Resume(ctx context.Context, tx *sqlx.Tx, now time.Time, id int64, shiftDays int, next *time.Time,
	shift func(notBefore time.Time) time.Time) (bool, error) {
	var nx any
	if next != nil {
		nx = *next
	}
	res, err := s.stmt(tx, "resume_enrollment").ExecContext(ctx, id, now, shiftDays, nx)
	if err != nil {
		return false, fmt.Errorf("store: resume: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	var queued []struct {
		ID        int64     `db:"id"`
		NotBefore time.Time `db:"not_before"`
	}
	if err := s.stmt(tx, "lock_queued_of_enrollment").SelectContext(ctx, &queued, id); err != nil {
		return false, fmt.Errorf("store: resume: queued: %w", err)
	}
	if len(queued) == 0 {
		return true, nil
	}
	ids, times := make([]int64, len(queued)), make([]string, len(queued))
	for i, q := range queued {
		ids[i], times[i] = q.ID, ts(shift(q.NotBefore))
	}
	if _, err := s.stmt(tx, "shift_queued_deliveries").ExecContext(ctx, now, pq.Array(ids), pq.Array(times)); err != nil {
		return false, fmt.Errorf("store: resume: shift queued: %w", err)
	}
	return true, nil
}

// Unenroll ends an enrollment and cancels its queued deliveries.
func (s *Store) Unenroll(ctx context.Context, tx *sqlx.Tx, now time.Time, id int64) (bool, error) {
	res, err := s.stmt(tx, "unenroll").ExecContext(ctx, id, now)
	if err != nil {
		return false, fmt.Errorf("store: unenroll: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, nil
	}
	if _, err := s.stmt(tx, "cancel_queued_of_enrollment").ExecContext(ctx, id, now, "unenrolled"); err != nil {
		return false, fmt.Errorf("store: unenroll: cancel queued: %w", err)
	}
	return true, nil
}

// DueToResume lists paused enrollments whose pause has run out.
func (s *Store) DueToResume(ctx context.Context, now time.Time) ([]int64, error) {
	var ids []int64
	if err := s.stmt(nil, "due_to_resume").SelectContext(ctx, &ids, now); err != nil {
		return nil, fmt.Errorf("store: due to resume: %w", err)
	}
	return ids, nil
}

// StateUpdate is an enrollment's schedule after a branch.
type StateUpdate struct {
	ID          int64
	Track       string
	Origin      int
	Shift       int
	Cursor      int64
	CronCursors string
	Extensions  string
	NextDueAt   *time.Time
	Phase       string
}

// SaveEnrollmentState writes an enrollment's schedule after a branch.
func (s *Store) SaveEnrollmentState(ctx context.Context, tx *sqlx.Tx, now time.Time, u StateUpdate) error {
	var next any
	if u.NextDueAt != nil {
		next = *u.NextDueAt
	}
	if _, err := s.stmt(tx, "save_enrollment_state").ExecContext(ctx, u.ID, u.Track, u.Origin, u.Shift, u.Cursor,
		u.CronCursors, u.Extensions, next, u.Phase, now); err != nil {
		return fmt.Errorf("store: save enrollment %d: %w", u.ID, err)
	}
	return nil
}

// ActivateEnrollment turns a pending enrollment active from startDate.
func (s *Store) ActivateEnrollment(ctx context.Context, tx *sqlx.Tx, now time.Time, id int64, startDate time.Time, next *time.Time) error {
	var nx any
	if next != nil {
		nx = *next
	}
	if _, err := s.stmt(tx, "activate_enrollment").ExecContext(ctx, id, now, startDate.Format("2006-01-02"), nx); err != nil {
		return fmt.Errorf("store: activate enrollment: %w", err)
	}
	return nil
}

// CancelQueuedLessons cancels an enrollment's queued lessons (on a track switch).
func (s *Store) CancelQueuedLessons(ctx context.Context, tx *sqlx.Tx, now time.Time, id int64) error {
	if _, err := s.stmt(tx, "cancel_queued_lessons").ExecContext(ctx, id, now); err != nil {
		return fmt.Errorf("store: cancel queued lessons: %w", err)
	}
	return nil
}

// DeleteSubscriber removes a person and everything about them (the demo's
// reset; operators use erase, which keeps anonymous counts).
func (s *Store) DeleteSubscriber(ctx context.Context, email, phone string) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error {
		if _, err := s.stmt(tx, "lock_subscriber_enrollments").ExecContext(ctx, email, phone); err != nil {
			return fmt.Errorf("store: delete subscriber: %w", err)
		}
		if _, err := s.stmt(tx, "delete_subscriber").ExecContext(ctx, email, phone); err != nil {
			return fmt.Errorf("store: delete subscriber: %w", err)
		}
		if _, err := s.stmt(tx, "delete_suppressions_of").ExecContext(ctx, email, phone); err != nil {
			return fmt.Errorf("store: delete suppressions: %w", err)
		}
		return nil
	})
}

// EnrollmentFinished reports whether an enrollment has ended and nothing is
// left to send for it.
func (s *Store) EnrollmentFinished(ctx context.Context, id int64) (bool, error) {
	var done bool
	if err := s.stmt(nil, "enrollment_finished").GetContext(ctx, &done, id); err != nil {
		return false, fmt.Errorf("store: enrollment %d: %w", id, err)
	}
	return done, nil
}
