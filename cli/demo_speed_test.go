package cli

import (
	"strings"
	"testing"
)

// TestDemoSpeedBounded: --speed NaN passed the "must be positive" check
// (every comparison with NaN is false) and ran the demo on a clock that
// reads garbage, and a speed like 1e12 overflowed the demo's lease
// (speed × 30s) into a negative duration, so every claim's lease had run out
// before its send began. Both are refused before anything is created (the
// database here is unreachable), naming --speed.
func TestDemoSpeedBounded(t *testing.T) {
	env := map[string]string{"DATABASE_URL": "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=2",
		"REKINDLE_OUTBOX_DIR": t.TempDir(), "REKINDLE_LOG_LEVEL": "error"}
	for _, speed := range []string{"NaN", "+Inf", "1e12", "-1", "0"} {
		code, out, errs := run(t, env, "demo", "--speed", speed)
		if code != 2 || !strings.Contains(errs, "--speed") {
			t.Errorf("--speed %s: exit %d, want 2 naming --speed\nstdout: %s\nstderr: %s", speed, code, out, errs)
		}
	}
}
