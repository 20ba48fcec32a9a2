package scheduler

import (
	"context"
	"strings"
	"testing"
	"time"
)

// Alive, which feeds the systemd watchdog, fails only for a service that
// is not running or a loop that has hung, naming it.
func TestAliveNamesAStuckLoop(t *testing.T) {
	s := &Service{e: &Engine{Cfg: Config{Lease: 2 * time.Minute}}, tick: 10 * time.Second}
	if err := s.Alive(context.Background()); err == nil || !strings.Contains(err.Error(), "not started") {
		t.Fatalf("before Start: %v, want not started", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.ctx = ctx
	s.newBeat("planner")
	b := s.newBeat("dispatcher email")
	if err := s.Alive(ctx); err != nil {
		t.Fatalf("loops just beat: %v", err)
	}
	b.at.Store(time.Now().Add(-s.stallAfter() - time.Minute).UnixNano())
	if err := s.Alive(ctx); err == nil || !strings.Contains(err.Error(), "dispatcher email loop stuck for") {
		t.Fatalf("a loop silent past %s: %v, want it named as stuck", s.stallAfter(), err)
	}
	b.mark()
	cancel()
	if err := s.Alive(ctx); err == nil || !strings.Contains(err.Error(), "stopped") {
		t.Fatalf("after stop: %v, want stopped", err)
	}
}
