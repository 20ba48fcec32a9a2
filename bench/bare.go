package bench

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// bareStage times the yardstick: the same number of claim loops and the same
// batch as the dispatcher, running only a bare job queue's claim and
// acknowledgement (store.BareQueue). The engine's rates are reported as a
// share of it, which stays meaningful on a faster or slower machine.
func (r *runner) bareStage(ctx context.Context, run *Rep) error {
	q, err := r.db.BareQueue(ctx, r.lay.due, stepTime)
	if err != nil {
		return err
	}
	defer q.Close()
	if err := r.settle(ctx); err != nil {
		return err
	}
	// The null channel has no rate limit: the dispatcher runs ClaimLoops loops.
	loops, batch := max(r.eng.Cfg.ClaimLoops, 1), r.eng.Cfg.ClaimBatch
	cpu := watchCPU(r.db.Name)
	defer cpu.halt()
	start := time.Now()
	errs := make(chan error, loops)
	for range loops {
		go func() {
			for {
				ids, err := q.Claim(ctx, stepTime, batch)
				if err == nil && len(ids) > 0 {
					err = q.Ack(ctx, ids)
				}
				if err != nil || len(ids) < batch {
					errs <- err
					return
				}
			}
		}()
	}
	for range loops {
		err = errors.Join(err, <-errs)
	}
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	used := cpu.stop()
	done, err := q.Done(ctx)
	if err != nil {
		return err
	}
	if done != int64(r.lay.due) {
		return fmt.Errorf("bench: the bare queue finished %d of %d jobs", done, r.lay.due)
	}
	run.BarePerSec = float64(done) / elapsed.Seconds()
	run.BareCPU = used.per(r.lay.due)
	return nil
}
