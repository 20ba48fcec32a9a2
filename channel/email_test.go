package channel

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/rekindle/rekindle/internal/fakesmtp"
)

func startFakeSMTP(t testing.TB, opts fakesmtp.Options) *fakesmtp.Server {
	t.Helper()
	srv, err := fakesmtp.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func testSMTPConfig(srv *fakesmtp.Server) SMTPConfig {
	return SMTPConfig{
		Host:        srv.Host(),
		Port:        srv.Port(),
		TLS:         "none",
		From:        "Rekindle <news@rekindle.example.org>",
		ReplyTo:     "help@rekindle.example.org",
		Timeout:     5 * time.Second,
		IdleTimeout: time.Minute,
		HELO:        "worker.rekindle.test",
	}
}

func newTestSender(t testing.TB, cfg SMTPConfig) Sender {
	t.Helper()
	ch, err := NewSMTP(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s, err := ch.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// A long one-click URL: the header line is far past 76 characters.
func unsubURL(id int64) string {
	return fmt.Sprintf("https://rekindle.example.org/u/%d/eyJhbGciOiJIUzI1NiJ9.eyJkIjoxMjM0NTYsImMiOiJuZXdzIn0.dGhpcyBpcyBhIHNpZ25hdHVyZQ", id)
}

func testEmail(id int64) Message {
	return Message{
		DeliveryID:        id,
		Channel:           Email,
		To:                fmt.Sprintf("reader%d@example.net", id),
		ToName:            "Zoë Reader",
		Subject:           fmt.Sprintf("Your weekly digest №%d — don't miss it", id),
		Text:              fmt.Sprintf("Hello Zoë,\n\nThis is digest %d. A long line that goes on and on so that quoted-printable has to soft-break it somewhere past seventy-six characters.\n", id),
		HTML:              fmt.Sprintf("<html><body><p>Hello Zoë,</p><p>This is digest <b>%d</b>.</p></body></html>", id),
		UnsubscribeURL:    unsubURL(id),
		UnsubscribeMailto: fmt.Sprintf("mailto:unsubscribe+%d@rekindle.example.org?subject=unsubscribe", id),
		ListID:            "Rekindle News <news.rekindle.example.org>",
	}
}

// checkEmail parses a raw message as a mail client would and checks every
// part of it against m.
func checkEmail(t *testing.T, raw []byte, m Message) {
	t.Helper()
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("delivery %d: parse: %v", m.DeliveryID, err)
	}
	h := msg.Header
	if got, want := h.Get("Message-Id"), SMTPMessageID(m.DeliveryID, "rekindle.example.org"); got != want {
		t.Errorf("Message-ID = %q, want %q", got, want)
	}
	dec := new(mime.WordDecoder)
	if subj, err := dec.DecodeHeader(h.Get("Subject")); err != nil || subj != m.Subject {
		t.Errorf("Subject = %q (%v), want %q", subj, err, m.Subject)
	}
	to, err := netmail.ParseAddress(h.Get("To"))
	if err != nil || to.Address != m.To || to.Name != m.ToName {
		t.Errorf("To = %q (%v)", h.Get("To"), err)
	}
	if from, err := netmail.ParseAddress(h.Get("From")); err != nil || from.Address != "news@rekindle.example.org" {
		t.Errorf("From = %q (%v)", h.Get("From"), err)
	}
	if h.Get("Reply-To") != "<help@rekindle.example.org>" {
		t.Errorf("Reply-To = %q", h.Get("Reply-To"))
	}
	wantUnsub := "<" + m.UnsubscribeURL + ">, <" + m.UnsubscribeMailto + ">"
	if got := h.Get("List-Unsubscribe"); got != wantUnsub {
		t.Errorf("List-Unsubscribe = %q, want %q", got, wantUnsub)
	}
	if got := h.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post = %q", got)
	}
	if got := h.Get("List-Id"); got != m.ListID {
		t.Errorf("List-Id = %q, want %q", got, m.ListID)
	}
	// Unfolded in the raw bytes too: one physical line.
	if !bytes.Contains(raw, []byte("\r\nList-Unsubscribe: "+wantUnsub+"\r\n")) {
		t.Errorf("List-Unsubscribe is not on one line in the raw message")
	}

	mt, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type = %q (%v)", h.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	parts := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("part: %v", err)
		}
		body, err := io.ReadAll(p) // NextPart decodes quoted-printable
		if err != nil {
			t.Fatal(err)
		}
		pt, pp, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		if !strings.EqualFold(pp["charset"], "utf-8") {
			t.Errorf("%s charset = %q", pt, pp["charset"])
		}
		parts[pt] = strings.ReplaceAll(string(body), "\r\n", "\n")
	}
	if parts["text/plain"] != m.Text {
		t.Errorf("text/plain = %q, want %q", parts["text/plain"], m.Text)
	}
	if parts["text/html"] != m.HTML {
		t.Errorf("text/html = %q, want %q", parts["text/html"], m.HTML)
	}
}

