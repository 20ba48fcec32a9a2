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
	start := time.Now()
	now := e.Clock.Now()
	err = e.Store.InTx(ctx, func(tx *sqlx.Tx) error {
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
		n, err := e.Store.WritePlan(ctx, tx, now, b)
		deliveries = int(n)
		return err
	})
	if err != nil {
		return 0, 0, fmt.Errorf("planner: %w", err)
	}
	if handled > 0 {
		e.Observer.ObservePlannerBatch(time.Since(start))
	}
	return handled, deliveries, nil
}
