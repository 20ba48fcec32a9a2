package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/store"
)

// heldAdvisoryLocks counts the advisory locks held in st's database, as
// another session sees them.
func heldAdvisoryLocks(t *testing.T, st *store.Store) int {
	t.Helper()
	var n int
	if err := st.DB.Get(&n, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
		AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAdvisoryLockNotUnlockedIsNotKept: when the unlock after a cluster job
// fails (an error, or false: the session did not give the lock up), the
// connection that holds the session lock must not go back to the pool, where
// it would keep the lock for as long as the process lives, and no other
// instance would ever run the job again. The connection is closed, which
// ends the session and so releases the lock; the error is returned.
func TestAdvisoryLockNotUnlockedIsNotKept(t *testing.T) {
	for _, tc := range []struct{ name, unlock, want string }{
		{"unlock errors", `SELECT $1::bigint / 0 > 0`, "division by zero"},
		{"unlock reports false", `SELECT pg_advisory_unlock($1 + 1)`, "not held"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			st, dsn := testdb.Store(t)
			other, err := store.Open(ctx, dsn, store.Options{}) // another instance
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			const id = 42

			st.SetQueryText("advisory_unlock", tc.unlock)
			runs := 0
			job := func(context.Context) error { runs++; return nil }
			ran, err := st.WithAdvisoryLock(ctx, id, job)
			if !ran || runs != 1 {
				t.Fatalf("ran %v (%d runs), want the job run once", ran, runs)
			}
			if err == nil || !strings.Contains(err.Error(), "unlock") || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %v, want one saying the unlock failed (%q)", err, tc.want)
			}

			// The session that held the lock ends when its connection is
			// closed; the server notices a moment later.
			deadline := time.Now().Add(10 * time.Second)
			for heldAdvisoryLocks(t, other) > 0 && time.Now().Before(deadline) {
				time.Sleep(20 * time.Millisecond)
			}
			if n := heldAdvisoryLocks(t, other); n > 0 {
				t.Fatalf("%d advisory locks still held 10s after the job ended: its connection went back to the pool holding the lock", n)
			}

			ran, err = other.WithAdvisoryLock(ctx, id, job)
			if err != nil || !ran || runs != 2 {
				t.Errorf("another instance: ran %v, err %v, %d runs; want the job run there", ran, err, runs)
			}
			if n := heldAdvisoryLocks(t, other); n > 0 {
				t.Errorf("%d advisory locks held after a clean unlock", n)
			}
		})
	}
}
