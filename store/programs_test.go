package store_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/testdb"
)

// Several instances starting together save the same program version at
// once: each gets the one stored row's id, none an error (the fault suite's
// three-instance start found "no rows" here).
func TestSaveProgramVersionConcurrently(t *testing.T) {
	st, _ := testdb.Store(t)
	for round := 0; round < 20; round++ {
		hash := fmt.Sprintf("hash-%d", round)
		const n = 8
		ids := make([]int64, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				<-start
				ids[i], errs[i] = st.SaveProgramVersion(context.Background(), time.Now(), "p", "1", hash, map[string]string{"k": "v"})
			}(i)
		}
		close(start)
		wg.Wait()
		for i := 0; i < n; i++ {
			if errs[i] != nil {
				t.Fatalf("round %d, instance %d: %v", round, i, errs[i])
			}
			if ids[i] != ids[0] {
				t.Fatalf("round %d: instance %d got id %d, instance 0 got %d", round, i, ids[i], ids[0])
			}
		}
	}
	var rows int
	if err := st.DB.Get(&rows, `SELECT count(*) FROM program_versions`); err != nil || rows != 20 {
		t.Fatalf("%d program versions stored (%v), want 20", rows, err)
	}
}
