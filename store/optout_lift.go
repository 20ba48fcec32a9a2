package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// ErrNotOptedOut is returned when there is no opt-out to lift.
var ErrNotOptedOut = errors.New("store: not opted out")

// LiftedOptOut is what LiftEmailOptOut changed.
type LiftedOptOut struct {
	Reasons      []string // of the suppressions removed: "unsubscribed", "provider 550", ...
	SubscriberID int64    // the person who holds the address; 0 if not on file
	// Status is their email status afterwards: "none" when they had
	// revoked it (they sign up and confirm again), "confirmed" when only a
	// provider's block stood in the way (their consent stands, so their
	// running programs email them again).
	Status string
}

// LiftEmailOptOut removes an email address's suppression at the person's
// own request, recorded as request in the audit event. A revoked email
// goes back to "none": nothing is sent until the person signs up again and
// confirms the address. A provider's block of a confirmed address (a
// mailbox that bounced and works again) leaves the consent as it was. It
// changes nothing and returns ErrNotOptedOut when the address has no
// suppression.
func (s *Store) LiftEmailOptOut(ctx context.Context, now time.Time, email, request string) (LiftedOptOut, error) {
	var out LiftedOptOut
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.stmt(tx, "admin_lift_email_optout").SelectContext(ctx, &out.Reasons, email); err != nil {
			return fmt.Errorf("store: lift opt-out: %w", err)
		}
		if len(out.Reasons) == 0 {
			return ErrNotOptedOut
		}
		var id int64
		err := s.stmt(tx, "admin_unrevoke_email").GetContext(ctx, &id, email, now)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: lift opt-out: %w", err)
		}
		var holder struct {
			ID     int64  `db:"id"`
			Status string `db:"email_status"`
		}
		err = s.stmt(tx, "admin_email_holder").GetContext(ctx, &holder, email)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: lift opt-out: %w", err)
		}
		out.SubscriberID, out.Status = holder.ID, holder.Status
		return s.Event(ctx, tx, now, out.SubscriberID, 0, "optout_lifted",
			map[string]any{"channel": "email", "by": "operator", "request": request, "reasons": out.Reasons})
	})
	return out, err
}