func TestSMTPConcurrentSendersReuseConnections(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	ch, err := NewSMTP(testSMTPConfig(srv), nil)
	if err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 50
	results := make(map[int64]Result)
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		s, err := ch.NewSender()
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			defer s.Close()
			for i := range each {
				id := int64(w*each + i + 1)
				res, err := s.Send(context.Background(), testEmail(id))
				if err != nil {
					errs <- fmt.Errorf("delivery %d: %w", id, err)
					continue
				}
				mu.Lock()
				results[id] = res
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := srv.Connections(); n > workers {
		t.Errorf("server saw %d connections, want at most %d", n, workers)
	}
	msgs := srv.Messages()
	if len(msgs) != workers*each {
		t.Fatalf("server has %d messages, want %d", len(msgs), workers*each)
	}
	seen := map[int64]bool{}
	for _, rm := range msgs {
		var id int64
		if _, err := fmt.Sscanf(rm.To[0], "reader%d@example.net", &id); err != nil {
			t.Fatalf("envelope To %q", rm.To)
		}
		if seen[id] {
			t.Errorf("delivery %d received twice", id)
		}
		seen[id] = true
		if rm.From != "news@rekindle.example.org" || len(rm.To) != 1 {
			t.Errorf("envelope %q -> %q", rm.From, rm.To)
		}
		if rm.Helo != "worker.rekindle.test" {
			t.Errorf("HELO %q", rm.Helo)
		}
		checkEmail(t, rm.Data, testEmail(id))
		if got, want := results[id].ProviderID, SMTPMessageID(id, "rekindle.example.org"); got != want {
			t.Errorf("ProviderID = %q, want %q", got, want)
		}
	}
	if got := srv.ActiveConnections(); got != 0 {
		t.Errorf("%d connections still open after Close", got)
	}
}

func wantProviderError(t *testing.T, err error, permanent bool, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v/%s", permanent, code)
	}
	p, c := Classify(err)
	if p != permanent || c != code {
		t.Fatalf("Classify(%v) = %v, %q; want %v, %q", err, p, c, permanent, code)
	}
	if !strings.HasPrefix(errors.Unwrap(err).Error(), "smtp: ") {
		t.Errorf("error %q lacks the smtp: prefix", errors.Unwrap(err))
	}
}

func TestSMTP451ThenAccept(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	m := testEmail(7)
	srv.FailNext(fakesmtp.StageRcpt, 1, 451)

	_, err := s.Send(context.Background(), m)
	wantProviderError(t, err, false, "451")
	if strings.Contains(err.Error(), m.To) {
		t.Errorf("error shows the full address: %v", err)
	}
	if ShouldSuppress(err) {
		t.Error("451 must not suppress")
	}
	res, err := s.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if msgs := srv.Messages(); len(msgs) != 1 {
		t.Fatalf("server has %d copies, want 1", len(msgs))
	}
	if res.ProviderID != SMTPMessageID(7, "rekindle.example.org") {
		t.Errorf("ProviderID %q", res.ProviderID)
	}
	if srv.Connections() != 1 {
		t.Errorf("a 451 reply cost a connection: %d connections", srv.Connections())
	}
}

