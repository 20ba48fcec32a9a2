package channel

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/fakesmtp"
	"github.com/rekindle/rekindle/internal/faketwilio"
	"github.com/rekindle/rekindle/logging"
)

func TestSMTPReplyClassification(t *testing.T) {
	cause := errors.New("x")
	for _, tc := range []struct {
		stage     string
		code      int
		enhanced  string
		permanent bool
		suppress  bool
	}{
		{"rcpt", 450, "", false, false},
		{"rcpt", 451, "4.3.0", false, false},
		{"rcpt", 452, "", false, false},
		{"rcpt", 421, "", false, false},
		{"rcpt", 550, "", true, true},
		{"rcpt", 551, "", true, true},
		{"rcpt", 553, "", true, true},
		{"rcpt", 550, "5.1.1", true, true},
		{"rcpt", 550, "5.1.2", true, true},
		{"rcpt", 551, "5.1.6", true, true},
		{"rcpt", 550, "5.1.10", true, true},
		{"rcpt", 550, "5.2.1", true, true},
		{"rcpt", 553, "5.1.3", true, true},
		// About our sender, or policy: never the recipient's fault.
		{"rcpt", 550, "5.1.8", true, false},
		{"rcpt", 550, "5.7.1", false, false},
		{"rcpt", 550, "5.7.606", false, false},
		{"rcpt", 550, "5.0.0", true, false},
		{"rcpt", 552, "", true, false},
		{"rcpt", 554, "", true, false},
		// After DATA the recipient was accepted: the message is refused.
		{"data", 550, "", true, false},
		{"data", 550, "5.7.26", false, false},
		{"data", 554, "5.6.0", true, false},
		{"data", 451, "", false, false},
		{"mail", 550, "", false, false},
		{"mail", 421, "", false, false},
	} {
		err := classifySMTPReply(tc.stage, tc.code, tc.enhanced, cause)
		p, code := Classify(err)
		if p != tc.permanent || code != fmt.Sprint(tc.code) || ShouldSuppress(err) != tc.suppress || !errors.Is(err, cause) {
			t.Errorf("%s %d %s: permanent %v code %q suppress %v", tc.stage, tc.code, tc.enhanced, p, code, ShouldSuppress(err))
		}
	}
}

func TestNetErrClassification(t *testing.T) {
	opErr := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}
	for _, tc := range []struct {
		err  error
		code string
	}{
		{fmt.Errorf("x: %w", context.DeadlineExceeded), "timeout"},
		{fmt.Errorf("x: %w", os.ErrDeadlineExceeded), "timeout"},
		{fmt.Errorf("x: %w", context.Canceled), "canceled"},
		{opErr, "network"},
	} {
		p, code := Classify(classifyNetErr(tc.err))
		if p || code != tc.code {
			t.Errorf("%v: %v %q", tc.err, p, code)
		}
	}
	// Not permanent, not suppressed: Retryable and unknown errors.
	for _, err := range []error{Retryable("451", errors.New("x")), errors.New("plain"), nil, Permanent("21602", errors.New("x"))} {
		if ShouldSuppress(err) {
			t.Errorf("ShouldSuppress(%v)", err)
		}
	}
	// The marker survives further wrapping.
	if !ShouldSuppress(fmt.Errorf("dispatch: %w", permanentAddress("550", errors.New("x")))) {
		t.Error("wrapped suppression lost")
	}
}

func TestRedact(t *testing.T) {
	inner := errors.New("550 <jane@example.org>: no such user")
	err := redact(inner, "smtp: rcpt: ", "jane@example.org", logging.MaskEmail("jane@example.org"))
	if err.Error() != "smtp: rcpt: 550 <j***@example.org>: no such user" || !errors.Is(err, inner) {
		t.Errorf("%q", err)
	}
}

// Senders and fakes leave no goroutine behind once closed.
func TestNoGoroutinesLeftBehind(t *testing.T) {
	before := runtime.NumGoroutine()

	smtpSrv, err := fakesmtp.Start(fakesmtp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	cfg := testSMTPConfig(smtpSrv)
	cfg.Timeout = 200 * time.Millisecond
	ch, err := NewSMTP(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, _ := ch.NewSender()
	if _, err := s.Send(context.Background(), testEmail(1)); err != nil {
		t.Fatal(err)
	}
	smtpSrv.HangNext(fakesmtp.StageRcpt, 1, time.Hour)
	_, _ = s.Send(context.Background(), testEmail(2)) // times out, leaves the fake's session hanging
	_ = s.Close()
	_ = smtpSrv.Close()

	tw := faketwilio.New()
	tch, err := NewTwilio(testTwilioConfig(tw), nil)
	if err != nil {
		t.Fatal(err)
	}
	ts, _ := tch.NewSender()
	if _, err := ts.Send(context.Background(), testSMS(1)); err != nil {
		t.Fatal(err)
	}
	_ = ts.Close()
	tw.Close()

	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if after := runtime.NumGoroutine(); after > before {
		buf := make([]byte, 1<<16)
		n := runtime.Stack(buf, true)
		t.Errorf("%d goroutines before, %d after:\n%s", before, after, firstLines(string(buf[:n]), 60))
	}
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}
