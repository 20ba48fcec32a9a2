package config

import (
	"errors"
	"flag"
	"strings"
	"testing"
	"time"
)

// REKINDLE_RETRY_FOR is how long temporary provider failures are retried:
// 24h unless set, --retry-for over the environment, and a value outside
// 1m..168h is refused naming the bounds.
func TestRetryForWindow(t *testing.T) {
	c, src, err := Load(env(nil), nil)
	if err != nil || c.RetryFor != 24*time.Hour || src["REKINDLE_RETRY_FOR"] != "default" {
		t.Fatalf("default: %v from %s (%v), want 24h", c.RetryFor, src["REKINDLE_RETRY_FOR"], err)
	}
	c, _, err = Load(env(map[string]string{"REKINDLE_RETRY_FOR": "72h"}), nil)
	if err != nil || c.RetryFor != 72*time.Hour {
		t.Fatalf("env 72h: %v (%v)", c.RetryFor, err)
	}
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	Flags(fs)
	if err := fs.Parse([]string{"--retry-for", "90m"}); err != nil {
		t.Fatal(err)
	}
	c, src, err = Load(env(map[string]string{"REKINDLE_RETRY_FOR": "72h"}), fs)
	if err != nil || c.RetryFor != 90*time.Minute || src["REKINDLE_RETRY_FOR"] != "flag" {
		t.Fatalf("flag 90m: %v from %s (%v)", c.RetryFor, src["REKINDLE_RETRY_FOR"], err)
	}
	for _, ok := range []string{"1m", "168h"} {
		if _, _, err := Load(env(map[string]string{"REKINDLE_RETRY_FOR": ok}), nil); err != nil {
			t.Errorf("%s, a bound, is refused: %v", ok, err)
		}
	}
	for val, want := range map[string]string{
		"59s":      "at least 1m, at most 168h (7 days)",
		"168h1s":   "at least 1m, at most 168h (7 days)",
		"30d":      "is not a duration",
		"-1h":      "at least 1m",
		"tomorrow": "is not a duration",
	} {
		_, _, err := Load(env(map[string]string{"REKINDLE_RETRY_FOR": val}), nil)
		var ce *Error
		if !errors.As(err, &ce) || ce.Name != "REKINDLE_RETRY_FOR" || !strings.Contains(err.Error(), want) {
			t.Errorf("REKINDLE_RETRY_FOR=%s: got %v, want an error naming REKINDLE_RETRY_FOR with %q", val, err, want)
		}
	}
}
