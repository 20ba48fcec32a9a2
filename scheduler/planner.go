package scheduler

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/store"
)

// PlanOnce plans one batch of due enrollments in one transaction. It returns
// how many enrollments it handled; a full batch means more may be due.
func (e *Engine) PlanOnce(ctx context.Context) (handled, deliveries int, err error) {
	handled, deliveries, _, err = e.planOnce(ctx, nil)
	return handled, deliveries, err
}

// handoff names the channels whose messages, when due at once, this process
// sends itself: the planner writes them already claimed by worker and
// returns them, instead of queueing them for a dispatcher to claim back.
type handoff struct {
	channels map[string]bool
	lease    time.Duration
	worker   string
}

// planOnce is PlanOnce, handing off what h asks for. The handed deliveries
// are claimed ('sending', first attempt, leased from the batch's now) or
// cancelled (suppressed address), and committed before it returns.
func (e *Engine) planOnce(ctx context.Context, h *handoff) (handled, deliveries int, handed []store.Delivery, err error) {
	start := time.Now()
	now := e.Clock.Now()
	err = e.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		handed = nil
		rows, err := e.Store.ClaimDueEnrollments(ctx, tx, now, e.Cfg.PlanBatch)
		if err != nil {
			return err
		}
		handled = len(rows)
		if handled == 0 {
			return nil
		}
		var b store.PlanBatch
		for _, row := range rows {
			mark := len(b.Deliveries)
			markC := len(b.Checkins)
			w, err := e.newWork(ctx, row)
			var next *time.Time
			var done bool
			if err == nil {
				next, done, err = e.plan(w, now, &b)
			}
			if err != nil {
				// One broken enrollment must not stall everyone else: drop
				// its partial work, look again in an hour, and say why.
				b.Deliveries, b.Checkins = b.Deliveries[:mark], b.Checkins[:markC]
				retry := now.Add(time.Hour)
				e.Log.Error("planner: enrollment skipped", "enrollment", row.ID, "err", err)
				b.Enrollments = append(b.Enrollments, store.EnrollmentUpdate{
					ID: row.ID, Status: "active", Track: row.Track, Origin: row.TrackOrigin, Shift: row.ShiftDays,
					Cursor: row.Cursor, CronCursors: row.CronCursors.String(), LastLesson: row.LastLesson.String(),
					Extensions: row.Extensions.String(), SMSCount: row.SMSCount, Phase: row.Phase, NextDueAt: &retry,
				})
				continue
			}
			b.Enrollments = append(b.Enrollments, w.update(next, done))
		}
		if h != nil {
			b.Lease, b.Worker = h.lease, h.worker
			for i := range b.Deliveries {
				d := &b.Deliveries[i]
				d.Handoff = h.channels[d.Channel] && !d.NotBefore.After(now)
			}
		}
		planned, err := e.Store.WritePlan(ctx, tx, now, b)
		deliveries = len(planned)
		if err == nil && h != nil {
			handed = handedDeliveries(b, planned, rows)
		}
		return err
	})
	if err != nil {
		return 0, 0, nil, fmt.Errorf("planner: %w", err)
	}
	if handled > 0 {
		e.Observer.ObservePlannerBatch(time.Since(start))
	}
	return handled, deliveries, handed, nil
}

// handedDeliveries turns the rows written claimed (or cancelled) back into
// deliveries as a claim would have returned them.
func handedDeliveries(b store.PlanBatch, planned []store.Planned, rows []store.Enrollment) []store.Delivery {
	type key struct {
		enrollment    int64
		step, channel string
	}
	written := make(map[key]store.Planned, len(planned))
	for _, p := range planned {
		if p.Status != "queued" {
			written[key{p.EnrollmentID, p.StepKey, p.Channel}] = p
		}
	}
	if len(written) == 0 {
		return nil
	}
	zone := make(map[int64]string, len(rows))
	for _, r := range rows {
		zone[r.ID] = r.Timezone
	}
	out := make([]store.Delivery, 0, len(written))
	for _, d := range b.Deliveries {
		p, ok := written[key{d.EnrollmentID, d.StepKey, d.Channel}]
		if !ok || !d.Handoff {
			continue
		}
		attempts := 1
		if p.Status == "cancelled" {
			attempts = 0
		}
		out = append(out, store.Delivery{
			ID: p.ID, EnrollmentID: d.EnrollmentID, SubscriberID: d.SubscriberID, StepKey: d.StepKey, Kind: d.Kind,
			Phase: d.Phase, Channel: d.Channel, To: d.To, Status: p.Status, Attempts: attempts, DueAt: d.DueAt,
			Subject: d.Subject, Preheader: d.Preheader, Text: d.Text, HTML: d.HTML, UnsubscribeURL: d.UnsubscribeURL,
			Timezone: zone[d.EnrollmentID], ProgramVersionID: d.ProgramVersionID, Day: d.Day, FirstName: d.FirstName,
			CheckinToken: d.CheckinToken, StopHint: d.StopHint,
		})
	}
	return out
}
