package scheduler

import (
	"context"
	"sync"
	"time"

	"github.com/rekindle/rekindle/store"
)

// recorder collects a batch's outcomes as workers finish them and writes
// them with the dispatcher's record: once at the end for a batch sent
// quickly, every Cfg.AckEvery for a slow one. Each write is one statement
// (plus one for suppressions), fenced by attempt like every ack.
type recorder struct {
	d         *Dispatcher
	ctx       context.Context
	claimedAt time.Time

	in   chan outcome
	done chan struct{}
	err  error // the first write that failed; read after done
}

type outcome struct {
	ack store.Ack
	sup *store.Suppression
}

func (d *Dispatcher) newRecorder(ctx context.Context, claimedAt time.Time, size int) *recorder {
	r := &recorder{d: d, ctx: ctx, claimedAt: claimedAt, in: make(chan outcome, size), done: make(chan struct{})}
	go r.loop()
	return r
}

// add hands one outcome over; it never blocks (the channel holds a batch).
func (r *recorder) add(ack store.Ack, sup *store.Suppression) { r.in <- outcome{ack, sup} }

// close writes what is left and reports the first failed write.
func (r *recorder) close() error {
	close(r.in)
	<-r.done
	return r.err
}

func (r *recorder) loop() {
	defer close(r.done)
	var acks []store.Ack
	var sups []store.Suppression
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	flush := func() {
		if len(acks) == 0 {
			return
		}
		if err := r.d.record(r.ctx, r.claimedAt, acks, sups); err != nil && r.err == nil {
			r.err = err
		}
		acks, sups = nil, nil
	}
	for {
		select {
		case o, ok := <-r.in:
			if !ok {
				flush()
				return
			}
			if len(acks) == 0 {
				timer.Reset(r.d.e.Cfg.AckEvery)
			}
			acks = append(acks, o.ack)
			if o.sup != nil {
				sups = append(sups, *o.sup)
			}
		case <-timer.C:
			flush()
		}
	}
}

// optOutGate lets a worker start a claimed message. It first re-checks, for
// every message of the batch not started yet, opt-outs and whether the
// person paused or left (store.CancelSuppressedClaimed) when the last check
// (the claim itself, at first) is older than Cfg.Recheck; a batch sent
// within Cfg.Recheck of its claim never asks the database again. And it
// starts no message once three quarters of the batch's lease are gone (a
// batch that waited for senders another batch held): the rescuer may hand
// it to another worker when the lease ends, so it is given back instead.
type optOutGate struct {
	d        *Dispatcher
	batch    []store.Delivery
	every    time.Duration
	deadline time.Time // real time after which no message starts
	// sendBy is the real time by which a message being sent is given up
	// (a provider that stalls): past the lease, the rescuer would give the
	// row to another worker while this one might still deliver it. The
	// last eighth of the lease is left for recording the outcome.
	sendBy time.Time

	mu      sync.Mutex
	checked time.Time
	started []bool
	stopped map[int64]bool // taken back by a re-check, or given back by release: not to be sent
}

func (d *Dispatcher) newOptOutGate(batch []store.Delivery, claimed time.Time) *optOutGate {
	return &optOutGate{d: d, batch: batch, every: d.e.Cfg.Recheck, deadline: claimed.Add(d.e.Cfg.Lease * 3 / 4),
		sendBy: claimed.Add(d.e.Cfg.Lease * 7 / 8), checked: claimed, started: make([]bool, len(batch))}
}

// recheckTimeout bounds one re-check of opt-outs.
const recheckTimeout = 250 * time.Millisecond

// take reports whether batch[i] may be sent. A failed re-check lets the
// message go: the claim already checked it, and a database that cannot
// answer now must not stall sends the provider is ready for.
func (g *optOutGate) take(ctx context.Context, i int) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if time.Now().After(g.deadline) {
		return false // not started: release gives it back
	}
	if time.Since(g.checked) >= g.every {
		g.recheck(ctx)
	}
	if g.stopped[g.batch[i].ID] {
		return false
	}
	g.started[i] = true
	return true
}

func (g *optOutGate) recheck(ctx context.Context) {
	e := g.d.e
	var ids, attempts []int64
	for j := range g.batch {
		del := g.batch[j]
		if g.started[j] || del.Status == "cancelled" || g.stopped[del.ID] {
			continue
		}
		ids, attempts = append(ids, del.ID), append(attempts, int64(del.Attempts))
	}
	// Bounded: a database that is away (or a pool busy retrying) must not
	// hold up sends the provider is ready for, or the batch outlives its
	// lease and is sent again.
	cctx, cancel := context.WithTimeout(ctx, recheckTimeout)
	defer cancel()
	gone, err := e.Store.CancelSuppressedClaimed(cctx, e.Clock.Now(), ids, attempts)
	g.checked = time.Now()
	if err != nil {
		e.Log.Warn("could not re-check a claimed batch for opt-outs and pauses", "channel", g.d.ch.Kind(), "err", err)
		return
	}
	if len(gone) > 0 && g.stopped == nil {
		g.stopped = make(map[int64]bool, len(gone))
	}
	for _, s := range gone {
		g.stopped[s.ID] = true
		if s.Status == "cancelled" {
			e.Observer.DeliveryResult(string(g.d.ch.Kind()), "cancelled")
		}
	}
	if len(gone) > 0 {
		e.Log.Info("stopped claimed messages to people who opted out, paused or left since", "channel", g.d.ch.Kind(), "count", len(gone))
	}
}

// release gives back the messages of the batch that were never started (a
// shutdown stopped handing them out, or the lease was too far gone).
func (g *optOutGate) release(ctx context.Context) {
	g.mu.Lock()
	defer g.mu.Unlock()
	e := g.d.e
	var ids, attempts []int64
	for j, del := range g.batch {
		if g.started[j] || del.Status == "cancelled" || g.stopped[del.ID] {
			continue
		}
		ids, attempts = append(ids, del.ID), append(attempts, int64(del.Attempts))
	}
	if len(ids) == 0 {
		return
	}
	// Not to be started from now on, given back or not: a row released is
	// another worker's to claim, and one that could not be released waits
	// for the rescuer (this worker may be past its deadline).
	if g.stopped == nil {
		g.stopped = make(map[int64]bool, len(ids))
	}
	for _, id := range ids {
		g.stopped[id] = true
	}
	if err := e.Store.ReleaseClaimed(ctx, e.Clock.Now(), ids, attempts); err != nil {
		// Their lease runs out and the rescuer re-queues them.
		e.Log.Warn("could not give back unsent claimed messages", "channel", g.d.ch.Kind(), "count", len(ids), "err", err)
		return
	}
	if len(ids) > 0 {
		e.Log.Info("gave back claimed messages not yet sent", "channel", g.d.ch.Kind(), "count", len(ids))
	}
}
