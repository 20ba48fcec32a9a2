package fakesmtp_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/rekindle/rekindle/internal/fakesmtp"
)

func start(t *testing.T, opts fakesmtp.Options) *fakesmtp.Server {
	t.Helper()
	srv, err := fakesmtp.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close() })
	return srv
}

func send(c *smtp.Client, from, to, body string) error {
	if err := c.Mail(from, nil); err != nil {
		return err
	}
	if err := c.Rcpt(to, nil); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write([]byte(body)); err != nil {
		return err
	}
	return w.Close()
}

func code(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

const body = "Subject: hi\r\n\r\nhello\r\n.dot line\r\n"

func TestRecordsMessagesAndConnections(t *testing.T) {
	srv := start(t, fakesmtp.Options{})
	for range 2 {
		c, err := smtp.Dial(srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Hello("client.test"); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := send(c, "a@x.test", "b@y.test", body); err != nil {
				t.Fatal(err)
			}
		}
		_ = c.Quit()
	}
	if !srv.WaitMessages(4, time.Second) {
		t.Fatal("messages not recorded")
	}
	msgs := srv.Messages()
	m := msgs[3]
	if m.From != "a@x.test" || len(m.To) != 1 || m.To[0] != "b@y.test" || string(m.Data) != body ||
		m.Helo != "client.test" || m.ConnID != 2 || m.Size != len(body) {
		t.Errorf("recorded %+v", m)
	}
	if srv.Connections() != 2 {
		t.Errorf("%d connections", srv.Connections())
	}
	srv.Reset()
	if srv.MessageCount() != 0 {
		t.Error("Reset kept messages")
	}
}

func TestFaults(t *testing.T) {
	srv := start(t, fakesmtp.Options{})
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	srv.FailNext(fakesmtp.StageRcpt, 1, 451)
	srv.FailNext(fakesmtp.StageRcpt, 1, 550)
	srv.Inject(fakesmtp.StageData, 1, fakesmtp.Fault{Code: 554, Message: "5.7.1 no thanks"})
	srv.FailNext(fakesmtp.StageMail, 1, 452)
	if srv.PendingFaults() != 4 {
		t.Fatalf("%d pending faults", srv.PendingFaults())
	}
	for _, want := range []int{452, 451, 550, 554, 0} {
		err := send(c, "a@x.test", "b@y.test", body)
		if code(err) != want || (want == 0) != (err == nil) {
			t.Fatalf("got %v, want code %d", err, want)
		}
		if err != nil {
			_ = c.Reset()
		}
	}
	if srv.MessageCount() != 1 || srv.PendingFaults() != 0 {
		t.Errorf("%d messages, %d faults left", srv.MessageCount(), srv.PendingFaults())
	}
}

// Recipient faults hit only the named address, ahead of the stage-wide
// queue, and every RCPT is counted whatever the answer.
func TestRecipientFaultsAndCounts(t *testing.T) {
	srv := start(t, fakesmtp.Options{})
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	srv.InjectRecipient("Flaky@Y.test", 1, fakesmtp.Fault{Code: 451})
	srv.InjectRecipient("gone@y.test", 2, fakesmtp.Fault{Code: 550})
	srv.FailNext(fakesmtp.StageRcpt, 1, 452)
	if srv.PendingFaults() != 4 {
		t.Fatalf("%d pending faults, want 4", srv.PendingFaults())
	}
	steps := []struct {
		to   string
		want int
	}{
		{"other@y.test", 452}, // the stage-wide fault, not a recipient's
		{"flaky@y.test", 451},
		{"gone@y.test", 550},
		{"flaky@y.test", 0},
		{"gone@y.test", 550},
		{"gone@y.test", 0},
		{"other@y.test", 0},
	}
	for i, st := range steps {
		err := send(c, "a@x.test", st.to, body)
		if code(err) != st.want || (st.want == 0) != (err == nil) {
			t.Fatalf("step %d (%s): got %v, want code %d", i, st.to, err, st.want)
		}
		if err != nil {
			_ = c.Reset()
		}
	}
	for addr, want := range map[string]int{"flaky@y.test": 2, "GONE@y.test": 3, "other@y.test": 2, "never@y.test": 0} {
		if got := srv.RcptAttempts(addr); got != want {
			t.Errorf("RcptAttempts(%s) = %d, want %d", addr, got, want)
		}
	}
	if srv.MessageCount() != 3 || srv.PendingFaults() != 0 {
		t.Errorf("%d messages, %d faults left; want 3, 0", srv.MessageCount(), srv.PendingFaults())
	}
	srv.InjectRecipient("gone@y.test", 1, fakesmtp.Fault{Code: 550})
	srv.Reset()
	if srv.RcptAttempts("gone@y.test") != 0 || srv.PendingFaults() != 0 {
		t.Error("Reset kept RCPT counts or recipient faults")
	}
}

func TestDropAnd421CloseTheConnection(t *testing.T) {
	srv := start(t, fakesmtp.Options{})
	for _, f := range []fakesmtp.Fault{{Drop: true}, {Code: 421}} {
		c, err := smtp.Dial(srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		srv.Inject(fakesmtp.StageRcpt, 1, f)
		err = send(c, "a@x.test", "b@y.test", body)
		if err == nil || (f.Code == 421) != (code(err) == 421) {
			t.Fatalf("%+v: got %v", f, err)
		}
		if err := c.Noop(); err == nil {
			t.Errorf("%+v: connection still usable", f)
		}
		c.Close()
	}
	deadline := time.Now().Add(2 * time.Second)
	for srv.ActiveConnections() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := srv.ActiveConnections(); n != 0 {
		t.Errorf("%d connections open", n)
	}
}

func TestConnectFaults(t *testing.T) {
	srv := start(t, fakesmtp.Options{})
	greet := func() error { // the go-smtp client reads the greeting lazily
		c, err := smtp.Dial(srv.Addr())
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Hello("client.test")
	}
	srv.Inject(fakesmtp.StageConnect, 1, fakesmtp.Fault{Code: 554, Message: "go away"})
	if err := greet(); code(err) != 554 {
		t.Errorf("greeting fault: %v", err)
	}
	srv.Inject(fakesmtp.StageConnect, 1, fakesmtp.Fault{Drop: true})
	if err := greet(); err == nil {
		t.Error("dropped connection greeted")
	}
	if err := greet(); err != nil {
		t.Fatal(err)
	}
	if srv.Connections() != 3 {
		t.Errorf("%d connections", srv.Connections())
	}
}

// A hanging session does not hold Close up.
func TestCloseWakesHangingSession(t *testing.T) {
	srv, err := fakesmtp.Start(fakesmtp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	srv.HangNext(fakesmtp.StageRcpt, 1, time.Hour)
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	errc := make(chan error, 1)
	go func() { errc <- send(c, "a@x.test", "b@y.test", body) }()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
	if err := <-errc; err == nil {
		t.Error("send succeeded through a closed server")
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestStartTLSAndAuth(t *testing.T) {
	srv := start(t, fakesmtp.Options{STARTTLS: true, Users: map[string]string{"u": "p"}})
	cfg := srv.ClientTLSConfig()
	cfg.ServerName = "localhost"
	c, err := smtp.DialStartTLS(srv.Addr(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := send(c, "a@x.test", "b@y.test", body); code(err) != 502 {
		t.Errorf("unauthenticated MAIL: %v", err)
	}
	if err := c.Auth(sasl.NewPlainClient("", "u", "wrong")); code(err) != 535 {
		t.Errorf("bad password: %v", err)
	}
	if err := c.Auth(sasl.NewPlainClient("", "u", "p")); err != nil {
		t.Fatal(err)
	}
	if err := send(c, "a@x.test", "b@y.test", body); err != nil {
		t.Fatal(err)
	}
	m := srv.Messages()[0]
	if !m.TLS || m.AuthUser != "u" {
		t.Errorf("TLS %v user %q", m.TLS, m.AuthUser)
	}
}

func TestImplicitTLS(t *testing.T) {
	srv := start(t, fakesmtp.Options{ImplicitTLS: true})
	cfg := srv.ClientTLSConfig()
	cfg.ServerName = "127.0.0.1"
	c, err := smtp.DialTLS(srv.Addr(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := send(c, "a@x.test", "b@y.test", body); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages()[0]; !m.TLS {
		t.Error("not recorded as TLS")
	}
}

func TestDiscardContent(t *testing.T) {
	srv := start(t, fakesmtp.Options{DiscardContent: true})
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := send(c, "a@x.test", "b@y.test", body); err != nil {
		t.Fatal(err)
	}
	if m := srv.Messages()[0]; m.Data != nil || m.Size != len(body) {
		t.Errorf("Data %q Size %d", m.Data, m.Size)
	}
}

func TestListenAddr(t *testing.T) {
	srv, err := fakesmtp.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if srv.Port() == 0 || srv.Host() != "127.0.0.1" || !strings.HasSuffix(srv.Addr(), ":"+itoa(srv.Port())) {
		t.Errorf("Addr %q Host %q Port %d", srv.Addr(), srv.Host(), srv.Port())
	}
}

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}
