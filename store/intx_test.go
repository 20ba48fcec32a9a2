package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/internal/testdb"
)

// TestInTxRollsBackOnPanic: a panic in a transaction's function (one a
// caller recovers from, as net/http does for a handler) used to leave the
// transaction open on a context that never ends: its connection lost to
// the pool for good, and the rows it had locked (an enrollment the planner
// must take) locked until the process exited. The transaction is rolled
// back and the panic goes on.
func TestInTxRollsBackOnPanic(t *testing.T) {
	st, _ := testdb.Store(t)
	ctx := context.Background()
	if _, err := st.DB.ExecContext(ctx, `INSERT INTO subscribers (id, email, timezone, created_at, updated_at)
		VALUES (1, 'a@example.org', 'UTC', now(), now())`); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if p := recover(); p != "boom" {
				t.Fatalf("recovered %v, want the panic to go on", p)
			}
		}()
		st.InTx(ctx, func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `SELECT id FROM subscribers WHERE id = 1 FOR UPDATE`); err != nil {
				t.Fatal(err)
			}
			panic("boom")
		})
	}()
	if n := st.DB.Stats().InUse; n != 0 {
		t.Errorf("%d connections still in use after the panic", n)
	}
	lctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := st.DB.ExecContext(lctx, `SELECT id FROM subscribers WHERE id = 1 FOR UPDATE NOWAIT`); err != nil {
		t.Errorf("the row is still locked after the panic: %v", err)
	}
}
