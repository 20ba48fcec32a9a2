// Package fakesystemd plays systemd's side of sd_notify for tests: a
// unixgram socket a daemon is pointed at with NOTIFY_SOCKET, keeping every
// datagram with the time it arrived.
package fakesystemd

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// Socket is one listening notify socket; Path goes in NOTIFY_SOCKET.
type Socket struct {
	Path string
	t    testing.TB

	mu      sync.Mutex
	events  []event
	next    int           // the first datagram Expect, None and Drain have not read
	arrived chan struct{} // poked on every datagram
}

type event struct {
	at       time.Time
	datagram string
}

// Listen opens a socket in a short temporary folder (a socket path may be
// at most 108 bytes) and closes it when the test ends.
func Listen(t testing.TB) *Socket {
	t.Helper()
	dir, err := os.MkdirTemp("", "sdn")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Socket{Path: filepath.Join(dir, "notify.sock"), t: t, arrived: make(chan struct{}, 1)}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: s.Path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return // closed at cleanup
			}
			s.mu.Lock()
			s.events = append(s.events, event{time.Now(), string(buf[:n])})
			s.mu.Unlock()
			select {
			case s.arrived <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); <-done })
	return s
}

// Expect waits for a datagram containing want and returns it with the
// datagrams read before it; it fails the test after within.
func (s *Socket) Expect(want string, within time.Duration) (string, []string) {
	s.t.Helper()
	var before []string
	deadline := time.After(within)
	for {
		s.mu.Lock()
		for s.next < len(s.events) {
			d := s.events[s.next].datagram
			s.next++
			if strings.Contains(d, want) {
				s.mu.Unlock()
				return d, before
			}
			before = append(before, d)
		}
		s.mu.Unlock()
		select {
		case <-s.arrived:
		case <-deadline:
			s.t.Fatalf("no %q within %s; saw %q", want, within, before)
			return "", before
		}
	}
}

// None fails the test if a datagram containing unwanted arrives within d.
func (s *Socket) None(unwanted string, d time.Duration) {
	s.t.Helper()
	deadline := time.After(d)
	for {
		s.mu.Lock()
		for s.next < len(s.events) {
			m := s.events[s.next].datagram
			s.next++
			if strings.Contains(m, unwanted) {
				s.mu.Unlock()
				s.t.Fatalf("got %q, want none for %s", m, d)
				return
			}
		}
		s.mu.Unlock()
		select {
		case <-s.arrived:
		case <-deadline:
			return
		}
	}
}

// Drain skips every datagram received so far.
func (s *Socket) Drain() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next = len(s.events)
}

// Times returns when each line equal to state (such as "WATCHDOG=1")
// arrived, in order, whatever Expect has read.
func (s *Socket) Times(state string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []time.Time
	for _, e := range s.events {
		for _, line := range strings.Split(e.datagram, "\n") {
			if line == state {
				out = append(out, e.at)
			}
		}
	}
	return out
}
