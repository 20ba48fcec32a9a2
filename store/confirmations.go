package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// ConfirmationsPlanned returns how many rounds of confirmation messages an
// enrollment was sent and when the last was planned (zero when none).
func (s *Store) ConfirmationsPlanned(ctx context.Context, tx *sqlx.Tx, enrollmentID int64) (rounds int, last time.Time, err error) {
	var r struct {
		Rounds int          `db:"rounds"`
		Last   sql.NullTime `db:"last"`
	}
	if err := s.stmt(tx, "confirmations_planned").GetContext(ctx, &r, enrollmentID); err != nil {
		return 0, time.Time{}, fmt.Errorf("store: confirmations of enrollment %d: %w", enrollmentID, err)
	}
	return r.Rounds, r.Last.Time, nil
}

// PendingEnrollmentOf returns the person's enrollment in program that still
// waits for confirmation, or ErrNotFound.
func (s *Store) PendingEnrollmentOf(ctx context.Context, email, phone, program string) (int64, error) {
	var id int64
	err := s.stmt(nil, "pending_enrollment_of").GetContext(ctx, &id, email, phone, program)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("store: pending enrollment: %w", err)
	}
	return id, nil
}

// RunningEnrollmentToReconfirm returns the person's running enrollment in
// program when the email they gave is on file but not confirmed (never, or
// since an opt-out of it was lifted), or ErrNotFound.
func (s *Store) RunningEnrollmentToReconfirm(ctx context.Context, email, program string) (int64, error) {
	var id int64
	err := s.stmt(nil, "running_enrollment_to_reconfirm").GetContext(ctx, &id, email, program)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("store: running enrollment to reconfirm: %w", err)
	}
	return id, nil
}
