package fakesmtp_test

import (
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/rekindle/rekindle/internal/fakesmtp"
)

// An outage answers every command of its stage until it ends; counted
// faults queued meanwhile still come first, and nothing is accepted during it.
func TestOutageUntilEnded(t *testing.T) {
	srv := start(t, fakesmtp.Options{})
	c, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	srv.SetOutage(fakesmtp.StageRcpt, fakesmtp.Fault{Code: 451})
	srv.FailNext(fakesmtp.StageRcpt, 1, 452)
	for i, want := range []int{452, 451, 451, 451} {
		err := send(c, "a@x.test", "b@y.test", body)
		if code(err) != want {
			t.Fatalf("send %d during the outage: %v, want code %d", i, err, want)
		}
		_ = c.Reset()
	}
	if srv.MessageCount() != 0 {
		t.Fatalf("%d messages accepted during the outage", srv.MessageCount())
	}
	srv.EndOutage()
	if err := send(c, "a@x.test", "b@y.test", body); err != nil {
		t.Fatalf("send after the outage: %v", err)
	}
	if srv.MessageCount() != 1 || srv.RcptAttempts("b@y.test") != 5 {
		t.Errorf("%d messages, %d RCPTs; want 1 and 5", srv.MessageCount(), srv.RcptAttempts("b@y.test"))
	}

	// A 421 outage at MAIL closes each connection, as a real server going
	// down does; Reset ends it too.
	srv.SetOutage(fakesmtp.StageMail, fakesmtp.Fault{Code: 421})
	if err := send(c, "a@x.test", "b@y.test", body); code(err) != 421 {
		t.Fatalf("MAIL during a 421 outage: %v", err)
	}
	srv.Reset()
	c2, err := smtp.Dial(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := send(c2, "a@x.test", "b@y.test", body); err != nil {
		t.Fatalf("send after Reset: %v", err)
	}
}
