package scheduler

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/store"
)

// Dispatcher sends the deliveries of one channel. Its workers share a pool
// of at most workers Senders that lives as long as the dispatcher, so a
// provider connection is reused across messages and batches. Several
// DispatchOnce calls may run at once (see Loops): one claims while another
// sends and records.
type Dispatcher struct {
	e       *Engine
	ch      channel.Channel
	workers int
	id      string
	limit   int // most deliveries one claim takes (0: Cfg.ClaimBatch)

	mu      sync.Mutex
	all     []channel.Sender    // every sender made, to close
	free    chan channel.Sender // idle senders
	sending map[int64]bool      // deliveries handed to the provider, outcome not yet known
}

// InFlight returns the ids of the deliveries being sent right now (handed
// to the provider, outcome not yet known), in no particular order: what a
// shutdown that runs out of time abandons.
func (d *Dispatcher) InFlight() []int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	ids := make([]int64, 0, len(d.sending))
	for id := range d.sending {
		ids = append(ids, id)
	}
	return ids
}

func (d *Dispatcher) markSending(id int64, on bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.sending == nil {
		d.sending = map[int64]bool{}
	}
	if on {
		d.sending[id] = true
	} else {
		delete(d.sending, id)
	}
}

// NewDispatcher makes a dispatcher for ch with n workers. id names this
// process in claimed rows.
func (e *Engine) NewDispatcher(ch channel.Channel, workers int, id string) *Dispatcher {
	if workers < 1 {
		workers = 1
	}
	return &Dispatcher{e: e, ch: ch, workers: workers, id: id, free: make(chan channel.Sender, workers)}
}

// LimitClaims caps how many deliveries one claim takes. A rate-limited
// channel must finish a batch well inside its lease, or the rescuer would
// hand rows still being sent to another worker.
func (d *Dispatcher) LimitClaims(n int) {
	if n < 1 {
		n = 1
	}
	d.limit = n
}

// ClaimSize is how many deliveries one claim takes.
func (d *Dispatcher) ClaimSize() int {
	if d.limit > 0 && d.limit < d.e.Cfg.ClaimBatch {
		return d.limit
	}
	return d.e.Cfg.ClaimBatch
}

// Loops is how many claim loops the service runs for this dispatcher. A
// rate-limited channel gets one: a second batch claimed while the first is
// sent would wait for the same rate and could outlive its lease.
func (d *Dispatcher) Loops() int {
	if d.limit > 0 {
		return 1
	}
	return max(d.e.Cfg.ClaimLoops, 1)
}

// Channel is the channel this dispatcher sends on.
func (d *Dispatcher) Channel() channel.Channel { return d.ch }

// Close closes the senders. Call it when no DispatchOnce is running.
func (d *Dispatcher) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, s := range d.all {
		s.Close()
	}
	d.all = nil
	d.free = make(chan channel.Sender, d.workers)
	return nil
}

// acquire takes an idle sender, making one while fewer than workers exist,
// or waits for one to be released.
func (d *Dispatcher) acquire() (channel.Sender, error) {
	select {
	case s := <-d.free:
		return s, nil
	default:
	}
	d.mu.Lock()
	if len(d.all) < d.workers {
		s, err := d.ch.NewSender()
		if err == nil {
			d.all = append(d.all, s)
		}
		d.mu.Unlock()
		return s, err
	}
	free := d.free
	d.mu.Unlock()
	return <-free, nil
}

func (d *Dispatcher) release(s channel.Sender) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.free <- s // never blocks: at most workers senders exist
}

