package web

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/store"
)

// optOut stops one channel for a person at once: the address is suppressed
// (which cancels what is queued to it), the channel's status becomes revoked
// and the revocation is recorded. When no channel is left, their live
// enrollments end.
func (s *server) optOut(ctx context.Context, sub store.Subscriber, channel, source, ip, ua string) error {
	addr := sub.Email
	if channel == "sms" {
		addr = sub.Phone
	}
	now := s.now()
	err := s.Engine.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		if addr != "" {
			if err := s.Engine.Store.SuppressTx(ctx, tx, now, []store.Suppression{{Channel: channel, Address: addr, Reason: "unsubscribed", Source: source}}); err != nil {
				return err
			}
		}
		if err := s.Engine.Store.SetChannelStatus(ctx, tx, now, sub.ID, channel, "revoked"); err != nil {
			return err
		}
		if err := s.Engine.Store.RecordConsent(ctx, tx, now, sub.ID, store.Consent{Channel: channel, Action: "revoked", Source: source, IP: ip, UserAgent: ua}); err != nil {
			return err
		}
		return s.Engine.Store.Event(ctx, tx, now, sub.ID, 0, "opted_out", map[string]any{"channel": channel, "source": source})
	})
	if err != nil {
		return fmt.Errorf("opt out %s: %w", channel, err)
	}
	if hasOther(sub, channel) {
		return nil
	}
	live, err := s.Engine.Store.LiveEnrollments(ctx, sub.ID)
	if err != nil {
		return err
	}
	for _, e := range live {
		if _, err := s.Engine.Unenroll(ctx, e.ID, "opted out of every channel"); err != nil {
			return err
		}
	}
	return nil
}

// hasOther reports whether the person can still be reached on a channel
// other than the one they are leaving.
func hasOther(sub store.Subscriber, leaving string) bool {
	live := func(st string) bool { return st == "pending" || st == "confirmed" }
	if leaving == "sms" {
		return sub.Email != "" && live(sub.EmailStatus)
	}
	return sub.Phone != "" && live(sub.SMSStatus)
}

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
