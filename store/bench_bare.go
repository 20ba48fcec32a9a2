package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// BareQueue is the bench's yardstick: the claim and acknowledgement a
// general-purpose PostgreSQL job queue runs, on the narrowest table that can
// hold a job, with no work in between. What it reaches is what the
// machine's PostgreSQL allows any queue; the engine's rates are read
// against it.
type BareQueue struct {
	b          *Bench
	claim, ack *sqlx.Stmt
}

// BareQueue replaces the bare queue with n jobs, all due at at, and
// prepares its claim and acknowledgement, as the engine's are.
func (b *Bench) BareQueue(ctx context.Context, n int, at time.Time) (*BareQueue, error) {
	for _, step := range []struct {
		name string
		args []any
	}{{"bench_bare_reset", nil}, {"bench_bare_seed", []any{at, n}}, {"bench_bare_index", nil}, {"bench_bare_analyze", nil}} {
		if _, err := b.DB.ExecContext(ctx, b.text[step.name], step.args...); err != nil {
			return nil, fmt.Errorf("store: bench bare queue: %s: %w", step.name, err)
		}
	}
	q := &BareQueue{b: b}
	var err error
	if q.claim, err = b.DB.PreparexContext(ctx, b.text["bench_bare_claim"]); err != nil {
		return nil, fmt.Errorf("store: bench bare queue: prepare claim: %w", err)
	}
	if q.ack, err = b.DB.PreparexContext(ctx, b.text["bench_bare_ack"]); err != nil {
		q.claim.Close()
		return nil, fmt.Errorf("store: bench bare queue: prepare ack: %w", err)
	}
	return q, nil
}

// Claim claims up to limit due jobs in one statement and returns their ids.
func (q *BareQueue) Claim(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	if err := q.claim.SelectContext(ctx, &ids, now, limit); err != nil {
		return nil, fmt.Errorf("store: bench bare claim: %w", err)
	}
	return ids, nil
}

// Ack marks claimed jobs done in one statement.
func (q *BareQueue) Ack(ctx context.Context, ids []int64) error {
	if _, err := q.ack.ExecContext(ctx, pq.Array(ids)); err != nil {
		return fmt.Errorf("store: bench bare ack: %w", err)
	}
	return nil
}

// Done counts the jobs acknowledged.
func (q *BareQueue) Done(ctx context.Context) (int64, error) {
	var n int64
	if err := q.b.DB.GetContext(ctx, &n, q.b.text["bench_bare_done"]); err != nil {
		return 0, fmt.Errorf("store: bench bare queue: %w", err)
	}
	return n, nil
}

// Close releases the prepared statements.
func (q *BareQueue) Close() error { return errors.Join(q.claim.Close(), q.ack.Close()) }
