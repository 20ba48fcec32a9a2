package cli

import (
	"testing"
	"time"

	"github.com/rekindle/rekindle/config"
	"github.com/rekindle/rekindle/scheduler"
)

// REKINDLE_RETRY_FOR reaches the engine, whose attempt budget for
// temporary provider failures follows it.
func TestRetryForReachesTheEngine(t *testing.T) {
	budget := func(vars map[string]string) (time.Duration, int) {
		t.Helper()
		cfg, _, err := config.Load(func(k string) string { return vars[k] }, nil)
		if err != nil {
			t.Fatal(err)
		}
		e := scheduler.New(nil, nil, nil, engineConfig(cfg), nil, nil)
		return e.Cfg.RetryFor, e.Cfg.MaxAttempts
	}
	defFor, defAttempts := budget(nil)
	if defFor != 24*time.Hour {
		t.Fatalf("default retry window %v, want 24h", defFor)
	}
	shortFor, shortAttempts := budget(map[string]string{"REKINDLE_RETRY_FOR": "10m"})
	longFor, longAttempts := budget(map[string]string{"REKINDLE_RETRY_FOR": "72h"})
	if shortFor != 10*time.Minute || longFor != 72*time.Hour {
		t.Fatalf("retry windows %v and %v, want 10m and 72h", shortFor, longFor)
	}
	// At the default 30s doubling to 1h: 10m is 30s+1m+2m+4m+8m (6 attempts),
	// 72h is 48 more hourly ones than 24h.
	if shortAttempts != 6 || longAttempts != defAttempts+48 {
		t.Errorf("attempts: 10m %d, 24h %d, 72h %d; want 6, n, n+48", shortAttempts, defAttempts, longAttempts)
	}
}
