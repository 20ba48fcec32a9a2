package faults

import (
	"fmt"
	"strings"
	"sync"
	"time"
)

// row is one line of the summary table.
type row struct {
	scenario   string
	runs       int    // faults injected (kills, restarts, fault cases, races)
	lost       int    // deliveries due to reach a provider that never did
	duplicates int    // extra copies the providers received
	recovery   string // the longest recovery, with what it measures
	failed     bool
}

// summary collects the scenarios' rows, in the order they finish.
type summary struct {
	mu   sync.Mutex
	rows []row
}

func (s *summary) add(r row) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows = append(s.rows, r)
}

func (s *summary) markdown() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	b.WriteString("| scenario | runs | lost | duplicates | max recovery time |\n|---|---|---|---|---|\n")
	for _, r := range s.rows {
		name := r.scenario
		if r.failed {
			name += " **(FAILED)**"
		}
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %s |\n", name, r.runs, r.lost, r.duplicates, r.recovery)
	}
	return b.String()
}

// secs formats a duration as seconds with one decimal.
func secs(d time.Duration) string { return fmt.Sprintf("%.1f s", d.Seconds()) }
