// Package clock gives the engine one notion of "now" that tests and the demo
// can speed up or pin. Every query that asks "what is due" takes its now from
// here, never from the database's own clock.
package clock

import (
	"sync"
	"time"
)

// Clock tells the time. Implementations must be safe for concurrent use.
type Clock interface {
	Now() time.Time
}

// Real is the wall clock.
type Real struct{}

// Now returns time.Now().
func (Real) Now() time.Time { return time.Now() }

// Manual is a clock that only moves when told to.
type Manual struct {
	mu  sync.Mutex
	now time.Time
}

// NewManual returns a Manual clock set to t.
func NewManual(t time.Time) *Manual { return &Manual{now: t} }

// Now returns the clock's current time.
func (m *Manual) Now() time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.now
}

// Set moves the clock to t.
func (m *Manual) Set(t time.Time) {
	m.mu.Lock()
	m.now = t
	m.mu.Unlock()
}

// Advance moves the clock forward by d and returns the new time.
func (m *Manual) Advance(d time.Duration) time.Time {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.now = m.now.Add(d)
	return m.now
}

// Scaled runs time faster than the wall clock: one real second is Speed
// simulated seconds, counted from Start.
type Scaled struct {
	Start time.Time // simulated time at Origin
	Speed float64
	real  time.Time
}

// NewScaled returns a clock that starts at start and runs speed times faster
// than the wall clock.
func NewScaled(start time.Time, speed float64) *Scaled {
	return &Scaled{Start: start, Speed: speed, real: time.Now()}
}

// Now returns the simulated time.
func (s *Scaled) Now() time.Time {
	elapsed := time.Since(s.real)
	return s.Start.Add(time.Duration(float64(elapsed) * s.Speed))
}