func TestSMTP550Permanent(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	srv.FailNext(fakesmtp.StageRcpt, 1, 550)
	_, err := s.Send(context.Background(), testEmail(1))
	wantProviderError(t, err, true, "550")
	if !ShouldSuppress(err) {
		t.Error("550 on RCPT should suppress")
	}
	if strings.Contains(err.Error(), "reader1@example.net") || !strings.Contains(err.Error(), "r***@example.net") {
		t.Errorf("address not masked in %q", err)
	}
	// The connection is still good for the next recipient.
	if _, err := s.Send(context.Background(), testEmail(2)); err != nil {
		t.Fatal(err)
	}
	if srv.Connections() != 1 || srv.MessageCount() != 1 {
		t.Errorf("connections %d, messages %d; want 1, 1", srv.Connections(), srv.MessageCount())
	}
}

// A relay that refuses to relay, a blocklist entry for our IP and a DMARC
// failure all come back as 550. They are about the sending setup, and
// suppressing on them would remove every real subscriber for good.
func TestSMTPPolicy550sNeitherSuppressNorFail(t *testing.T) {
	for _, tc := range []struct {
		stage fakesmtp.Stage
		fault fakesmtp.Fault
	}{
		{fakesmtp.StageRcpt, fakesmtp.Fault{Code: 550, Enhanced: smtp.EnhancedCode{5, 7, 1}, Message: "Relaying denied"}},
		{fakesmtp.StageRcpt, fakesmtp.Fault{Code: 550, Enhanced: smtp.EnhancedCode{5, 7, 606}, Message: "Access denied, banned sending IP"}},
		{fakesmtp.StageData, fakesmtp.Fault{Code: 550, Enhanced: smtp.EnhancedCode{5, 7, 26}, Message: "Unauthenticated email is not accepted (DMARC)"}},
	} {
		srv := startFakeSMTP(t, fakesmtp.Options{})
		s := newTestSender(t, testSMTPConfig(srv))
		srv.Inject(tc.stage, 1, tc.fault)
		_, err := s.Send(context.Background(), testEmail(1))
		wantProviderError(t, err, false, "550")
		if ShouldSuppress(err) {
			t.Errorf("%s: a policy refusal would suppress the subscriber: %v", tc.fault.Message, err)
		}
	}
}

// Without an enhanced code, a 550 after DATA is a refusal of the message,
// not of the mailbox, which RCPT already accepted.
func TestSMTP550AfterDataDoesNotSuppress(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	srv.FailNext(fakesmtp.StageData, 1, 550)
	_, err := s.Send(context.Background(), testEmail(1))
	wantProviderError(t, err, true, "550")
	if ShouldSuppress(err) {
		t.Errorf("550 after DATA suppressed the address: %v", err)
	}
}

func TestSMTP554AfterDataPermanentNotSuppressed(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	srv.Inject(fakesmtp.StageData, 1, fakesmtp.Fault{Code: 554, Message: "5.7.1 content rejected"})
	_, err := s.Send(context.Background(), testEmail(1))
	wantProviderError(t, err, true, "554")
	if ShouldSuppress(err) {
		t.Error("554 content refusal must not suppress the address")
	}
	if _, err := s.Send(context.Background(), testEmail(2)); err != nil {
		t.Fatal(err)
	}
	if srv.Connections() != 1 {
		t.Errorf("%d connections, want 1", srv.Connections())
	}
}

func TestSMTP5xxOnMailFromIsRetryable(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	srv.FailNext(fakesmtp.StageMail, 1, 553)
	_, err := s.Send(context.Background(), testEmail(1))
	wantProviderError(t, err, false, "553")
}

