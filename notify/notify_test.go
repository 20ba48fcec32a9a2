package notify

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/fakesystemd"
)

// listen points NOTIFY_SOCKET at a fake systemd for the test.
func listen(t *testing.T) *fakesystemd.Socket {
	t.Helper()
	sd := fakesystemd.Listen(t)
	t.Setenv("NOTIFY_SOCKET", sd.Path)
	return sd
}

// expect is the datagram containing want.
func expect(sd *fakesystemd.Socket, want string, within time.Duration) string {
	m, _ := sd.Expect(want, within)
	return m
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestStateMessages(t *testing.T) {
	sd := listen(t)
	n := New(nil)

	n.Ready()
	if m := expect(sd, "READY=1", time.Second); m != "READY=1" {
		t.Errorf("ready datagram = %q", m)
	}
	n.Reloading()
	m := expect(sd, "RELOADING=1", time.Second)
	if !strings.Contains(m, "\nMONOTONIC_USEC=") {
		t.Errorf("reloading datagram %q lacks MONOTONIC_USEC", m)
	}
	n.ReloadDone()
	expect(sd, "READY=1", time.Second)
	n.Status("planner: 3 due\nsecond line")
	if m := expect(sd, "STATUS=", time.Second); m != "STATUS=planner: 3 due second line" {
		t.Errorf("status datagram = %q", m)
	}
	n.Stopping()
	if m := expect(sd, "STOPPING=1", time.Second); m != "STOPPING=1" {
		t.Errorf("stopping datagram = %q", m)
	}
}

func TestWatchdogFedOnlyWhileHealthy(t *testing.T) {
	sd := listen(t)
	t.Setenv("WATCHDOG_USEC", strconv.Itoa(int((200 * time.Millisecond).Microseconds())))
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))

	var logs syncBuffer
	n := New(slog.New(slog.NewTextHandler(&logs, nil)))

	var sick atomic.Bool
	// failed hears of each check that found the daemon unhealthy. Checks
	// run one after another, so when one fails every earlier check has
	// finished, its WATCHDOG=1 (if any) already written to the socket.
	failed := make(chan struct{}, 100)
	healthy := func(ctx context.Context) error {
		if _, ok := ctx.Deadline(); !ok {
			t.Error("health check has no deadline")
		}
		if sick.Load() {
			select {
			case failed <- struct{}{}:
			default:
			}
			return errors.New("db ping: connection refused")
		}
		return nil
	}
	awaitFailedCheck := func() {
		t.Helper()
		select {
		case <-failed:
		case <-time.After(time.Second):
			t.Fatal("health check not called while unhealthy")
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); n.RunWatchdog(ctx, healthy) }()

	n.Ready()
	expect(sd, "READY=1", time.Second)

	// Healthy: fed every 100ms.
	for range 3 {
		expect(sd, "WATCHDOG=1", time.Second)
	}

	// Unhealthy: starved. Once a check has failed, a marker datagram sent
	// now arrives after every WATCHDOG=1 fed before it; reading up to the
	// marker drains them, and from then on none may come.
	sick.Store(true)
	awaitFailedCheck()
	n.Status("health check failing")
	sd.Expect("STATUS=health check failing", time.Second)
	sd.None("WATCHDOG=1", 500*time.Millisecond)
	// Still checked while starved (every 100ms), so it can recover.
	for len(failed) > 0 {
		<-failed
	}
	awaitFailedCheck()

	// Healthy again: fed again.
	sick.Store(false)
	expect(sd, "WATCHDOG=1", time.Second)

	n.Stopping()
	expect(sd, "STOPPING=1", time.Second)
	cancel()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("RunWatchdog did not return after cancel")
	}

	out := logs.String()
	for _, want := range []string{"watchdog enabled", "watchdog fed", "watchdog not fed", "connection refused", "watchdog stopped"} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	// Transitions are logged once, not on every tick.
	if c := strings.Count(out, "watchdog not fed"); c != 1 {
		t.Errorf("logged %d starve transitions, want 1:\n%s", c, out)
	}
	if c := strings.Count(out, "watchdog fed"); c != 2 {
		t.Errorf("logged %d feed transitions, want 2:\n%s", c, out)
	}
}

func TestWatchdogHungHealthCheckTimesOut(t *testing.T) {
	sd := listen(t)
	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()))

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	calls := make(chan struct{}, 100)
	go New(nil).RunWatchdog(ctx, func(ctx context.Context) error {
		calls <- struct{}{}
		<-ctx.Done() // a ping that never answers
		return ctx.Err()
	})
	for range 3 {
		select {
		case <-calls:
		case <-time.After(time.Second):
			t.Fatal("hung health check blocked later checks")
		}
	}
	sd.None("WATCHDOG=1", 200*time.Millisecond)
}

func TestNoOpWithoutSystemd(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	t.Setenv("WATCHDOG_USEC", "100000")
	n := New(nil)
	n.Ready()
	n.Status("x")
	n.Stopping()
	returnsAtOnce(t, n)

	var nilN *Notifier
	nilN.Ready()
	nilN.Reloading()
	nilN.ReloadDone()
	nilN.Status("x")
	nilN.Stopping()
	returnsAtOnce(t, nilN)
}

func TestWatchdogOffOrForAnotherProcess(t *testing.T) {
	sd := listen(t)
	n := New(nil)

	t.Setenv("WATCHDOG_USEC", "")
	returnsAtOnce(t, n)

	t.Setenv("WATCHDOG_USEC", "100000")
	t.Setenv("WATCHDOG_PID", strconv.Itoa(os.Getpid()+1))
	returnsAtOnce(t, n)

	t.Setenv("WATCHDOG_USEC", "garbage")
	t.Setenv("WATCHDOG_PID", "")
	returnsAtOnce(t, n)

	sd.None("WATCHDOG=1", 100*time.Millisecond)
}

func returnsAtOnce(t *testing.T, n *Notifier) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		n.RunWatchdog(ctx, func(context.Context) error { return nil })
	}()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("RunWatchdog did not return at once")
	}
}
