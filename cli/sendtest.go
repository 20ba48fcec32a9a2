package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/config"
)

func runSendTest(ctx context.Context, env *Env, args []string) error {
	fs := flagSet(env, "send-test")
	config.Flags(fs)
	email := fs.String("email", "", "send a test email to this address")
	phone := fs.String("phone", "", "send a test SMS to this number")
	if err := parseNoArgs(fs, args); err != nil {
		return err
	}
	if (*email == "") == (*phone == "") {
		return usagef("give one of --email or --phone")
	}
	cfg, err := loadConfig(env, fs)
	if err != nil {
		return err
	}
	m := channel.Message{DeliveryID: time.Now().Unix(), Kind: "test", Step: "send-test"}
	kind := channel.Email
	if *email != "" {
		addr, err := normalizeEmail(*email)
		if err != nil {
			return err
		}
		m.Channel, m.To, m.Subject = channel.Email, addr, "Rekindle test message"
		m.Text = "This is a test message from rekindle. If you can read it, email delivery works."
		m.HTML = "<!doctype html><html lang=\"en\"><head><title>Rekindle test message</title></head><body><p>This is a test message from rekindle. If you can read it, email delivery works.</p></body></html>"
	} else {
		// A number that cannot take texts is refused by enroll's and the
		// sign-up form's rule: the provider may accept the message, but it
		// would never arrive, and the test would prove nothing.
		num, err := textablePhone(*phone, cfg.DefaultRegion)
		if err != nil {
			return fmt.Errorf("--phone: %w", err)
		}
		kind = channel.SMS
		m.Channel, m.To = channel.SMS, num
		m.Text = cfg.SMSBrand + ": this is a test message. Reply STOP to opt out."
	}
	log, _ := quietLogger(env, cfg)
	chans, err := buildChannels(cfg, log)
	if err != nil {
		return err
	}
	for _, ch := range chans {
		if ch.Kind() != kind {
			continue
		}
		s, err := ch.NewSender()
		if err != nil {
			return err
		}
		defer s.Close()
		res, err := s.Send(ctx, m)
		if err != nil {
			return fmt.Errorf("%s: %w", ch.Name(), err)
		}
		fmt.Fprintf(env.Stdout, "sent through %s: id %s %s\n", ch.Name(), res.ProviderID, res.Detail)
		return nil
	}
	return fmt.Errorf("no %s channel configured", kind)
}
