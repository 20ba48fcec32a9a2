package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// CheckinByToken finds a check-in by its link token.
func (s *Store) CheckinByToken(ctx context.Context, token string) (Checkin, error) {
	return s.getCheckin(ctx, nil, "checkin_by_token", token)
}

// OpenCheckin is the latest check-in sent to a subscriber by now.
func (s *Store) OpenCheckin(ctx context.Context, subscriberID int64, now time.Time) (Checkin, error) {
	return s.getCheckin(ctx, nil, "open_checkin_of_subscriber", subscriberID, now)
}

// LockCheckin reads a check-in for update inside tx.
func (s *Store) LockCheckin(ctx context.Context, tx *sqlx.Tx, id int64) (Checkin, error) {
	return s.getCheckin(ctx, tx, "lock_checkin", id)
}

func (s *Store) getCheckin(ctx context.Context, tx *sqlx.Tx, name string, args ...any) (Checkin, error) {
	var c Checkin
	err := s.stmt(tx, name).GetContext(ctx, &c, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrNotFound
	}
	if err != nil {
		return c, fmt.Errorf("store: checkin: %w", err)
	}
	return c, nil
}

// SetCheckinAnswer records an answer value and the reply it came from.
func (s *Store) SetCheckinAnswer(ctx context.Context, tx *sqlx.Tx, id int64, answer string, at time.Time, source, reply string) error {
	if _, err := s.stmt(tx, "set_checkin_answer").ExecContext(ctx, id, answer, at, source, reply); err != nil {
		return fmt.Errorf("store: answer checkin: %w", err)
	}
	return nil
}

// RecentAnswers returns the newest n answers to prompt in an enrollment.
func (s *Store) RecentAnswers(ctx context.Context, tx *sqlx.Tx, enrollmentID int64, prompt string, n int) ([]string, error) {
	var out []string
	if err := s.stmt(tx, "recent_answers").SelectContext(ctx, &out, enrollmentID, prompt, n); err != nil {
		return nil, fmt.Errorf("store: recent answers: %w", err)
	}
	return out, nil
}
