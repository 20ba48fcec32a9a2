package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ClaimDeliveries leases up to limit queued deliveries of one channel whose
// time has come. Deliveries to suppressed addresses come back with status
// "cancelled" and must not be sent.
func (s *Store) ClaimDeliveries(ctx context.Context, now time.Time, channel string, limit int, lease time.Duration, worker string) ([]Delivery, error) {
	out := make([]Delivery, 0, batchRoom(limit))
	if err := sqlx.SelectContext(ctx, s.replanned(nil), &out, s.text["claim_deliveries"], now, channel, limit, lease.Milliseconds(), worker); err != nil {
		return nil, fmt.Errorf("store: claim deliveries: %w", err)
	}
	return out, nil
}

// AckDeliveries records a batch of outcomes in one statement, and suppresses
// the addresses of permanent failures (cancelling what is queued for them)
// in the same transaction.
func (s *Store) AckDeliveries(ctx context.Context, now time.Time, acks []Ack, suppress []Suppression) error {
	if len(acks) == 0 {
		return nil
	}
	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: ack: %w", err)
	}
	defer tx.Rollback()
	n := len(acks)
	id, att := make([]int64, n), make([]int64, n)
	st, pid, code, msg, retry := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]*string, n)
	deferred := make([]bool, n)
	for i, a := range acks {
		id[i], att[i], st[i], pid[i], code[i], msg[i] = a.ID, int64(a.Attempt), a.Status, a.ProviderID, a.Code, a.Err
		deferred[i] = a.Deferred
		if !a.RetryAt.IsZero() {
			r := ts(a.RetryAt)
			retry[i] = &r
		}
	}
	// A MERGE (store/sql/dispatcher.sql), whose count lib/pq does not read:
	// a fenced-out outcome is simply not written.
	if _, err := s.replanned(tx).ExecContext(ctx, s.text["ack_deliveries"], now, pq.Array(id), pq.Array(att), pq.Array(st),
		pq.Array(pid), pq.Array(code), pq.Array(msg), pq.Array(nullable(retry)), pq.Array(deferred)); err != nil {
		return fmt.Errorf("store: ack deliveries: %w", err)
	}
	if err := s.suppress(ctx, tx, now, suppress); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: ack: commit: %w", err)
	}
	return nil
}

// nullable turns optional strings into values pq writes as NULL.
func nullable(in []*string) []sql.NullString {
	out := make([]sql.NullString, len(in))
	for i, v := range in {
		if v != nil {
			out[i] = sql.NullString{String: *v, Valid: true}
		}
	}
	return out
}

// Stopped is a claimed delivery the re-check took back: status "cancelled"
// or "queued".
type Stopped struct {
	ID     int64  `db:"id"`
	Status string `db:"status"`
}

// RescueExpired returns deliveries whose lease ran out to the queue (or
// fails them after their last attempt) and returns their ids.
func (s *Store) RescueExpired(ctx context.Context, now time.Time, maxAttempts int) ([]int64, error) {
	var ids []int64
	if err := sqlx.SelectContext(ctx, s.replanned(nil), &ids, s.text["rescue_expired_leases"], now, maxAttempts); err != nil {
		return nil, fmt.Errorf("store: rescue leases: %w", err)
	}
	return ids, nil
}

// CancelSuppressedClaimed stops those of the given claimed deliveries (id,
// attempt) that must no longer be sent: cancelled when their address has
// been suppressed or their enrollment ended since they were claimed, queued
// again when it was paused. It returns them with their new status.
func (s *Store) CancelSuppressedClaimed(ctx context.Context, now time.Time, ids []int64, attempts []int64) ([]Stopped, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var out []Stopped
	if err := sqlx.SelectContext(ctx, s.replanned(nil), &out, s.text["cancel_suppressed_claimed"], now, pq.Array(ids), pq.Array(attempts)); err != nil {
		return nil, fmt.Errorf("store: re-check claimed deliveries: %w", err)
	}
	return out, nil
}

// ReleaseClaimed returns claimed deliveries (id, attempt) that were never
// started to the queue, without counting the attempt. One that is no longer
// this attempt's (rescued meanwhile) is left as it is.
func (s *Store) ReleaseClaimed(ctx context.Context, now time.Time, ids []int64, attempts []int64) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.replanned(nil).ExecContext(ctx, s.text["release_claimed"], now, pq.Array(ids), pq.Array(attempts)); err != nil {
		return fmt.Errorf("store: release claimed: %w", err)
	}
	return nil
}
