package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/store"
)

// A bench run that has ended leaves its database free at once: the next
// run, started the moment the last one returns, is not told another is
// running.
func TestBenchDatabaseIsFreeTheMomentARunEnds(t *testing.T) {
	ctx := context.Background()
	dsn := testdb.New(t)
	for i := 0; i < 30; i++ {
		b, err := store.OpenBench(ctx, dsn)
		if errors.Is(err, store.ErrBenchRunning) {
			t.Fatalf("run %d: %v, although the run before it had ended", i+1, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		b.Close()
	}
}
