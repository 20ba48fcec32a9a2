package programs

import (
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// memoSchedule remembers a cron schedule's answers. The planner asks the
// same question for everyone who started on the same day (when does this
// weekly check-in next fall after their window opens?), and robfig/cron
// walks the calendar to answer it each time: a few microseconds that were a
// quarter of planning a step.
type memoSchedule struct {
	cron.Schedule

	mu   sync.Mutex
	next map[time.Time]time.Time
}

// memoLimit bounds the memo: a schedule is asked about a few distinct
// instants a day (start days and cursors), so it rarely fills.
const memoLimit = 4096

func memoize(s cron.Schedule) cron.Schedule {
	if s == nil {
		return nil
	}
	return &memoSchedule{Schedule: s, next: map[time.Time]time.Time{}}
}

// Next is the schedule's Next, remembered by its argument (compared as an
// instant in its location, as map keys of time.Time are).
func (m *memoSchedule) Next(after time.Time) time.Time {
	m.mu.Lock()
	n, ok := m.next[after]
	m.mu.Unlock()
	if ok {
		return n
	}
	n = m.Schedule.Next(after)
	m.mu.Lock()
	if len(m.next) >= memoLimit {
		clear(m.next)
	}
	m.next[after] = n
	m.mu.Unlock()
	return n
}