// DispatchOnce claims one batch, sends it with the workers and records the
// outcomes. It returns how many deliveries it claimed. When ctx is cancelled
// (shutdown), sends already started are finished and recorded (the provider
// timeouts bound them) and the messages not started are given back to the
// queue.
//
// A fast batch is recorded in one statement when it is done. A slow one (a
// rate-limited channel, a provider taking its time) is recorded every
// Cfg.AckEvery as it goes, so a crash repeats at most that much, and Twilio's
// status reports find their message SID; and before each message that has
// waited longer than Cfg.Recheck, opt-outs recorded since the claim are
// checked again, so a STOP wins over a message claimed before it.
func (d *Dispatcher) DispatchOnce(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	e := d.e
	start := time.Now()
	now := e.Clock.Now()
	// A claim that has begun is finished, sent and recorded whatever
	// happens to ctx: cancelled while its rows are read back (a big batch
	// takes a while), it would leave them 'sending' until the lease ran out.
	sendCtx := context.WithoutCancel(ctx)
	batch, err := e.Store.ClaimDeliveries(sendCtx, now, string(d.ch.Kind()), d.ClaimSize(), e.Cfg.Lease, d.id)
	if err != nil {
		return 0, fmt.Errorf("dispatcher %s: %w", d.ch.Kind(), err)
	}
	if len(batch) == 0 {
		return 0, nil
	}
	return len(batch), d.sendBatch(ctx, batch, now, start)
}

// SendClaimed sends deliveries this process claimed elsewhere (the planner
// writes the messages due at once already claimed, see handoff), as
// DispatchOnce sends a batch it claimed: at claimedAt by the engine's clock,
// since by the real one.
func (d *Dispatcher) SendClaimed(ctx context.Context, batch []store.Delivery, claimedAt, since time.Time) error {
	if len(batch) == 0 {
		return nil
	}
	return d.sendBatch(ctx, batch, claimedAt, since)
}

// sendBatch sends a claimed batch with the workers and records the outcomes
// (see DispatchOnce).
func (d *Dispatcher) sendBatch(ctx context.Context, batch []store.Delivery, now, start time.Time) error {
	e := d.e
	sendCtx := context.WithoutCancel(ctx)
	gate := d.newOptOutGate(batch, start)
	rec := d.newRecorder(sendCtx, now, len(batch))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < d.workers && w < len(batch); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var s channel.Sender // taken from the pool at the first message, given back at the end
			var serr error
			// What this worker renders its emails into, one after the
			// other: a message's texts live here until it is sent.
			var scratch []byte
			defer func() {
				if s != nil {
					d.release(s)
				}
			}()
			for i := range jobs {
				// The sender first: waiting for one (another batch holds
				// them all) comes before the gate's checks, not after.
				if s == nil {
					s, serr = d.acquire()
				}
				if !gate.take(sendCtx, i) {
					continue
				}
				// Not cancelled by a shutdown (what is being sent is
				// finished), but never outliving the claim's lease.
				msgCtx, cancel := context.WithDeadline(sendCtx, gate.sendBy)
				d.markSending(batch[i].ID, true)
				rec.add(d.send(msgCtx, s, serr, batch[i], &scratch))
				d.markSending(batch[i].ID, false)
				cancel()
			}
		}()
	}
feed:
	for i, del := range batch {
		if del.Status == "cancelled" { // suppressed: cancelled by the claim itself
			e.Observer.DeliveryResult(del.Channel, "cancelled")
			continue
		}
		if ctx.Err() != nil {
			break feed // a free worker must not win over a shutdown already begun
		}
		select {
		case jobs <- i:
		case <-ctx.Done():
			// Shutting down: what is being sent is finished and recorded;
			// what has not started goes back to the queue, so a batch
			// longer than the shutdown timeout is neither cut off
			// mid-record nor left leased until the rescuer finds it.
			break feed
		}
	}
	if ctx.Err() != nil {
		// Give back what has not started now, not after the sends in
		// flight end: one stalled send would otherwise keep the rest
		// leased past a shutdown that times out, and another instance
		// could take them only when the lease ran out. The gate refuses
		// them to a worker that was handed one but had not started it.
		gate.release(sendCtx)
	}
	close(jobs)
	wg.Wait()
	gate.release(sendCtx) // what was not started: shutdown, or a lease too far gone
	if err := rec.close(); err != nil {
		// The leases run out and the rescuer re-queues these rows: at-least-once.
		return fmt.Errorf("dispatcher %s: %w", d.ch.Kind(), err)
	}
	e.Observer.ObserveDispatcherBatch(string(d.ch.Kind()), time.Since(start))
	return nil
}

