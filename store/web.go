package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// InboundClaim says what an attempt to handle an inbound message may do.
type InboundClaim int

const (
	// InboundClaimed: this attempt handles the message and then records
	// its outcome with SetInboundResult or FailInbound.
	InboundClaimed InboundClaim = iota
	// InboundDone: the message was handled before; a retry does nothing.
	InboundDone
	// InboundBusy: another attempt is handling it right now.
	InboundBusy
)

// ClaimInbound records an inbound message, once per provider id, and
// claims it for this attempt unless it is done or another attempt holds it
// (InboundBusy also comes with an error: do nothing then).
// A message whose last attempt failed, or was abandoned (still held since
// before abandonedBefore), is claimed again, so a provider's retry gets the
// work done instead of being taken for a duplicate.
func (s *Store) ClaimInbound(ctx context.Context, now, abandonedBefore time.Time, providerID, channel, from, body string) (InboundClaim, error) {
	var id int64
	err := s.stmt(nil, "web_claim_inbound").GetContext(ctx, &id, providerID, channel, from, body, now, abandonedBefore)
	if err == nil {
		return InboundClaimed, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return InboundBusy, fmt.Errorf("store: claim inbound message: %w", err)
	}
	var result string
	err = s.stmt(nil, "web_inbound_result").GetContext(ctx, &result, providerID)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		// Inserted by an attempt this statement could not yet see.
		return InboundBusy, nil
	case err != nil:
		return InboundBusy, fmt.Errorf("store: inbound message: %w", err)
	case result == "":
		return InboundBusy, nil
	}
	return InboundDone, nil
}

// SetInboundResult marks a claimed inbound message done, noting what it
// did (never empty: empty means "being handled"). It reports false when the
// message was no longer held by this attempt.
func (s *Store) SetInboundResult(ctx context.Context, providerID, result string) (bool, error) {
	if result == "" {
		result = "handled"
	}
	res, err := s.stmt(nil, "web_set_inbound_result").ExecContext(ctx, providerID, result)
	if err != nil {
		return false, fmt.Errorf("store: inbound result: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// FailInbound releases a claimed inbound message whose handling failed, so
// that the provider's retry handles it again.
func (s *Store) FailInbound(ctx context.Context, providerID string, cause error) error {
	if _, err := s.stmt(nil, "web_set_inbound_result").ExecContext(ctx, providerID, "failed: "+cause.Error()); err != nil {
		return fmt.Errorf("store: inbound failed: %w", err)
	}
	return nil
}

// SubscriberByID reads a person by id.
func (s *Store) SubscriberByID(ctx context.Context, tx *sqlx.Tx, id int64) (Subscriber, error) {
	var sub Subscriber
	err := s.stmt(tx, "web_subscriber_by_id").GetContext(ctx, &sub, id)
	if errors.Is(err, sql.ErrNoRows) {
		return sub, ErrNotFound
	}
	if err != nil {
		return sub, fmt.Errorf("store: subscriber %d: %w", id, err)
	}
	return sub, nil
}

// SetChannelStatus sets a person's consent state on one channel (email or
// sms) to none, pending, confirmed or revoked.
func (s *Store) SetChannelStatus(ctx context.Context, tx *sqlx.Tx, now time.Time, subscriberID int64, channel, status string) error {
	if _, err := s.stmt(tx, "web_set_channel_status").ExecContext(ctx, subscriberID, channel, status, now); err != nil {
		return fmt.Errorf("store: set %s status: %w", channel, err)
	}
	return nil
}

// RecordConsent appends one piece of consent evidence.
func (s *Store) RecordConsent(ctx context.Context, tx *sqlx.Tx, now time.Time, subscriberID int64, c Consent) error {
	if _, err := s.stmt(tx, "web_insert_consent").ExecContext(ctx, subscriberID, c.Channel, c.Action, c.Text, c.Source, c.IP, c.UserAgent, now); err != nil {
		return fmt.Errorf("store: record consent: %w", err)
	}
	return nil
}

// Unsuppress lifts a suppression (an SMS START after a STOP).
func (s *Store) Unsuppress(ctx context.Context, tx *sqlx.Tx, channel, address string) error {
	if _, err := s.stmt(tx, "web_delete_suppression").ExecContext(ctx, channel, address); err != nil {
		return fmt.Errorf("store: unsuppress: %w", err)
	}
	return nil
}

// EnrollmentVersion is the program version an enrollment is pinned to.
func (s *Store) EnrollmentVersion(ctx context.Context, enrollmentID int64) (int64, error) {
	var id int64
	err := s.stmt(nil, "web_enrollment_version").GetContext(ctx, &id, enrollmentID)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("store: enrollment %d: %w", enrollmentID, err)
	}
	return id, nil
}

// LiveEnrollmentsTx lists a person's pending, active or paused enrollments
// inside tx.
func (s *Store) LiveEnrollmentsTx(ctx context.Context, tx *sqlx.Tx, subscriberID int64) ([]LiveEnrollment, error) {
	var out []LiveEnrollment
	if err := s.stmt(tx, "web_enrollments_of").SelectContext(ctx, &out, subscriberID); err != nil {
		return nil, fmt.Errorf("store: enrollments: %w", err)
	}
	return out, nil
}
