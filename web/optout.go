package web

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/store"
)

// optIn re-opens a channel (SMS START): the suppression is lifted and the
// channel confirmed.
func (s *server) optIn(ctx context.Context, sub store.Subscriber, channel, source, text string) error {
	addr := sub.Email
	if channel == "sms" {
		addr = sub.Phone
	}
	now := s.now()
	return s.Engine.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		if err := s.Engine.Store.Unsuppress(ctx, tx, channel, addr); err != nil {
			return err
		}
		if err := s.Engine.Store.SetChannelStatus(ctx, tx, now, sub.ID, channel, "confirmed"); err != nil {
			return err
		}
		if err := s.Engine.Store.RecordConsent(ctx, tx, now, sub.ID, store.Consent{Channel: channel, Action: "confirmed", Text: text, Source: source}); err != nil {
			return err
		}
		return s.Engine.Store.Event(ctx, tx, now, sub.ID, 0, "opted_in", map[string]any{"channel": channel, "source": source})
	})
}

// confirmChannel turns a pending channel confirmed and activates the
// person's pending enrollments, in one transaction.
func (s *server) confirmChannel(ctx context.Context, subscriberID int64, channel, source, text, ip, ua string, only int64) error {
	now := s.now()
	return s.Engine.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		sub, err := s.Engine.Store.SubscriberByID(ctx, tx, subscriberID)
		if err != nil {
			return err
		}
		st := sub.EmailStatus
		if channel == "sms" {
			st = sub.SMSStatus
		}
		if st == "pending" {
			if err := s.Engine.Store.SetChannelStatus(ctx, tx, now, sub.ID, channel, "confirmed"); err != nil {
				return err
			}
		}
		live, err := s.Engine.Store.LiveEnrollmentsTx(ctx, tx, sub.ID)
		if err != nil {
			return err
		}
		activated := 0
		for _, e := range live {
			if e.Status != "pending" || (only != 0 && e.ID != only) {
				continue
			}
			if err := s.Engine.Activate(ctx, tx, e.ID); err != nil {
				return err
			}
			if err := s.Engine.Store.Event(ctx, tx, now, sub.ID, e.ID, "confirmed", map[string]any{"channel": channel, "source": source}); err != nil {
				return err
			}
			activated++
		}
		// The evidence: a channel confirmed now, or a returning person's
		// confirmed channel answering for a new sign-up.
		if st != "pending" && activated == 0 {
			return nil
		}
		return s.Engine.Store.RecordConsent(ctx, tx, now, sub.ID, store.Consent{Channel: channel, Action: "confirmed", Text: text, Source: source, IP: ip, UserAgent: ua})
	})
}

// stillGets reports whether the person still gets messages on a channel
// other than the one they are leaving, so the reply may say that one goes
// on: only a confirmed address counts. A pending one (never confirmed) gets
// nothing yet, and "This doesn't change your texts" would promise texts
// they never agreed to.
func stillGets(sub store.Subscriber, leaving string) bool {
	if leaving == "sms" {
		return sub.Email != "" && sub.EmailStatus == "confirmed"
	}
	return sub.Phone != "" && sub.SMSStatus == "confirmed"
}