// record writes a batch's outcomes. When the database does not answer it
// tries again, backing off, until the batch's lease (taken at claimedAt) runs
// out: these messages are already with the provider, and only a recorded
// outcome keeps the rescuer from sending them a second time. A database that
// is back within the lease costs no duplicate. Real time bounds the retries
// too, for clocks that do not move on their own.
func (d *Dispatcher) record(ctx context.Context, claimedAt time.Time, acks []store.Ack, sup []store.Suppression) error {
	e := d.e
	realDeadline := time.Now().Add(e.Cfg.Lease)
	wait := 100 * time.Millisecond
	for failures := 0; ; failures++ {
		err := e.Store.AckDeliveries(ctx, e.Clock.Now(), acks, sup)
		if err == nil {
			if failures > 0 {
				e.Log.Info("recorded the sent deliveries after the database came back", "channel", d.ch.Kind(), "count", len(acks))
			}
			return nil
		}
		if store.IsDataError(err) {
			// Not an outage: waiting out the lease would change nothing.
			e.Log.Error("the database refused a batch's outcomes", "channel", d.ch.Kind(), "count", len(acks), "err", err)
			return err
		}
		if e.Clock.Now().Add(wait).After(claimedAt.Add(e.Cfg.Lease)) || time.Now().Add(wait).After(realDeadline) {
			return err
		}
		if failures == 0 {
			e.Log.Warn("could not record sent deliveries; retrying until their lease runs out", "channel", d.ch.Kind(), "count", len(acks), "err", err)
		}
		time.Sleep(wait)
		// A short cap: the database may be back only briefly (restarted
		// twice in a row), and a retry costs one refused connection.
		wait = min(2*wait, 250*time.Millisecond)
	}
}

// send hands one delivery to the worker's sender (serr when the worker
// could not get one) and turns the outcome into an ack (and a suppression
// for permanent failures).
func (d *Dispatcher) send(ctx context.Context, s channel.Sender, serr error, del store.Delivery, scratch *[]byte) (store.Ack, *store.Suppression) {
	e := d.e
	ack := store.Ack{ID: del.ID, Attempt: del.Attempts}
	if at, ok := e.stillQuiet(ctx, del); ok {
		ack.Status, ack.RetryAt, ack.Deferred = "queued", at, true
		e.Log.Info("delivery waits for quiet hours to end", "delivery", del.ID, "channel", del.Channel, "at", at)
		return ack, nil
	}
	var res channel.Result
	m, err := e.message(ctx, del, scratch)
	switch {
	case err != nil:
		// Classified by message: the database not answering is retried, a
		// program that cannot make this message is not.
	case serr != nil:
		err = serr
	default:
		res, err = s.Send(ctx, m)
	}
	if err == nil {
		ack.Status, ack.ProviderID = "sent", res.ProviderID
		e.Observer.DeliveryResult(del.Channel, "sent")
		return ack, nil
	}
	permanent, code := channel.Classify(err)
	ack.Code, ack.Err = code, errorText(err.Error(), 500)
	e.Observer.ProviderError(del.Channel, code)
	if permanent {
		ack.Status = "failed"
		e.Observer.DeliveryResult(del.Channel, "failed")
		if !channel.ShouldSuppress(err) {
			// Permanent for this message (say, content refused), not a bad address.
			e.Log.Warn("delivery failed permanently", "delivery", del.ID, "channel", del.Channel, "code", code)
			return ack, nil
		}
		e.Log.Warn("delivery failed permanently; address suppressed", "delivery", del.ID, "channel", del.Channel, "code", code)
		if code == ProviderOptOutCode {
			// The person opted out at the provider; the batch's record
			// suppresses the number, and this records the rest of it.
			if err := e.ProviderSaysOptedOut(ctx, del.SubscriberID, del.Channel, del.To); err != nil {
				e.Log.Error("could not record the opt-out the provider reported", "delivery", del.ID, "err", err)
			}
		}
		return ack, &store.Suppression{Channel: del.Channel, Address: del.To, Reason: "provider " + code, Source: "provider"}
	}
	if del.Attempts >= e.Cfg.MaxAttempts {
		ack.Status = "failed"
		e.Observer.DeliveryResult(del.Channel, "failed")
		e.Log.Warn("delivery failed after its last attempt", "delivery", del.ID, "channel", del.Channel, "attempts", del.Attempts, "code", code)
		return ack, nil
	}
	ack.Status = "queued"
	ack.RetryAt = e.retryAt(ctx, del)
	e.Observer.DeliveryResult(del.Channel, "retried")
	e.Log.Info("delivery will be retried", "delivery", del.ID, "channel", del.Channel, "attempt", del.Attempts, "code", code, "at", ack.RetryAt)
	return ack, nil
}

