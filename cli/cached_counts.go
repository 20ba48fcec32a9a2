package cli

import (
	"context"
	"sync"
	"time"

	"github.com/rekindle/rekindle/store"
)

// enrollCountsEvery is how old the enrollment counts a scrape shows may be.
// Counting reads every enrollment, finished ones included, so the cost
// grows with everyone who ever took part; once a minute keeps it apart from
// the scrape interval (and from how many scrapers there are), and a gauge
// of people by phase is not read to the second.
const enrollCountsEvery = time.Minute

// cachedCounts keeps the last enrollment counts and when they were read.
type cachedCounts struct {
	mu     sync.Mutex
	at     time.Time
	counts []store.Count
}

// get returns the counts, reading them again with read once they are
// enrollCountsEvery old. A failed read keeps nothing, so the next scrape
// tries again.
func (c *cachedCounts) get(ctx context.Context, now time.Time, read func(context.Context) ([]store.Count, error)) ([]store.Count, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.at.IsZero() && now.Sub(c.at) < enrollCountsEvery && !now.Before(c.at) {
		return c.counts, nil
	}
	counts, err := read(ctx)
	if err != nil {
		return nil, err
	}
	c.at, c.counts = now, counts
	return counts, nil
}
