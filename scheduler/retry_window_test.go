package scheduler

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/rekindle/rekindle/internal/fakesmtp"
)

// A relay that is down for hours (or refuses us while a credential is
// fixed) must not cost the lessons that fell due meanwhile: a temporary
// failure is retried for RetryFor (24 hours), not for the hour a fixed
// handful of attempts covered, and the message arrives once the relay is
// back. Only past the window does it fail.
func TestTemporaryFailuresRetriedForADay(t *testing.T) {
	s := newSMTPSetup(t, 1)
	if s.e.Cfg.RetryFor != 24*time.Hour {
		t.Fatalf("RetryFor %v, want 24h by default", s.e.Cfg.RetryFor)
	}
	const outage, gone = "outage@example.org", "never@example.org"
	want := s.seedEmails(t, []string{outage, gone})
	ids := map[string]int64{}
	for id, q := range want {
		ids[q.To] = id
	}
	// The outage answers 451 for five hours' worth of attempts; the other
	// address for longer than any window.
	s.srv.InjectRecipient(outage, 11, fakesmtp.Fault{Code: 451})
	s.srv.InjectRecipient(gone, 1000, fakesmtp.Fault{Code: 451})

	status := func(addr string) (string, int) {
		t.Helper()
		var st struct {
			Status   string `db:"status"`
			Attempts int    `db:"attempts"`
		}
		if err := s.e.Store.DB.Get(&st, `SELECT status, attempts FROM deliveries WHERE id = $1`, ids[addr]); err != nil {
			t.Fatal(err)
		}
		return st.Status, st.Attempts
	}

	start := s.clk.Now()
	s.drain(t)
	for s.clk.Now().Sub(start) < 3*time.Hour {
		s.clk.Advance(10 * time.Minute)
		s.drain(t)
	}
	if st, n := status(outage); st != "queued" || n < 8 {
		t.Fatalf("three hours into an outage the message is %s after %d attempts; want still queued for a retry", st, n)
	}
	// The waits are jittered by up to a fifth: eleven of them end by 6h05m.
	for s.clk.Now().Sub(start) < 8*time.Hour {
		s.clk.Advance(10 * time.Minute)
		s.drain(t)
	}
	if st, n := status(outage); st != "sent" || n != 12 {
		t.Fatalf("after the outage the message is %s after %d attempts; want sent on attempt 12", st, n)
	}
	got := 0
	for _, m := range s.srv.Messages() {
		if len(m.To) == 1 && m.To[0] == outage {
			got++
		}
	}
	if got != 1 {
		t.Errorf("the person got the message %d times, want once", got)
	}

	// Still trying at 18 hours (the jittered window ends after 19h15m at
	// the earliest); given up, as failed, after it.
	for s.clk.Now().Sub(start) < 18*time.Hour {
		s.clk.Advance(30 * time.Minute)
		s.drain(t)
	}
	if st, _ := status(gone); st != "queued" {
		t.Fatalf("18 hours in, the message is %s; want still retried", st)
	}
	for s.clk.Now().Sub(start) < 36*time.Hour {
		s.clk.Advance(30 * time.Minute)
		s.drain(t)
	}
	if st, n := status(gone); st != "failed" || n != s.e.Cfg.MaxAttempts {
		t.Fatalf("36 hours in, the message is %s after %d attempts; want failed after %d", st, n, s.e.Cfg.MaxAttempts)
	}
}

func TestAttemptsWithinTheRetryWindow(t *testing.T) {
	for _, tc := range []struct {
		window, base, max time.Duration
		want              int
	}{
		// 30s, 1, 2, 4, 8, 16, 32 min (63.5 min), then 23 waits of an hour.
		{24 * time.Hour, 30 * time.Second, time.Hour, 31},
		{time.Hour, 30 * time.Second, time.Hour, 8},
		{time.Minute, time.Minute, time.Hour, 2},
	} {
		if got := attemptsWithin(tc.window, tc.base, tc.max); got != tc.want {
			t.Errorf("attemptsWithin(%v, %v, %v) = %d, want %d", tc.window, tc.base, tc.max, got, tc.want)
		}
	}
}

// A server's reply in another charset, or one cut mid-character at the
// stored length, used to make PostgreSQL refuse the whole batch's record,
// and the batch went out again once its lease ran out.
func TestProviderErrorTextInAnyCharsetIsRecorded(t *testing.T) {
	s := newSMTPSetup(t, 1)
	const odd, fine = "odd@example.org", "fine@example.org"
	want := s.seedEmails(t, []string{odd, fine})
	// Latin-1 "réessayez" and enough two-byte characters to cross 500 bytes.
	reply := "Veuillez r\xe9essayer plus tard " + strings.Repeat("é", 300)
	s.srv.InjectRecipient(odd, 1, fakesmtp.Fault{Code: 451, Message: reply})
	if n := s.drain(t); n != 2 {
		t.Fatalf("dispatched %d, want 2", n)
	}
	for id, q := range want {
		var st struct {
			Status string `db:"status"`
			Err    string `db:"error"`
		}
		if err := s.e.Store.DB.Get(&st, `SELECT status, coalesce(error, '') AS error FROM deliveries WHERE id = $1`, id); err != nil {
			t.Fatal(err)
		}
		switch q.To {
		case odd:
			if st.Status != "queued" || !strings.Contains(st.Err, "Veuillez r") || len(st.Err) > 500 || !utf8.ValidString(st.Err) {
				t.Errorf("the refused message is %s with error %q; want queued for a retry, the reply kept readable", st.Status, st.Err)
			}
		case fine:
			if st.Status != "sent" {
				t.Errorf("the other message of the batch is %s, want sent", st.Status)
			}
		}
	}
}

func TestErrorTextCutsBetweenCharacters(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"abc", "abc"},
		{"abcé", "abc"}, // é would be split at 4 bytes
		{"ab\x00cd", "abcd"},
		{"a\xffb", "a\uFFFDb"[:4]},
	} {
		if got := errorText(tc.in, 4); got != tc.want || !utf8.ValidString(got) {
			t.Errorf("errorText(%q, 4) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