// stillQuiet reports whether a claimed message is in its channel's quiet
// hours for the person now, and when they end. Messages are planned outside
// them, but one that waited (the dispatchers were down when it was due, a
// retry) must not go out at night because its time came while no one sent.
func (e *Engine) stillQuiet(ctx context.Context, del store.Delivery) (time.Time, bool) {
	q := e.quietOf(ctx, del)
	if q.Start == q.End {
		return time.Time{}, false
	}
	loc, err := e.Zone(del.Timezone)
	if err != nil {
		return time.Time{}, false
	}
	now := e.Clock.Now()
	at := q.Defer(now, loc)
	return at, at.After(now)
}

// quietOf is the quiet hours a claimed message keeps: its program's, which
// may set its own for SMS, the same ones it was planned by; the
// deployment's when it has no program (a test message) or the version
// cannot be loaded now.
func (e *Engine) quietOf(ctx context.Context, del store.Delivery) Quiet {
	if del.ProgramVersionID != 0 {
		if c, err := e.Version(ctx, del.ProgramVersionID); err == nil {
			return e.quietFor(c.Program, del.Channel)
		}
	}
	if del.Channel == "sms" {
		return e.Cfg.SMSQuiet
	}
	return e.Cfg.EmailQuiet
}

// retryAt backs off exponentially with jitter and respects quiet hours.
func (e *Engine) retryAt(ctx context.Context, del store.Delivery) time.Time {
	delay := e.Cfg.RetryBase << min(del.Attempts-1, 20)
	if delay > e.Cfg.RetryMax || delay <= 0 {
		delay = e.Cfg.RetryMax
	}
	delay = time.Duration(float64(delay) * (0.8 + 0.4*rand.Float64()))
	at := e.Clock.Now().Add(delay)
	if loc, err := e.Zone(del.Timezone); err == nil {
		at = e.quietOf(ctx, del).Defer(at, loc)
	}
	return at
}

// errorText is a provider error as it is stored: valid UTF-8 without NULs
// (a server's reply may be in any charset, and PostgreSQL refuses the whole
// batch's record for one bad byte), at most n bytes, cut between characters.
func errorText(s string, n int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// RescueOnce returns expired leases to the queue.
func (e *Engine) RescueOnce(ctx context.Context) ([]int64, error) {
	ids, err := e.Store.RescueExpired(ctx, e.Clock.Now(), e.Cfg.MaxAttempts)
	if err != nil {
		return nil, err
	}
	if len(ids) > 0 {
		e.Log.Warn("rescued deliveries whose lease expired", "count", len(ids))
	}
	return ids, nil
}
