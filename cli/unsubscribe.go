package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/rekindle/rekindle/logging"
	"github.com/rekindle/rekindle/store"
)

// runUnsubscribe records an opt-out the operator received (a mailto:
// unsubscribe request, a letter, a call) as the one-click link and STOP
// record theirs: the address is suppressed, the channel revoked with the
// revocation on record, and the person's programs end when no channel is
// left. An address not on file is suppressed all the same. An address that
// already opted out is left as it is, and the operator told since when.
func runUnsubscribe(ctx context.Context, env *Env, args []string) error {
	pa, err := parsePerson(env, "unsubscribe", args, false)
	if err != nil {
		return err
	}
	cfg, e, p := pa.cfg, pa.email, pa.phone
	ch, addr, shown := "email", e, logging.MaskEmail(e)
	if p != "" {
		ch, addr, shown = "sms", p, logging.MaskPhone(p)
	}
	a, err := wire(ctx, env, cfg, wireOptions{anyPrograms: true})
	if err != nil {
		return err
	}
	defer a.close()
	sups, err := a.store.SuppressionsOf(ctx, e, p)
	if err != nil {
		return err
	}
	sub, err := a.store.FindSubscriber(ctx, nil, e, p)
	found := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	// Asked again: an address already suppressed, whose channel (when the
	// person is on file) is already revoked, is left as it is, instead of
	// gaining another revocation and opt-out event each time.
	status := sub.EmailStatus
	if ch == "sms" {
		status = sub.SMSStatus
	}
	if len(sups) > 0 && (!found || status == "revoked") {
		s := sups[0]
		if store.ByRequest(s.Reason) {
			fmt.Fprintf(env.Stdout, "unsubscribe: %s already opted out, since %s (via %s); nothing changed\n", shown, stamp(s.CreatedAt), s.Source)
		} else {
			fmt.Fprintf(env.Stdout, "unsubscribe: %s is already blocked since %s (the provider refused it: %s); nothing changed\n", shown, stamp(s.CreatedAt), s.Reason)
		}
		return nil
	}
	if !found {
		if err := a.store.Suppress(ctx, a.clock.Now(), []store.Suppression{{Channel: ch, Address: addr, Reason: "unsubscribed", Source: "operator"}}); err != nil {
			return err
		}
		fmt.Fprintf(env.Stdout, "unsubscribe: %s is not on file; it is suppressed, nothing will be sent to it\n", shown)
		return nil
	}
	if err := a.engine.OptOut(ctx, sub, ch, "operator", "", ""); err != nil {
		return err
	}
	live, err := a.store.LiveEnrollments(ctx, sub.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "unsubscribe: %s suppressed and its consent revoked; %d program(s) still running on another channel\n", shown, len(live))
	return nil
}
