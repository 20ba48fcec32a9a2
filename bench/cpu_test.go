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
