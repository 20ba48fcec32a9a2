package scheduler

import (
	"context"
	"errors"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/store"
)

// OptOut stops one channel for a person at once: the address is suppressed
// (which cancels what is queued to it), the channel's status becomes revoked
// and the revocation is recorded. When no channel is left, their live
// enrollments end.
func (e *Engine) OptOut(ctx context.Context, sub store.Subscriber, channel, source, ip, ua string) error {
	addr := sub.Email
	if channel == "sms" {
		addr = sub.Phone
	}
	now := e.Clock.Now()
	err := e.Store.InTx(ctx, func(tx *sqlx.Tx) error {
		if addr != "" {
			if err := e.Store.SuppressTx(ctx, tx, now, []store.Suppression{{Channel: channel, Address: addr, Reason: "unsubscribed", Source: source}}); err != nil {
				return err
			}
		}
		if err := e.Store.SetChannelStatus(ctx, tx, now, sub.ID, channel, "revoked"); err != nil {
			return err
		}
		if err := e.Store.RecordConsent(ctx, tx, now, sub.ID, store.Consent{Channel: channel, Action: "revoked", Source: source, IP: ip, UserAgent: ua}); err != nil {
			return err
		}
		return e.Store.Event(ctx, tx, now, sub.ID, 0, "opted_out", map[string]any{"channel": channel, "source": source})
	})
	if err != nil {
		return fmt.Errorf("opt out %s: %w", channel, err)
	}
	if HasOtherChannel(sub, channel) {
		return nil
	}
	live, err := e.Store.LiveEnrollments(ctx, sub.ID)
	if err != nil {
		return err
	}
	for _, l := range live {
		if _, err := e.Unenroll(ctx, l.ID, "opted out of every channel"); err != nil {
			return err
		}
	}
	return nil
}

// ProviderSaysOptedOut is OptOut for a person whose provider reports that
// they opted out (Twilio 21610: they texted STOP and Twilio blocks the
// number), when rekindle missed the STOP itself (an outage, a forged-looking
// request refused). The address is already suppressed; the person's consent
// and programs follow, as if the STOP had reached us. Nothing happens when
// the person's address has changed since, or is already revoked.
func (e *Engine) ProviderSaysOptedOut(ctx context.Context, subscriberID int64, channel, addr string) error {
	if subscriberID == 0 {
		return nil
	}
	sub, err := e.Store.SubscriberByID(ctx, nil, subscriberID)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	current, status := sub.Email, sub.EmailStatus
	if channel == "sms" {
		current, status = sub.Phone, sub.SMSStatus
	}
	if current != addr || status == "revoked" {
		return nil
	}
	return e.OptOut(ctx, sub, channel, "provider", "", "")
}

// ProviderOptOutCode is Twilio's code for a send to a number that texted
// STOP: the person's own opt-out, not a bad number.
const ProviderOptOutCode = "21610"

// HasOtherChannel reports whether the person can still be reached on a
// channel other than the one they are leaving.
func HasOtherChannel(sub store.Subscriber, leaving string) bool {
	live := func(st string) bool { return st == "pending" || st == "confirmed" }
	if leaving == "sms" {
		return sub.Email != "" && live(sub.EmailStatus)
	}
	return sub.Phone != "" && live(sub.SMSStatus)
}
