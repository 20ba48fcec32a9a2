package notify

import (
	"context"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// systemd restarts a service that has not fed it within WatchdogSec: the
// feeding period is half of it, and so is each health check's deadline, so
// a slow check still leaves time to feed before the timeout. A shutdown
// that cancels a check under way is not a failing check: it logs no
// "watchdog not fed" warning.
func TestWatchdogPeriodIsHalfTheTimeoutAndShutdownIsNoFailure(t *testing.T) {
	listen(t)
	t.Setenv("WATCHDOG_USEC", strconv.Itoa(int((10 * time.Second).Microseconds())))
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))
	var logs syncBuffer
	n := New(slog.New(slog.NewTextHandler(&logs, nil)))

	inCheck := make(chan time.Duration, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.RunWatchdog(ctx, func(hctx context.Context) error {
			dl, _ := hctx.Deadline()
			select {
			case inCheck <- time.Until(dl):
			default:
			}
			<-hctx.Done() // a check still running when the daemon stops
			return hctx.Err()
		})
	}()
	// The deadline can only have come closer since it was set.
	if left := <-inCheck; left > 5*time.Second {
		t.Errorf("health check deadline %v away, want at most half of WatchdogSec=10s", left)
	}
	cancel()
	<-done

	out := logs.String()
	if !strings.Contains(out, "period=5s") {
		t.Errorf("watchdog period is not half the 10s timeout:\n%s", out)
	}
	if strings.Contains(out, "watchdog not fed") {
		t.Errorf("shutting down logged a failing health check:\n%s", out)
	}
}

// systemctl status shows one line: every kind of line break becomes a space.
func TestStatusIsOneLine(t *testing.T) {
	sd := listen(t)
	New(nil).Status("a\r\nb\nc\rd")
	if m, _ := sd.Expect("STATUS=", time.Second); m != "STATUS=a b c d" {
		t.Errorf("status datagram = %q", m)
	}
}
