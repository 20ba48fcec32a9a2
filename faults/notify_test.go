package faults

import (
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// notifySocket plays systemd's side of sd_notify: a unixgram socket the
// daemon is pointed at with NOTIFY_SOCKET, recording when each state
// (READY=1, WATCHDOG=1, ...) arrived.
type notifySocket struct {
	path string
	conn *net.UnixConn

	mu     sync.Mutex
	events []notifyEvent
}

type notifyEvent struct {
	at    time.Time
	state string
}

func listenNotify(t *testing.T) *notifySocket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	n := &notifySocket{path: path, conn: conn}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				return // closed at cleanup
			}
			now := time.Now()
			n.mu.Lock()
			for _, line := range strings.Split(string(buf[:k]), "\n") {
				if line != "" {
					n.events = append(n.events, notifyEvent{now, line})
				}
			}
			n.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	return n
}

// times returns when state arrived, in order.
func (n *notifySocket) times(state string) []time.Time {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []time.Time
	for _, e := range n.events {
		if e.state == state {
			out = append(out, e.at)
		}
	}
	return out
}

// between counts the times in ts within [from, to].
func between(ts []time.Time, from, to time.Time) int {
	n := 0
	for _, x := range ts {
		if !x.Before(from) && !x.After(to) {
			n++
		}
	}
	return n
}
