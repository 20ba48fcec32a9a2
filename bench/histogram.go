package bench

import (
	"math"
	"sync"
	"time"
)

// histogram holds latencies in log-spaced buckets (2% apart), so a million
// samples cost the same few kilobytes as ten.
type histogram struct {
	mu     sync.Mutex
	counts [histBuckets]int64
	n      int64
	max    time.Duration
}

const (
	histBuckets = 1400 // 1.02^1400 µs is far past any run's length
	histGrowth  = 1.02
)

var logGrowth = math.Log(histGrowth)

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us < 1 {
		return 0
	}
	return min(int(math.Log(us)/logGrowth)+1, histBuckets-1)
}

// upper is the largest latency bucket i holds.
func upper(i int) time.Duration {
	return time.Duration(math.Pow(histGrowth, float64(i)) * float64(time.Microsecond))
}

func (h *histogram) add(d time.Duration) {
	d = max(d, 0)
	h.mu.Lock()
	h.counts[bucketOf(d)]++
	h.n++
	h.max = max(h.max, d)
	h.mu.Unlock()
}

// quantile is the latency q of the samples are at or under (within 2%).
func (h *histogram) quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return 0
	}
	rank := int64(math.Ceil(q * float64(h.n)))
	var seen int64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(upper(i), h.max)
		}
	}
	return h.max
}
