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
	SubscriberID int64    // the person whose email went from revoked back to none; 0 if not on file
}

// LiftEmailOptOut removes an email address's suppression at the person's
// own request, recorded as request in the audit event, and turns a revoked
// email back to "none": nothing is sent until the person signs up again
// and confirms the address. It changes nothing and returns ErrNotOptedOut
// when the address has no suppression.
func (s *Store) LiftEmailOptOut(ctx context.Context, now time.Time, email, request string) (LiftedOptOut, error) {
	var out LiftedOptOut
	err := s.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.stmt(tx, "admin_lift_email_optout").SelectContext(ctx, &out.Reasons, email); err != nil {
			return fmt.Errorf("store: lift opt-out: %w", err)
		}
		if len(out.Reasons) == 0 {
			return ErrNotOptedOut
		}
		err := s.stmt(tx, "admin_unrevoke_email").GetContext(ctx, &out.SubscriberID, email, now)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: lift opt-out: %w", err)
		}
		return s.Event(ctx, tx, now, out.SubscriberID, 0, "optout_lifted",
			map[string]any{"channel": "email", "by": "operator", "request": request, "reasons": out.Reasons})
	})
	return out, err
}
