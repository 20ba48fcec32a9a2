package cli

import (
	"context"
	"io"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/fakesmtp"
)

// servedInBackground is `rekindle serve` running in this process: cancel
// stands for SIGTERM, and exited gets its exit code.
type servedInBackground struct {
	logs   *syncBuffer
	cancel context.CancelFunc
	exited chan int
}

// serveInBackground starts `rekindle serve` with env; it is stopped when
// the test ends, if the test has not stopped it.
func serveInBackground(t *testing.T, env map[string]string) *servedInBackground {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	s := &servedInBackground{logs: &syncBuffer{}, cancel: cancel, exited: make(chan int, 1)}
	go func() {
		s.exited <- Run(ctx, []string{"serve"}, io.Discard, s.logs, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	}()
	return s
}

// waitForStall waits until the SMTP server has taken every fault it was
// given (an email reached it and it stalls), and fails the test, stopping
// serve, if none comes within 30 s.
func (s *servedInBackground) waitForStall(t *testing.T, smtp *fakesmtp.Server) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); smtp.PendingFaults() > 0; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			s.cancel()
			t.Fatalf("no email reached the SMTP server; log:\n%s", s.logs.String())
		}
	}
}
