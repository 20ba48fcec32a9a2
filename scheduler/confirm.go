package scheduler

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/store"
)

// Confirmation steps: the program's own wording for the double opt-in.
const (
	ConfirmEmailStep = "confirm-email"
	ConfirmSMSStep   = "confirm-sms"
)

// ConfirmResendGap is how long after one round of confirmations another may
// be sent for the same enrollment (the person signs up again because the
// first never arrived or its link lapsed).
const ConfirmResendGap = 10 * time.Minute

// ConfirmationAt is when a confirmation planned at now goes out on ch to
// someone in loc: now, or the end of the program's quiet hours for ch, as
// PlanConfirmations plans it. The sign-up page uses it to say when a text
// will come, rather than that it has been sent.
func (e *Engine) ConfirmationAt(p *programs.Program, ch string, now time.Time, loc *time.Location) time.Time {
	return e.quietFor(p, ch).Defer(now, loc)
}

// PlanConfirmations queues the confirmation messages for a pending
// enrollment (and, for a running one, only the email's, when the address
// on file is not confirmed): an email with its confirm link and/or an SMS asking for YES,
// for each channel the person has not opted out of. A channel confirmed
// earlier (a returning person) is asked again: this enrollment waits for
// their own answer, not for someone who typed their address. They go
// through the outbox like any message (kind "confirm", sent even though the
// enrollment is not active). Asked again for the same enrollment, it sends
// a new round (step keys "confirm-email#2", ...), unless the last was
// planned less than ConfirmResendGap ago.
func (e *Engine) PlanConfirmations(ctx context.Context, enrollmentID int64, confirmURL string) error {
	return e.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		row, err := e.Store.LockEnrollment(ctx, tx, enrollmentID)
		if err != nil {
			return err
		}
		// A running program is asked only to confirm an email on file that
		// is not confirmed (its owner signed up again, say after an opt-out
		// was lifted): the rest of the program goes on as it is.
		running := row.Status == "active" || row.Status == "paused"
		switch {
		case row.Status == "pending":
		case running && row.Email != "" && (row.EmailStatus == "none" || row.EmailStatus == "pending"):
		default:
			return nil
		}
		now := e.Clock.Now()
		rounds, last, err := e.Store.ConfirmationsPlanned(ctx, tx, row.ID)
		if err != nil {
			return err
		}
		if rounds > 0 && now.Sub(last) < ConfirmResendGap {
			return nil // one is on its way
		}
		round := ""
		if rounds > 0 {
			round = "#" + strconv.Itoa(rounds+1)
		}
		w, err := e.newWork(ctx, row)
		if err != nil {
			return err
		}
		// A confirmation is no week or phase of the program (someone
		// confirming an email may be well into it): Week 0 and no phase keep
		// them off the email's eyebrow.
		vars := programs.Vars{FirstName: row.FirstName, ProgramTitle: w.prog.Title, Day: 1,
			ConfirmURL: confirmURL, ManageURL: e.Links.Manage(row.SubscriberID)}
		var b store.PlanBatch
		add := func(ch, key, to string) error {
			s := w.prog.Step(key)
			if s == nil || to == "" {
				return nil
			}
			// The version is kept so that the dispatcher, deferring or
			// retrying it, keeps the quiet hours it was planned by.
			d := store.NewDelivery{EnrollmentID: row.ID, SubscriberID: row.SubscriberID, StepKey: key + round, Kind: "confirm",
				Phase: row.Phase, Channel: ch, To: to, DueAt: now, NotBefore: e.quietFor(w.prog, ch).Defer(now, w.loc),
				ProgramVersionID: row.ProgramVersionID}
			v := vars
			v.UnsubscribeURL = e.Links.Unsubscribe(row.SubscriberID, ch)
			if ch == "email" {
				m, err := w.comp.Email(s, v, nil)
				if err != nil {
					return err
				}
				d.Subject, d.Preheader, d.Text, d.HTML, d.UnsubscribeURL = m.Subject, m.Preheader, m.Text, m.HTML, v.UnsubscribeURL
			} else {
				text, err := w.comp.SMS(s, v, 0)
				if err != nil {
					return err
				}
				d.Text = text
			}
			b.Deliveries = append(b.Deliveries, d)
			return nil
		}
		if running {
			if row.EmailStatus == "none" {
				// Pending is what the confirm link turns confirmed.
				if err := e.Store.SetChannelStatus(ctx, tx, now, row.SubscriberID, "email", "pending"); err != nil {
					return err
				}
			}
			if err := add("email", ConfirmEmailStep, row.Email); err != nil {
				return fmt.Errorf("confirm email: %w", err)
			}
			_, err = e.Store.WritePlan(ctx, tx, now, b)
			return err
		}
		asked := func(status string) bool { return status == "pending" || status == "confirmed" }
		if asked(row.EmailStatus) {
			if err := add("email", ConfirmEmailStep, row.Email); err != nil {
				return fmt.Errorf("confirm email: %w", err)
			}
		}
		if asked(row.SMSStatus) {
			if err := add("sms", ConfirmSMSStep, row.Phone); err != nil {
				return fmt.Errorf("confirm sms: %w", err)
			}
		}
		_, err = e.Store.WritePlan(ctx, tx, now, b)
		return err
	})
}
