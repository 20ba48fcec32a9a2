package bench

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/clock"
)

// recorder notes how long after its due time each message reached the
// null channel the bench's dispatcher sends to (every message fully
// rendered and handed over, then dropped).
type recorder struct {
	null  *channel.Null
	stage atomic.Pointer[stage]
}

// stage is what one measured run expects.
type stage struct {
	clk    clock.Clock
	lay    *layout
	hist   histogram
	want   int64
	done   chan struct{}
	count  atomic.Int64
	last   atomic.Int64 // wall clock of the latest hand-off, unix ns
	strays atomic.Int64 // messages to people the layout did not make due
}

func newRecorder() *recorder { return &recorder{null: channel.NewNull(channel.Email)} }

// sink is the null channel, reporting each hand-off to r.
func (r *recorder) sink() channel.Channel { return channel.OnSent(r.null, r.handedOff) }

// expect starts a stage: want messages, due as lay says, timed by clk.
func (r *recorder) expect(want int, lay *layout, clk clock.Clock) *stage {
	s := &stage{clk: clk, lay: lay, want: int64(want), done: make(chan struct{})}
	if want == 0 {
		close(s.done)
	}
	r.stage.Store(s)
	return s
}

// wait returns when every expected message was handed off.
func (s *stage) wait(ctx context.Context, timeout time.Duration) error {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-s.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return fmt.Errorf("bench: %d of %d messages handed off after %s", s.count.Load(), s.want, timeout)
	}
}

func (r *recorder) handedOff(m channel.Message) {
	s := r.stage.Load()
	if s == nil {
		return
	}
	now := s.clk.Now()
	k, due := 0, false
	if i, ok := personOf(m.To); ok && i >= 1 && i <= s.lay.n {
		k, due = s.lay.dueRank(i)
	}
	if !due {
		s.strays.Add(1)
	} else {
		s.hist.add(now.Sub(s.lay.dueAt(k)))
	}
	s.last.Store(time.Now().UnixNano())
	if s.count.Add(1) == s.want {
		close(s.done)
	}
}
