package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// DeliveryReport is a provider's later word on a message it accepted (a
// Twilio status callback), for the delivery whose provider id it names.
type DeliveryReport struct {
	Channel    string // "sms"
	ProviderID string // what the dispatcher stored when the provider accepted it
	Status     string // delivered, undelivered or failed
	Code       string // the provider's error code; "" for none
	Err        string // a short description for the delivery's error column
	// Suppress, when not nil, is recorded for the delivery's address (the
	// store fills in Channel and Address) if, and only if, the report moved
	// the delivery: a replayed report must not undo a later opt-in.
	Suppress *Suppression
	// Keep (SMS only; a final status) keeps a report whose provider id no
	// delivery carries yet in status_callbacks, to be applied once the
	// dispatcher has recorded it (see KnownKeptCallbacks).
	Keep bool
	// FromKept is the kept report this one was rebuilt from: it is deleted
	// in the same transaction once a delivery carries the provider id,
	// whether or not the report moved it.
	FromKept *KeptCallback
}

// KeptCallback is an SMS status report kept because it arrived before its
// message's SID was recorded.
type KeptCallback struct {
	MessageSID string    `db:"message_sid"`
	Status     string    `db:"status"`
	Code       string    `db:"error_code"` // "" for none
	ReceivedAt time.Time `db:"received_at"`
}

// ReportOutcome says what a DeliveryReport did.
type ReportOutcome struct {
	Found      bool   // a delivery has the report's provider id
	Changed    bool   // that delivery moved to the reported status
	DeliveryID int64  // 0 when not found
	Status     string // the delivery's status afterwards
	Suppressed bool   // the address was suppressed and its queued deliveries cancelled
	Kept       bool   // not found, and kept in status_callbacks for later

	SubscriberID int64  // the delivery's person, when Changed
	Address      string // the delivery's address, when Changed
}

type reportedRow struct {
	ID           int64  `db:"id"`
	SubscriberID int64  `db:"subscriber_id"`
	EnrollmentID int64  `db:"enrollment_id"`
	To           string `db:"to_addr"`
	Status       string `db:"status"`
}

// setDeliveryStatus moves the delivery a report names, if it is 'sent'. A
// row found unchanged but 'sent' was recorded by the dispatcher between the
// update and the look-up (each statement sees what is committed when it
// starts), so the update is tried once more rather than the report lost.
func (s *Store) setDeliveryStatus(ctx context.Context, tx *sqlx.Tx, now time.Time, r DeliveryReport) (reportedRow, error) {
	var row reportedRow
	set := func() error {
		return s.stmt(tx, "set_delivery_status").GetContext(ctx, &row, now, r.Channel, r.ProviderID, r.Status, r.Code, r.Err)
	}
	err := set()
	if !errors.Is(err, sql.ErrNoRows) {
		return row, err
	}
	var found reportedRow
	if s.stmt(tx, "delivery_by_provider_id").GetContext(ctx, &found, r.Channel, r.ProviderID) == nil && found.Status == "sent" {
		return row, set()
	}
	return row, err
}

// ApplyDeliveryReport records a provider's report on a sent delivery. The
// status change, the suppression it may bring (with the cancelling of every
// delivery still queued to that address), its audit event, and the keeping
// or deleting of a kept report are one transaction. The web hook and the
// job that applies kept reports both come through here, so a late report is
// judged exactly as a timely one.
func (s *Store) ApplyDeliveryReport(ctx context.Context, now time.Time, r DeliveryReport) (ReportOutcome, error) {
	if (r.Keep || r.FromKept != nil) && r.Channel != "sms" {
		return ReportOutcome{}, fmt.Errorf("store: delivery report: only SMS reports are kept, not %q", r.Channel)
	}
	var out ReportOutcome
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		out = ReportOutcome{}
		row, err := s.setDeliveryStatus(ctx, tx, now, r)
		if errors.Is(err, sql.ErrNoRows) {
			err = s.stmt(tx, "delivery_by_provider_id").GetContext(ctx, &row, r.Channel, r.ProviderID)
			if errors.Is(err, sql.ErrNoRows) {
				if !r.Keep {
					return nil
				}
				if _, err := s.stmt(tx, "keep_status_callback").ExecContext(ctx, now, r.ProviderID, r.Status, r.Code); err != nil {
					return fmt.Errorf("store: keep delivery report: %w", err)
				}
				out.Kept = true
				return nil
			}
			if err != nil {
				return fmt.Errorf("store: delivery report: %w", err)
			}
			out.Found, out.DeliveryID, out.Status = true, row.ID, row.Status
			return s.deleteKept(ctx, tx, r.FromKept)
		}
		if err != nil {
			return fmt.Errorf("store: delivery report: %w", err)
		}
		out.Found, out.Changed, out.DeliveryID, out.Status = true, true, row.ID, row.Status
		out.SubscriberID, out.Address = row.SubscriberID, row.To
		if err := s.deleteKept(ctx, tx, r.FromKept); err != nil {
			return err
		}
		if r.Suppress == nil {
			return nil
		}
		sup := *r.Suppress
		sup.Channel, sup.Address = r.Channel, row.To
		if err := s.suppress(ctx, tx, now, []Suppression{sup}); err != nil {
			return err
		}
		out.Suppressed = true
		return s.Event(ctx, tx, now, row.SubscriberID, row.EnrollmentID, "suppressed",
			map[string]any{"channel": r.Channel, "reason": sup.Reason, "source": sup.Source, "delivery": row.ID})
	})
	if err != nil {
		return ReportOutcome{}, err
	}
	return out, nil
}

func (s *Store) deleteKept(ctx context.Context, tx *sqlx.Tx, k *KeptCallback) error {
	if k == nil {
		return nil
	}
	if _, err := s.stmt(tx, "delete_kept_status_callback").ExecContext(ctx, k.MessageSID, k.Status, k.Code); err != nil {
		return fmt.Errorf("store: delete kept delivery report: %w", err)
	}
	return nil
}

// KnownKeptCallbacks returns up to limit kept SMS reports whose SID a
// delivery now carries, oldest first.
func (s *Store) KnownKeptCallbacks(ctx context.Context, limit int) ([]KeptCallback, error) {
	var out []KeptCallback
	if err := s.stmt(nil, "known_kept_status_callbacks").SelectContext(ctx, &out, limit); err != nil {
		return nil, fmt.Errorf("store: kept delivery reports: %w", err)
	}
	return out, nil
}

// ExpireKeptCallbacks deletes the kept SMS reports received before cutoff
// whose SID still names no delivery, and returns them.
func (s *Store) ExpireKeptCallbacks(ctx context.Context, cutoff time.Time) ([]KeptCallback, error) {
	var out []KeptCallback
	if err := s.stmt(nil, "expire_kept_status_callbacks").SelectContext(ctx, &out, cutoff); err != nil {
		return nil, fmt.Errorf("store: expire kept delivery reports: %w", err)
	}
	return out, nil
}