func TestSMTPDroppedConnectionMidSession(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	if _, err := s.Send(context.Background(), testEmail(1)); err != nil {
		t.Fatal(err)
	}
	srv.DropNext(fakesmtp.StageData, 1)
	_, err := s.Send(context.Background(), testEmail(2))
	wantProviderError(t, err, false, "network")
	if _, err := s.Send(context.Background(), testEmail(2)); err != nil {
		t.Fatalf("send after the drop: %v", err)
	}
	if got := srv.Connections(); got != 2 {
		t.Errorf("%d connections, want 2 (one reconnect)", got)
	}
	if got := srv.MessageCount(); got != 2 {
		t.Errorf("%d messages, want 2", got)
	}
}

func TestSMTPDroppedOnRcptIsRetryable(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	srv.DropNext(fakesmtp.StageRcpt, 1)
	_, err := s.Send(context.Background(), testEmail(1))
	wantProviderError(t, err, false, "network")
	if _, err := s.Send(context.Background(), testEmail(1)); err != nil {
		t.Fatal(err)
	}
}

func TestSMTP421ClosesAndReconnects(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	srv.FailNext(fakesmtp.StageRcpt, 1, 421)
	_, err := s.Send(context.Background(), testEmail(1))
	wantProviderError(t, err, false, "421")
	if _, err := s.Send(context.Background(), testEmail(1)); err != nil {
		t.Fatal(err)
	}
	if srv.Connections() != 2 {
		t.Errorf("%d connections, want 2", srv.Connections())
	}
}

// A connection the server closed while the sender held it (idle timeout on
// the server, restart) is replaced without an error: nothing had been sent.
func TestSMTPStaleConnectionIsReplaced(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	if _, err := s.Send(context.Background(), testEmail(1)); err != nil {
		t.Fatal(err)
	}
	srv.DropConnections()
	for srv.ActiveConnections() != 0 {
		time.Sleep(time.Millisecond)
	}
	if _, err := s.Send(context.Background(), testEmail(2)); err != nil {
		t.Fatalf("send over a stale connection: %v", err)
	}
	// Same with a 421 "closing" answer to MAIL FROM.
	srv.FailNext(fakesmtp.StageMail, 1, 421)
	if _, err := s.Send(context.Background(), testEmail(3)); err != nil {
		t.Fatalf("send after 421 on MAIL: %v", err)
	}
	if srv.Connections() != 3 || srv.MessageCount() != 3 {
		t.Errorf("connections %d, messages %d; want 3, 3", srv.Connections(), srv.MessageCount())
	}
}

func TestSMTPHangTimesOut(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	cfg := testSMTPConfig(srv)
	cfg.Timeout = 300 * time.Millisecond
	s := newTestSender(t, cfg)
	srv.HangNext(fakesmtp.StageRcpt, 1, 10*time.Second)
	start := time.Now()
	_, err := s.Send(context.Background(), testEmail(1))
	elapsed := time.Since(start)
	wantProviderError(t, err, false, "timeout")
	if elapsed > 3*time.Second {
		t.Errorf("Send took %v with a 300ms timeout", elapsed)
	}
	if _, err := s.Send(context.Background(), testEmail(2)); err != nil {
		t.Fatalf("send after the timeout: %v", err)
	}
}

func TestSMTPHangOnGreetingTimesOut(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	cfg := testSMTPConfig(srv)
	cfg.Timeout = 300 * time.Millisecond
	s := newTestSender(t, cfg)
	srv.Inject(fakesmtp.StageConnect, 1, fakesmtp.Fault{Hang: 10 * time.Second})
	start := time.Now()
	_, err := s.Send(context.Background(), testEmail(1))
	wantProviderError(t, err, false, "timeout")
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Send took %v with a 300ms timeout", elapsed)
	}
}

func TestSMTPGreeting554IsRetryable(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	srv.Inject(fakesmtp.StageConnect, 1, fakesmtp.Fault{Code: 554, Message: "no service for you"})
	_, err := s.Send(context.Background(), testEmail(1))
	// A refusal of the connection says nothing about the recipient.
	wantProviderError(t, err, false, "554")
	if _, err := s.Send(context.Background(), testEmail(1)); err != nil {
		t.Fatal(err)
	}
}

