package cli

import (
	"bytes"
	"net/mail"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/fakesmtp"
	"github.com/rekindle/rekindle/internal/testdb"
)

// listUnsubscribe sends the welcome email as serve wires the engine (SMTP
// to a fake server) with the given REKINDLE_UNSUBSCRIBE_MAILTO, and returns
// its List-Unsubscribe and List-Unsubscribe-Post headers.
func listUnsubscribe(t *testing.T, mailto string) (unsub, post string) {
	t.Helper()
	srv, err := fakesmtp.Start(fakesmtp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	env := map[string]string{"DATABASE_URL": testdb.New(t), "REKINDLE_BASE_URL": "https://rekindle.example.org",
		"REKINDLE_LOG_LEVEL": "error", "REKINDLE_SECRET_KEY": "serve-mailto-secret-0123456789abcdef", "REKINDLE_OUTBOX_DIR": t.TempDir(),
		"REKINDLE_SMTP_HOST": srv.Host(), "REKINDLE_SMTP_PORT": strconv.Itoa(srv.Port()), "REKINDLE_SMTP_TLS": "none",
		"REKINDLE_UNSUBSCRIBE_MAILTO": mailto}
	// Monday 2026-03-02 05:00 UTC, midnight in New York.
	h := newEngineHarness(t, env, time.Date(2026, 3, 2, 5, 0, 0, 0, time.UTC))
	h.enroll("Max", "max.mailto@example.org", "", "America/New_York")
	h.clk.Advance(8 * time.Hour) // 08:00 in New York: the welcome email
	h.tick()
	msgs := srv.Messages()
	if len(msgs) == 0 {
		t.Fatal("no email reached the SMTP server")
	}
	m, err := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	// The link is signed when the message is rendered, as it is sent.
	const oneClick = "<https://rekindle.example.org/unsubscribe/s"
	if got := m.Header.Get("List-Unsubscribe"); !strings.HasPrefix(got, oneClick) {
		t.Errorf("List-Unsubscribe %q does not start with the one-click link %s...>", got, oneClick)
	}
	return m.Header.Get("List-Unsubscribe"), m.Header.Get("List-Unsubscribe-Post")
}

func TestServeMailtoInListUnsubscribe(t *testing.T) {
	unsub, post := listUnsubscribe(t, "list+unsubscribe@lessons.example.org")
	if !strings.HasSuffix(unsub, ">, <mailto:list+unsubscribe@lessons.example.org?subject=unsubscribe>") {
		t.Errorf("List-Unsubscribe %q lacks the mailto: address after the link", unsub)
	}
	if post != "List-Unsubscribe=One-Click" {
		t.Errorf("List-Unsubscribe-Post %q; the one-click link still comes first", post)
	}

	unsub, _ = listUnsubscribe(t, "")
	if strings.Contains(unsub, "mailto:") || strings.Count(unsub, "<") != 1 {
		t.Errorf("without REKINDLE_UNSUBSCRIBE_MAILTO, List-Unsubscribe %q should carry the link only", unsub)
	}
}

// An address with characters a mailto: URI cannot carry as they are is
// percent-encoded, and a comma cannot split the header's list.
func TestUnsubscribeMailtoEscapes(t *testing.T) {
	for addr, want := range map[string]string{
		"":                        "",
		"unsubscribe@example.org": "mailto:unsubscribe@example.org?subject=unsubscribe",
		"a&b=c?d#e%f@example.org": "mailto:a%26b%3Dc%3Fd%23e%25f@example.org?subject=unsubscribe",
		"o'neil+x@example.org":    "mailto:o'neil+x@example.org?subject=unsubscribe",
		"a,b@example.org":         "mailto:a%2Cb@example.org?subject=unsubscribe",
	} {
		if got := unsubscribeMailto(addr); got != want {
			t.Errorf("unsubscribeMailto(%q) = %q, want %q", addr, got, want)
		}
	}
}
