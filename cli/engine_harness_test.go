package cli

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/config"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/store"
)

// engineHarness is the app as serve wires it (same wire(), same channels
// and dispatchers), driven by a manual clock so a test can run weeks of a
// program in a few seconds and stop at exact instants.
type engineHarness struct {
	t        *testing.T
	a        *app
	clk      *clock.Manual
	disp     []*scheduler.Dispatcher
	answered map[int64]bool
}

// newEngineHarness wires the app from env (DATABASE_URL and the rest) with
// a manual clock at start, migrating the database.
func newEngineHarness(t *testing.T, env map[string]string, start time.Time) *engineHarness {
	t.Helper()
	clk := clock.NewManual(start)
	h := wireHarness(t, env, clk)
	h.clk = clk
	return h
}

// newEngineHarnessRealClock is the harness on the wall clock (enroll and
// tick only; run needs the manual clock).
func newEngineHarnessRealClock(t *testing.T, env map[string]string) *engineHarness {
	t.Helper()
	return wireHarness(t, env, clock.Real{})
}

func wireHarness(t *testing.T, env map[string]string, clk clock.Clock) *engineHarness {
	t.Helper()
	getenv := func(k string) string { return env[k] }
	cfg, _, err := config.Load(getenv, nil)
	if err != nil {
		t.Fatal(err)
	}
	a, err := wire(context.Background(), &Env{Stdout: io.Discard, Stderr: io.Discard, Lookup: config.Getenv(getenv)}, cfg,
		wireOptions{clock: clk, migrate: true, channels: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.close)
	h := &engineHarness{t: t, a: a, answered: map[int64]bool{}}
	h.disp = a.dispatchers("test")
	t.Cleanup(func() {
		for _, d := range h.disp {
			d.Close()
		}
	})
	return h
}

// enroll enrolls a person as an operator would, confirmed on the channels
// given, starting now.
func (h *engineHarness) enroll(name, email, phone, tz string, extra ...store.Consent) (sub, enr int64) {
	h.t.Helper()
	var consents []store.Consent
	if email != "" {
		consents = append(consents, store.Consent{Channel: "email", Action: "confirmed", Text: "enrolled by an operator", Source: "operator"})
	}
	if phone != "" {
		consents = append(consents, store.Consent{Channel: "sms", Action: "confirmed", Text: "enrolled by an operator", Source: "operator"})
	}
	consents = append(consents, extra...)
	sub, enr, err := h.a.engine.Enroll(context.Background(), scheduler.EnrollRequest{Program: "rekindle", FirstName: name,
		Email: email, Phone: phone, Timezone: tz, Start: h.a.clock.Now(), Source: "operator", Consents: consents})
	if err != nil {
		h.t.Fatal(err)
	}
	return sub, enr
}

// tick plans and sends everything due at the clock's time.
func (h *engineHarness) tick() {
	h.t.Helper()
	ctx := context.Background()
	for {
		n, _, err := h.a.engine.PlanOnce(ctx)
		if err != nil {
			h.t.Fatal(err)
		}
		if n < h.a.engine.Cfg.PlanBatch {
			break
		}
	}
	for _, d := range h.disp {
		for {
			n, err := d.DispatchOnce(ctx)
			if err != nil {
				h.t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
	}
}

// run advances the clock by step until d has passed, ticking at every step
// and answering each person's newest check-in once with replies[prompt]
// (no entry: left unanswered).
func (h *engineHarness) run(d, step time.Duration, replies map[string]string, subs ...int64) {
	h.t.Helper()
	end := h.clk.Now().Add(d)
	for h.clk.Now().Before(end) {
		h.clk.Advance(step)
		h.tick()
		for _, sub := range subs {
			h.answer(sub, replies)
		}
	}
}

// answer replies to a person's newest check-in by SMS-style text.
func (h *engineHarness) answer(sub int64, replies map[string]string) {
	h.t.Helper()
	ctx := context.Background()
	c, err := h.a.store.OpenCheckin(ctx, sub, h.a.clock.Now())
	if errors.Is(err, store.ErrNotFound) {
		return
	}
	if err != nil {
		h.t.Fatal(err)
	}
	text, ok := replies[c.Prompt]
	if !ok || c.Answer != "" || h.answered[c.ID] {
		return
	}
	h.answered[c.ID] = true
	if _, err := h.a.engine.RecordAnswer(ctx, scheduler.AnswerInput{SubscriberID: sub, Text: text, Source: "sms"}); err != nil {
		h.t.Fatalf("answer %s=%q: %v", c.Prompt, text, err)
	}
}