func TestSMTPContextCancelStopsSend(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv)) // 5s timeout
	srv.HangNext(fakesmtp.StageData, 1, 10*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Send(ctx, testEmail(1))
	wantProviderError(t, err, false, "timeout")
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Send took %v with a 200ms context", elapsed)
	}
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	_, err = s.Send(ctx2, testEmail(2))
	wantProviderError(t, err, false, "canceled")
	if _, err := s.Send(context.Background(), testEmail(3)); err != nil {
		t.Fatal(err)
	}
}

func TestSMTPConnectionRefused(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	cfg := testSMTPConfig(srv)
	_ = srv.Close()
	s := newTestSender(t, cfg)
	_, err := s.Send(context.Background(), testEmail(1))
	wantProviderError(t, err, false, "network")
	if !strings.Contains(err.Error(), "smtp: dial ") {
		t.Errorf("error %q", err)
	}
}

func TestSMTPIdleConnectionClosed(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	cfg := testSMTPConfig(srv)
	cfg.IdleTimeout = 50 * time.Millisecond
	s := newTestSender(t, cfg)
	if _, err := s.Send(context.Background(), testEmail(1)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for srv.ActiveConnections() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("idle connection not closed")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := s.Send(context.Background(), testEmail(2)); err != nil {
		t.Fatal(err)
	}
	if srv.Connections() != 2 {
		t.Errorf("%d connections, want 2", srv.Connections())
	}
}

func TestSMTPStartTLSWithAuth(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{STARTTLS: true, Users: map[string]string{"rekindle": "s3cret"}})
	cfg := testSMTPConfig(srv)
	cfg.TLS = "starttls"
	cfg.Username, cfg.Password = "rekindle", "s3cret"
	cfg.tlsConfig = srv.ClientTLSConfig()
	s := newTestSender(t, cfg)
	for i := range 3 {
		if _, err := s.Send(context.Background(), testEmail(int64(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	msgs := srv.Messages()
	if len(msgs) != 3 || !msgs[0].TLS || msgs[0].AuthUser != "rekindle" || srv.Connections() != 1 {
		t.Fatalf("messages %d, TLS %v, user %q, connections %d", len(msgs), msgs[0].TLS, msgs[0].AuthUser, srv.Connections())
	}
}

func TestSMTPImplicitTLSWithAuth(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{ImplicitTLS: true, Users: map[string]string{"rekindle": "s3cret"}})
	cfg := testSMTPConfig(srv)
	cfg.TLS = "tls"
	cfg.Username, cfg.Password = "rekindle", "s3cret"
	cfg.tlsConfig = srv.ClientTLSConfig()
	s := newTestSender(t, cfg)
	if _, err := s.Send(context.Background(), testEmail(1)); err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || !msgs[0].TLS || msgs[0].AuthUser != "rekindle" {
		t.Fatalf("got %+v", msgs)
	}
}

func TestSMTPBadPasswordIsRetryable(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{STARTTLS: true, Users: map[string]string{"rekindle": "s3cret"}})
	cfg := testSMTPConfig(srv)
	cfg.TLS = "starttls"
	cfg.Username, cfg.Password = "rekindle", "wrong"
	cfg.tlsConfig = srv.ClientTLSConfig()
	s := newTestSender(t, cfg)
	_, err := s.Send(context.Background(), testEmail(1))
	// Our credentials, not the recipient: never permanent.
	wantProviderError(t, err, false, "535")
	if strings.Contains(err.Error(), "wrong") {
		t.Errorf("error shows the password: %v", err)
	}
}

func TestSMTPUntrustedCertificate(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{STARTTLS: true})
	cfg := testSMTPConfig(srv)
	cfg.TLS = "starttls"
	s := newTestSender(t, cfg)
	_, err := s.Send(context.Background(), testEmail(1))
	wantProviderError(t, err, false, "connect")
	if srv.MessageCount() != 0 {
		t.Fatal("message sent over an unverified TLS connection")
	}
}

func TestSMTPInvalidRecipientIsPermanent(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	m := testEmail(1)
	m.To = "not an address"
	_, err := s.Send(context.Background(), m)
	wantProviderError(t, err, true, "invalid-address")
	// No mail can ever reach it: the address is suppressed, not retried on
	// the next lesson.
	if !ShouldSuppress(err) {
		t.Error("an unparseable address is not suppressed")
	}
	if srv.Connections() != 0 {
		t.Error("connected for a message that cannot be sent")
	}
}

func TestSMTPHeaderVariants(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	send := func(m Message) netmail.Header {
		t.Helper()
		srv.Reset()
		if _, err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		msgs := srv.Messages()
		if len(msgs) != 1 {
			t.Fatalf("%d messages", len(msgs))
		}
		pm, err := netmail.ReadMessage(bytes.NewReader(msgs[0].Data))
		if err != nil {
			t.Fatal(err)
		}
		return pm.Header
	}

	// Transactional mail: no list headers.
	m := testEmail(1)
	m.UnsubscribeURL, m.UnsubscribeMailto, m.ListID = "", "", ""
	h := send(m)
	for _, k := range []string{"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"} {
		if _, ok := h[k]; ok {
			t.Errorf("transactional mail has %s", k)
		}
	}

	// Mailto only: no one-click header (RFC 8058 needs an HTTPS URI).
	m = testEmail(2)
	m.UnsubscribeURL = ""
	m.UnsubscribeMailto = "unsubscribe@rekindle.example.org"
	h = send(m)
	if got := h.Get("List-Unsubscribe"); got != "<mailto:unsubscribe@rekindle.example.org>" {
		t.Errorf("List-Unsubscribe = %q", got)
	}
	if _, ok := h["List-Unsubscribe-Post"]; ok {
		t.Error("List-Unsubscribe-Post without an https URI")
	}

	// Header injection attempt: the URL is left out, nothing is injected.
	m = testEmail(3)
	m.UnsubscribeURL = "https://x.example/u\r\nBcc: victim@example.com"
	h = send(m)
	if _, ok := h["Bcc"]; ok {
		t.Fatal("header injected")
	}
	if got := h.Get("List-Unsubscribe"); got != "<"+m.UnsubscribeMailto+">" {
		t.Errorf("List-Unsubscribe = %q", got)
	}

	// A non-ASCII List-Id phrase is encoded alone; the id stays readable.
	m = testEmail(4)
	m.ListID = "Zoë's list <zoe.rekindle.example.org>"
	h = send(m)
	raw := h.Get("List-Id")
	if !strings.HasSuffix(raw, " <zoe.rekindle.example.org>") {
		t.Errorf("List-Id = %q", raw)
	}
	if dec, err := new(mime.WordDecoder).DecodeHeader(raw); err != nil || dec != m.ListID {
		t.Errorf("List-Id decodes to %q (%v)", dec, err)
	}

	// Text only, HTML only.
	m = testEmail(5)
	m.HTML = ""
	h = send(m)
	if mt, _, _ := mime.ParseMediaType(h.Get("Content-Type")); mt != "text/plain" {
		t.Errorf("text-only Content-Type %q", h.Get("Content-Type"))
	}
	m = testEmail(6)
	m.Text = ""
	h = send(m)
	if mt, _, _ := mime.ParseMediaType(h.Get("Content-Type")); mt != "text/html" {
		t.Errorf("html-only Content-Type %q", h.Get("Content-Type"))
	}
}

// RFC 8058 one-click needs an HTTPS URI: an http:// unsubscribe URL is
// listed (a person can still open it) but gets no List-Unsubscribe-Post, or
// mailbox providers would POST to it in clear.
func TestSMTPHTTPUnsubscribeURLIsListedWithoutOneClick(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	m := testEmail(1)
	m.UnsubscribeURL = "http://rekindle.example.org/unsubscribe/tok"
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	pm, err := netmail.ReadMessage(bytes.NewReader(srv.Messages()[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pm.Header.Get("List-Unsubscribe"), "<"+m.UnsubscribeURL+">, <"+m.UnsubscribeMailto+">"; got != want {
		t.Errorf("List-Unsubscribe = %q, want %q", got, want)
	}
	if _, ok := pm.Header["List-Unsubscribe-Post"]; ok {
		t.Error("List-Unsubscribe-Post for an http:// URI")
	}
}

// A URI that cannot sit between angle brackets in a comma-separated header
// (a space, a comma, a bracket, a non-ASCII character, or a bare "mailto:")
// would give mail clients a broken or different unsubscribe target: it is
// left out, and the other one still works.
func TestSMTPUnusableUnsubscribeURIsAreLeftOut(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	good := testEmail(1)
	for i, bad := range []string{
		"https://rekindle.example.org/u/a b",
		"https://rekindle.example.org/u/a,b",
		"https://rekindle.example.org/u/a>b",
		"https://rekindle.example.org/u/a<b",
		"https://rekindle.example.org/u/zoë",
	} {
		srv.Reset()
		m := testEmail(int64(i + 1))
		m.UnsubscribeURL = bad
		if _, err := s.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		pm, err := netmail.ReadMessage(bytes.NewReader(srv.Messages()[0].Data))
		if err != nil {
			t.Fatal(err)
		}
		if got := pm.Header.Get("List-Unsubscribe"); got != "<"+m.UnsubscribeMailto+">" {
			t.Errorf("URL %q: List-Unsubscribe = %q", bad, got)
		}
		if _, ok := pm.Header["List-Unsubscribe-Post"]; ok {
			t.Errorf("URL %q: List-Unsubscribe-Post without a usable https URI", bad)
		}
	}
	srv.Reset()
	m := good
	m.UnsubscribeMailto = "mailto:"
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	pm, err := netmail.ReadMessage(bytes.NewReader(srv.Messages()[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if got := pm.Header.Get("List-Unsubscribe"); got != "<"+m.UnsubscribeURL+">" {
		t.Errorf("bare mailto: List-Unsubscribe = %q", got)
	}
}

// A List-Unsubscribe line that would pass 998 characters is folded only
// after a comma, and the parsed value is intact.
func TestSMTPVeryLongListUnsubscribeFoldsAtComma(t *testing.T) {
	srv := startFakeSMTP(t, fakesmtp.Options{})
	s := newTestSender(t, testSMTPConfig(srv))
	m := testEmail(1)
	m.UnsubscribeURL = "https://rekindle.example.org/u/" + strings.Repeat("a", 900)
	if _, err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	raw := srv.Messages()[0].Data
	if !bytes.Contains(raw, []byte("\r\nList-Unsubscribe: <"+m.UnsubscribeURL+">,\r\n <"+m.UnsubscribeMailto+">\r\n")) {
		t.Error("not folded at the comma")
	}
	for _, line := range bytes.Split(raw, []byte("\r\n")) {
		if len(line) > 998 {
			t.Errorf("line of %d characters", len(line))
		}
	}
	pm, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := pm.Header.Get("List-Unsubscribe"), "<"+m.UnsubscribeURL+">, <"+m.UnsubscribeMailto+">"; got != want {
		t.Errorf("unfolded List-Unsubscribe = %q", got)
	}
}

func TestSMTPMessageIDRoundTrip(t *testing.T) {
	id := SMTPMessageID(123, "example.org")
	if id != "<delivery-123.rekindle@example.org>" {
		t.Fatal(id)
	}
	for _, s := range []string{id, strings.Trim(id, "<>")} {
		if n, ok := ParseSMTPMessageID(s); !ok || n != 123 {
			t.Errorf("ParseSMTPMessageID(%q) = %d, %v", s, n, ok)
		}
	}
	for _, s := range []string{"", "<abc@example.org>", "<delivery-x.rekindle@e>"} {
		if _, ok := ParseSMTPMessageID(s); ok {
			t.Errorf("ParseSMTPMessageID(%q) ok", s)
		}
	}
}

func TestNewSMTPValidates(t *testing.T) {
	good := SMTPConfig{Host: "smtp.example.org", From: "news@example.org"}
	if _, err := NewSMTP(good, nil); err != nil {
		t.Fatalf("minimal config: %v", err)
	}
	cases := []struct {
		field string
		mod   func(*SMTPConfig)
	}{
		{"Host", func(c *SMTPConfig) { c.Host = "" }},
		{"Host", func(c *SMTPConfig) { c.Host = "smtp://x.example" }},
		{"TLS", func(c *SMTPConfig) { c.TLS = "ssl" }},
		{"Port", func(c *SMTPConfig) { c.Port = 70000 }},
		{"Password", func(c *SMTPConfig) { c.Username = "u" }},
		{"Username/Password need TLS", func(c *SMTPConfig) { c.Username, c.Password, c.TLS = "u", "p", "none" }},
		{"From", func(c *SMTPConfig) { c.From = "" }},
		{"From", func(c *SMTPConfig) { c.From = "not-an-address" }},
		{"ReplyTo", func(c *SMTPConfig) { c.ReplyTo = "@@" }},
		{"Timeout", func(c *SMTPConfig) { c.Timeout = -1 }},
		{"IdleTimeout", func(c *SMTPConfig) { c.IdleTimeout = -1 }},
		{"HELO", func(c *SMTPConfig) { c.HELO = "two words" }},
	}
	for _, tc := range cases {
		cfg := good
		tc.mod(&cfg)
		_, err := NewSMTP(cfg, nil)
		if err == nil || !strings.Contains(err.Error(), tc.field) || !strings.HasPrefix(err.Error(), "smtp: config: ") {
			t.Errorf("%s: error %v", tc.field, err)
		}
		if cfg.Password != "" && err != nil && strings.Contains(err.Error(), cfg.Password) && cfg.Password != "p" {
			t.Errorf("error shows the password")
		}
	}
	ch, _ := NewSMTP(good, nil)
	if ch.Kind() != Email || ch.Name() != "smtp" {
		t.Errorf("Kind %q Name %q", ch.Kind(), ch.Name())
	}
}

// BenchmarkSMTPWorkers sends b.N messages to fakesmtp from 1, 4 and 16
// concurrent Senders and reports the achieved messages per second.
func BenchmarkSMTPWorkers(b *testing.B) {
	for _, workers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			srv := startFakeSMTP(b, fakesmtp.Options{DiscardContent: true})
			ch, err := NewSMTP(testSMTPConfig(srv), nil)
			if err != nil {
				b.Fatal(err)
			}
			senders := make([]Sender, workers)
			for i := range senders {
				if senders[i], err = ch.NewSender(); err != nil {
					b.Fatal(err)
				}
				// Connect before timing.
				if _, err := senders[i].Send(context.Background(), testEmail(0)); err != nil {
					b.Fatal(err)
				}
			}
			srv.Reset()
			jobs := make(chan int64, workers)
			var wg sync.WaitGroup
			var failed sync.Once
			b.ResetTimer()
			for _, s := range senders {
				wg.Go(func() {
					for id := range jobs {
						if _, err := s.Send(context.Background(), testEmail(id)); err != nil {
							failed.Do(func() { b.Error(err) })
						}
					}
				})
			}
			for i := range b.N {
				jobs <- int64(i + 1)
			}
			close(jobs)
			wg.Wait()
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
			for _, s := range senders {
				_ = s.Close()
			}
			if got := srv.MessageCount(); got != b.N {
				b.Errorf("server got %d messages, want %d", got, b.N)
			}
			if got := srv.Connections(); got > workers {
				b.Errorf("%d connections for %d workers", got, workers)
			}
		})
	}
}
