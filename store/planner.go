package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ClaimDueEnrollments locks up to limit active enrollments due at now. The
// locks last until tx ends; concurrent planners skip locked rows.
func (s *Store) ClaimDueEnrollments(ctx context.Context, tx *sqlx.Tx, now time.Time, limit int) ([]Enrollment, error) {
	out := make([]Enrollment, 0, batchRoom(limit))
	if err := sqlx.SelectContext(ctx, s.replanned(tx), &out, s.text["claim_due_enrollments"], now, limit); err != nil {
		return nil, fmt.Errorf("store: claim due enrollments: %w", err)
	}
	return out, nil
}

// batchRoom is the room a claim's result is made with: sqlx appends to it,
// and a batch of these wide rows grown by doubling was a tenth of all the
// bytes the engine allocated. Bounded, so that an odd limit costs no more
// than the rows it finds.
func batchRoom(limit int) int { return min(max(limit, 0), 1000) }

// EnrollmentUpdate is an enrollment's state after planning.
type EnrollmentUpdate struct {
	ID          int64
	Status      string
	Track       string
	Origin      int
	Shift       int
	Cursor      int64
	CronCursors string // JSON
	LastLesson  string // JSON
	Extensions  string // JSON
	SMSCount    int
	Phase       string
	NextDueAt   *time.Time
}

// PlanBatch is everything one planner batch writes, in one transaction.
type PlanBatch struct {
	Deliveries  []NewDelivery
	Checkins    []NewCheckin
	Enrollments []EnrollmentUpdate
	// The claim a delivery marked Handoff is written with.
	Lease  time.Duration
	Worker string
}

// Planned is a delivery WritePlan wrote: status is "queued", or for one
// marked Handoff, "sending" (claimed by the batch's worker, first attempt)
// or "cancelled" (its address is suppressed).
type Planned struct {
	ID           int64  `db:"id"`
	EnrollmentID int64  `db:"enrollment_id"`
	StepKey      string `db:"step_key"`
	Channel      string `db:"channel"`
	Status       string `db:"status"`
}

// WritePlan writes a batch with one statement per table. Deliveries that
// already exist (same enrollment, step and channel) are left alone: planning
// is idempotent. It returns the deliveries that were new.
func (s *Store) WritePlan(ctx context.Context, tx *sqlx.Tx, now time.Time, b PlanBatch) ([]Planned, error) {
	if n := len(b.Checkins); n > 0 {
		enr, step, occ, prompt, tok := make([]int64, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		opened, closes := make([]string, n), make([]string, n)
		for i, c := range b.Checkins {
			enr[i], step[i], occ[i], prompt[i], tok[i] = c.EnrollmentID, c.StepKey, c.Occurrence, c.Prompt, c.Token
			opened[i], closes[i] = ts(c.OpenedAt), ts(c.ClosesAt)
		}
		if _, err := s.stmt(tx, "insert_checkins").ExecContext(ctx, now, pq.Array(enr), textArray(step), textArray(occ),
			textArray(prompt), textArray(tok), textArray(opened), textArray(closes)); err != nil {
			return nil, fmt.Errorf("store: insert checkins: %w", err)
		}
	}
	var planned []Planned
	if n := len(b.Deliveries); n > 0 {
		enr, sub := make([]int64, n), make([]int64, n)
		step, kind, phase, ch, to := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		due, nb := make([]string, n), make([]string, n)
		subj, pre, txt, html, unsub := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		ver, day, name, tok, hint := make([]int64, n), make([]int64, n), make([]string, n), make([]string, n), make([]bool, n)
		handoff := make([]bool, n)
		for i, d := range b.Deliveries {
			enr[i], sub[i], step[i], kind[i], phase[i], ch[i], to[i] = d.EnrollmentID, d.SubscriberID, d.StepKey, d.Kind, d.Phase, d.Channel, d.To
			due[i], nb[i] = ts(d.DueAt), ts(d.NotBefore)
			subj[i], pre[i], txt[i], html[i], unsub[i] = d.Subject, d.Preheader, d.Text, d.HTML, d.UnsubscribeURL
			ver[i], day[i], name[i], tok[i], hint[i] = d.ProgramVersionID, int64(d.Day), d.FirstName, d.CheckinToken, d.StopHint
			handoff[i] = d.Handoff
		}
		planned = make([]Planned, 0, n)
		if err := s.stmt(tx, "insert_deliveries").SelectContext(ctx, &planned, now, pq.Array(enr), pq.Array(sub), textArray(step),
			textArray(kind), textArray(phase), textArray(ch), textArray(to), textArray(due), textArray(nb),
			textArray(subj), textArray(pre), textArray(txt), textArray(html), textArray(unsub),
			pq.Array(ver), pq.Array(day), textArray(name), textArray(tok), pq.Array(hint),
			b.Lease.Milliseconds(), b.Worker, pq.Array(handoff)); err != nil {
			return nil, fmt.Errorf("store: insert deliveries: %w", err)
		}
	}
	if n := len(b.Enrollments); n > 0 {
		id, cur := make([]int64, n), make([]int64, n)
		st, track, cron, last, ext, phase := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		origin, shift, sms := make([]int64, n), make([]int64, n), make([]int64, n)
		next := make([]sql.NullString, n)
		for i, u := range b.Enrollments {
			id[i], st[i], track[i], origin[i], shift[i], cur[i] = u.ID, u.Status, u.Track, int64(u.Origin), int64(u.Shift), u.Cursor
			cron[i], last[i], ext[i], sms[i], phase[i] = u.CronCursors, u.LastLesson, u.Extensions, int64(u.SMSCount), u.Phase
			if u.NextDueAt != nil {
				next[i] = sql.NullString{String: ts(*u.NextDueAt), Valid: true}
			}
		}
		if _, err := s.replanned(tx).ExecContext(ctx, s.text["update_planned_enrollments"], now, pq.Array(id), textArray(st), textArray(track),
			pq.Array(origin), pq.Array(shift), pq.Array(cur), textArray(cron), textArray(last), textArray(ext),
			pq.Array(sms), textArray(phase), pq.Array(next)); err != nil {
			return nil, fmt.Errorf("store: update enrollments: %w", err)
		}
	}
	return planned, nil
}

// NextDue is the earliest next_due_at of an active enrollment; ok is false
// when no one is active.
func (s *Store) NextDue(ctx context.Context) (at time.Time, ok bool, err error) {
	var t sql.NullTime
	if err := s.stmt(nil, "next_due_at").GetContext(ctx, &t); err != nil {
		return time.Time{}, false, fmt.Errorf("store: next due: %w", err)
	}
	return t.Time, t.Valid, nil
}
