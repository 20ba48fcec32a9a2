package channel

import (
	"context"
	"crypto/tls"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/fakesmtp"
)

// What an operator gets from the settings they leave out: STARTTLS on 587
// (never plain text by default), 465 for implicit TLS, 25 only when they ask
// for no TLS; 30s timeouts, so a silent server cannot hold a worker for ever;
// TLS 1.2 or later, checked against the host name they gave.
func TestNewSMTPDefaults(t *testing.T) {
	for _, tc := range []struct {
		tls, wantTLS string
		wantPort     int
	}{
		{"", "starttls", 587},
		{"STARTTLS ", "starttls", 587},
		{"tls", "tls", 465},
		{"none", "none", 25},
	} {
		ch, err := NewSMTP(SMTPConfig{Host: "smtp.example.org", From: "news@example.org", TLS: tc.tls}, nil)
		if err != nil {
			t.Fatalf("TLS %q: %v", tc.tls, err)
		}
		c := ch.(*smtpChannel)
		if c.cfg.TLS != tc.wantTLS || c.cfg.Port != tc.wantPort {
			t.Errorf("TLS %q: got TLS %q port %d, want %q %d", tc.tls, c.cfg.TLS, c.cfg.Port, tc.wantTLS, tc.wantPort)
		}
		if c.cfg.Timeout != 30*time.Second || c.cfg.IdleTimeout != 30*time.Second {
			t.Errorf("TLS %q: Timeout %v IdleTimeout %v, want 30s each", tc.tls, c.cfg.Timeout, c.cfg.IdleTimeout)
		}
		if c.tlsCfg.MinVersion < tls.VersionTLS12 || c.tlsCfg.ServerName != "smtp.example.org" || c.tlsCfg.InsecureSkipVerify {
			t.Errorf("TLS %q: tls.Config MinVersion %x ServerName %q InsecureSkipVerify %v", tc.tls, c.tlsCfg.MinVersion, c.tlsCfg.ServerName, c.tlsCfg.InsecureSkipVerify)
		}
	}
	// Credentials with the TLS setting left out are fine: the default encrypts.
	if _, err := NewSMTP(SMTPConfig{Host: "smtp.example.org", From: "news@example.org", Username: "u", Password: "p"}, nil); err != nil {
		t.Errorf("credentials with the default TLS: %v", err)
	}
}

// Hosts an operator may well write: an IPv6 literal, and a local relay that
// takes a password without TLS (nothing leaves the machine). A port below 1
// is refused at start, not at the first send.
func TestNewSMTPAcceptsIPv6AndLocalPlainAuth(t *testing.T) {
	for _, host := range []string{"::1", "2001:db8::25"} {
		if _, err := NewSMTP(SMTPConfig{Host: host, From: "news@example.org"}, nil); err != nil {
			t.Errorf("Host %q: %v", host, err)
		}
	}
	for _, host := range []string{"localhost", "127.0.0.1", "::1"} {
		cfg := SMTPConfig{Host: host, From: "news@example.org", TLS: "none", Username: "u", Password: "p"}
		if _, err := NewSMTP(cfg, nil); err != nil {
			t.Errorf("plain AUTH to %q: %v", host, err)
		}
	}
	if _, err := NewSMTP(SMTPConfig{Host: "smtp.example.org", From: "news@example.org", Port: -1}, nil); err == nil {
		t.Error("Port -1 accepted")
	}
}

// TLS "starttls" is a requirement, not a wish: a server (or a man in the
// middle stripping the capability) that does not offer STARTTLS gets no
// message, and the failure is retried, not counted against the recipient.
func TestSMTPStartTLSIsMandatory(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	cfg := testSMTPConfig(srv)
	cfg.TLS = "starttls"
	cfg.tlsConfig = srv.ClientTLSConfig()
	s := newTestSender(t, cfg)
	_, err := s.Send(context.Background(), testEmail(1))
	if err == nil {
		t.Fatal("sent over a connection without STARTTLS")
	}
	if p, _ := Classify(err); p || ShouldSuppress(err) {
		t.Errorf("missing STARTTLS: permanent %v suppress %v (%v)", p, ShouldSuppress(err), err)
	}
	if n := srv.MessageCount(); n != 0 {
		t.Errorf("%d messages reached the server in clear", n)
	}
}

// Only a connection the sender held from before may be stale; a reply to
// MAIL FROM on a connection just opened, or any reply but 421 on an old one,
// is the server's answer: the delivery gets it back (and the dispatcher's
// backoff), instead of an immediate second connection and try.
func TestSMTPMailFromRefusalIsNotRetriedAtOnce(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	srv.FailNext(fakesmtp.StageMail, 1, 421)
	_, err := s.Send(context.Background(), testEmail(1))
	wantProviderError(t, err, false, "421")
	if n := srv.Connections(); n != 1 {
		t.Errorf("421 on a fresh connection: %d connections, want 1", n)
	}

	if _, err := s.Send(context.Background(), testEmail(2)); err != nil {
		t.Fatal(err)
	}
	srv.FailNext(fakesmtp.StageMail, 1, 451)
	_, err = s.Send(context.Background(), testEmail(3))
	wantProviderError(t, err, false, "451")
	if n, m := srv.Connections(), srv.MessageCount(); n != 2 || m != 1 {
		t.Errorf("451 on a held connection: %d connections, %d messages; want 2, 1", n, m)
	}
}
