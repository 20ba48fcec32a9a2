package channel

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

// With limit 1/s and burst 1, ten sends need at least nine seconds: shown on
// simulated time through the limiter's explicit-time API, no sleeping.
func TestRateLimitSimulatedTime(t *testing.T) {
	lim := rate.NewLimiter(1, 1)
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

	now := t0
	for i := range 10 {
		r := lim.ReserveN(now, 1)
		if !r.OK() {
			t.Fatal("reservation refused")
		}
		now = now.Add(r.DelayFrom(now)) // the send happens when its token is ready
		if i == 0 && !now.Equal(t0) {
			t.Errorf("first send delayed to %v", now.Sub(t0))
		}
	}
	if took := now.Sub(t0); took < 9*time.Second {
		t.Errorf("10 sends took %v of simulated time, want >= 9s", took)
	}

	// The same with AllowN: sends only when allowed, stepping simulated time.
	lim = rate.NewLimiter(1, 1)
	sent, now := 0, t0
	for sent < 10 {
		if lim.AllowN(now, 1) {
			sent++
			if sent == 10 {
				break
			}
		}
		now = now.Add(100 * time.Millisecond)
	}
	if took := now.Sub(t0); took < 9*time.Second {
		t.Errorf("AllowN: 10 sends in %v of simulated time, want >= 9s", took)
	}
	if lim.AllowN(now.Add(500*time.Millisecond), 1) {
		t.Error("a token half a second after the last send")
	}
}

// The wrapper takes a token for every Send, across all its senders.
func TestRateLimitedWrapperTakesTokens(t *testing.T) {
	null := NewNull(Email)
	lim := rate.NewLimiter(rate.Every(time.Hour), 3) // 3 now, then nothing for a test's lifetime
	ch := NewRateLimited(null, lim)
	if ch.Kind() != Email || ch.Name() != "null" {
		t.Errorf("Kind %q Name %q", ch.Kind(), ch.Name())
	}

	const workers = 8
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		s, err := ch.NewSender()
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer s.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
			defer cancel()
			_, err := s.Send(ctx, Message{DeliveryID: 1})
			switch p, code := Classify(err); {
			case err == nil:
				ok.Add(1)
			case !p && code == "ratelimit":
				limited.Add(1)
			default:
				t.Errorf("unexpected error %v", err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 3 || limited.Load() != workers-3 || null.Sent() != 3 {
		t.Errorf("ok %d, limited %d, sent %d; want 3, %d, 3", ok.Load(), limited.Load(), null.Sent(), workers-3)
	}
	if null.OpenSenders() != 0 {
		t.Errorf("%d senders left open", null.OpenSenders())
	}
	if got := lim.TokensAt(time.Now()); got > 0.01 {
		t.Errorf("%.2f tokens left, want 0", got)
	}
	if NewRateLimited(null, nil) != Channel(null) {
		t.Error("nil limiter should return the channel as is")
	}
}

// BenchmarkRateLimited measures the rate achieved through the wrapper over
// the null channel, as msgs/s and as a fraction of the limit. With burst 1
// every Send past the first sleeps on a timer for 1/limit, and timer
// granularity (about 1ms) then caps the rate far below a high limit; a burst
// of about limit/100 lets the limiter catch up.
func BenchmarkRateLimited(b *testing.B) {
	for _, bc := range []struct {
		limit          rate.Limit
		burst, workers int
	}{
		{1000, 1, 1}, {1000, 1, 4},
		{20000, 1, 1}, {20000, 1, 4}, {20000, 200, 4},
	} {
		b.Run(fmt.Sprintf("limit=%v/burst=%d/workers=%d", bc.limit, bc.burst, bc.workers), func(b *testing.B) {
			ch := NewRateLimited(NewNull(SMS), rate.NewLimiter(bc.limit, bc.burst))
			jobs := make(chan int64)
			var wg sync.WaitGroup
			for range bc.workers {
				s, err := ch.NewSender()
				if err != nil {
					b.Fatal(err)
				}
				wg.Go(func() {
					defer s.Close()
					for id := range jobs {
						if _, err := s.Send(context.Background(), Message{DeliveryID: id}); err != nil {
							b.Error(err)
						}
					}
				})
			}
			b.ResetTimer()
			for i := range b.N {
				jobs <- int64(i)
			}
			close(jobs)
			wg.Wait()
			b.StopTimer()
			achieved := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(achieved, "msgs/s")
			b.ReportMetric(achieved/float64(bc.limit), "of-limit")
		})
	}
}

func TestNullChannel(t *testing.T) {
	n := NewNull(SMS)
	s, _ := n.NewSender()
	res, err := s.Send(context.Background(), Message{DeliveryID: 42})
	if err != nil || res.ProviderID != "null-42" || n.Sent() != 1 {
		t.Fatalf("%+v %v %d", res, err, n.Sent())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := s.Send(ctx, Message{}); err == nil {
		t.Error("send with a canceled context")
	}
	_ = s.Close()
	if _, err := s.Send(context.Background(), Message{}); err == nil || n.Sent() != 1 {
		t.Error("send on a closed sender")
	}
}
