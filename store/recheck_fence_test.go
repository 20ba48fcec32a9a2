package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/store"
)

// TestRecheckFencedByAttempt: the re-check of a claimed batch
// (cancel_suppressed_claimed) read the batch's attempt fence from its
// snapshot, and its UPDATE checked only that the row was still 'sending'.
// A row rescued and claimed again by another worker while the re-check
// waited for its lock (a newer attempt, 'sending' again) was then cancelled
// (or put back) under that worker, which went on to send it. The update
// checks the attempt too: another worker's claim is left alone.
func TestRecheckFencedByAttempt(t *testing.T) {
	st, _ := testdb.Store(t)
	ctx := context.Background()
	now := time.Date(2030, 1, 7, 12, 0, 0, 0, time.UTC)
	for _, q := range []string{
		`INSERT INTO deliveries (id, step_key, kind, channel, to_addr, status, attempts, due_at, not_before,
		                         lease_until, claimed_by, created_at, updated_at)
		 VALUES (1, 'lesson-1', 'lesson', 'email', 'gone@example.org', 'sending', 1, $1, $1,
		         $1::timestamptz + interval '2 minutes', 'us', $1, $1)`,
		`INSERT INTO suppressions (channel, address, reason, source, created_at)
		 VALUES ('email', 'gone@example.org', 'unsubscribed', 'link', $1)`,
	} {
		if _, err := st.DB.ExecContext(ctx, q, now); err != nil {
			t.Fatal(err)
		}
	}
	// Another worker's rescue and claim, committed while the re-check
	// waits for the row.
	other, err := st.DB.BeginTxx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()
	if _, err := other.ExecContext(ctx, `UPDATE deliveries SET attempts = 2, claimed_by = 'other' WHERE id = 1`); err != nil {
		t.Fatal(err)
	}
	type result struct {
		stopped []store.Stopped
		err     error
	}
	done := make(chan result, 1)
	go func() {
		s, err := st.CancelSuppressedClaimed(ctx, now, []int64{1}, []int64{1})
		done <- result{s, err}
	}()
	// Wait until the re-check is blocked on the row lock.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := st.DB.GetContext(ctx, &waiting, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the re-check never waited for the row")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := other.Commit(); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil {
		t.Fatal(r.err)
	}
	if len(r.stopped) != 0 {
		t.Errorf("the re-check stopped %v: another worker's newer attempt", r.stopped)
	}
	var status string
	var attempts int
	if err := st.DB.QueryRowContext(ctx, `SELECT status, attempts FROM deliveries WHERE id = 1`).Scan(&status, &attempts); err != nil {
		t.Fatal(err)
	}
	if status != "sending" || attempts != 2 {
		t.Errorf("delivery is %s, attempt %d; want the other worker's claim (sending, attempt 2) left alone", status, attempts)
	}
}
