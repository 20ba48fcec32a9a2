package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// Suppress records suppressions and cancels everything queued to those
// addresses, in one transaction.
func (s *Store) Suppress(ctx context.Context, now time.Time, sup []Suppression) error {
	return s.InTx(ctx, func(tx *sqlx.Tx) error { return s.suppress(ctx, tx, now, sup) })
}

// SuppressTx is Suppress inside the caller's transaction.
func (s *Store) SuppressTx(ctx context.Context, tx *sqlx.Tx, now time.Time, sup []Suppression) error {
	return s.suppress(ctx, tx, now, sup)
}

func (s *Store) suppress(ctx context.Context, tx *sqlx.Tx, now time.Time, sup []Suppression) error {
	if len(sup) == 0 {
		return nil
	}
	n := len(sup)
	ch, addr, reason, src := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	for i, x := range sup {
		ch[i], addr[i], reason[i], src[i] = x.Channel, x.Address, x.Reason, x.Source
	}
	if _, err := s.stmt(tx, "insert_suppressions").ExecContext(ctx, now, pq.Array(ch), pq.Array(addr), pq.Array(reason), pq.Array(src)); err != nil {
		return fmt.Errorf("store: suppress: %w", err)
	}
	if _, err := s.stmt(tx, "cancel_queued_to").ExecContext(ctx, now, pq.Array(ch), pq.Array(addr)); err != nil {
		return fmt.Errorf("store: cancel suppressed: %w", err)
	}
	return nil
}

// SuppressedChannels returns which of email and phone are suppressed:
// "email", "sms", both or none.
func (s *Store) SuppressedChannels(ctx context.Context, email, phone string) ([]string, error) {
	var chans pq.StringArray
	if err := s.stmt(nil, "suppressed_channels").GetContext(ctx, &chans, email, phone); err != nil {
		return nil, fmt.Errorf("store: suppressed channels: %w", err)
	}
	return chans, nil
}
