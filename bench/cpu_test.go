package bench

import (
	"testing"
	"time"
)

func TestCPUSinceCountsEachBackendOnItsOwn(t *testing.T) {
	before := cpuSample{self: time.Second, backends: map[int]time.Duration{
		101: 5 * time.Second, // closes during the stage
		102: time.Second,
	}}
	after := cpuSample{self: 3 * time.Second, backends: map[int]time.Duration{
		102: 3 * time.Second,
		103: time.Second, // opened during the stage
	}}
	got := after.since(before)
	if got.self != 2*time.Second || got.backends != 3*time.Second || !got.backendsSeen {
		t.Fatalf("since = self %s, backends %s (seen %v); want 2s and 3s: the closed connection's total is not the stage's",
			got.self, got.backends, got.backendsSeen)
	}
}

func TestCPUWatchKeepsABackendThatLeftMidStage(t *testing.T) {
	w := &cpuWatch{
		first: cpuSample{backends: map[int]time.Duration{101: time.Second}},
		seen:  cpuSample{backends: map[int]time.Duration{101: time.Second}},
	}
	w.merge(cpuSample{self: time.Second, backends: map[int]time.Duration{101: 4 * time.Second, 102: time.Second}})
	// Backend 101 is gone by the end of the stage; what it was last seen
	// using still counts.
	w.merge(cpuSample{self: 2 * time.Second, backends: map[int]time.Duration{102: 2 * time.Second}})
	got := w.seen.since(w.first)
	if got.backends != 5*time.Second || got.self != 2*time.Second {
		t.Fatalf("backends %s, self %s; want 5s (3s of the one that left, 2s of the other) and 2s", got.backends, got.self)
	}
}
