package channel

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The file channel is what an operator sees before any provider is set up:
// each email is a complete .eml (no .part left behind) with the headers and
// Message-ID SMTP would send, each SMS one JSON line appended to sms.jsonl,
// and files are not readable by every user on the machine.
func TestFileChannelWritesWhatProvidersWouldGet(t *testing.T) {
	dir := t.TempDir()
	var sent []int64
	ch, err := NewFile(Email, dir, "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	s, err := OnSent(ch, func(m Message) { sent = append(sent, m.DeliveryID) }).NewSender()
	if err != nil {
		t.Fatal(err)
	}
	m := testEmail(7)
	res, err := s.Send(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if res.ProviderID != SMTPMessageID(7, "localhost") {
		t.Errorf("ProviderID %q", res.ProviderID)
	}
	emls, _ := filepath.Glob(filepath.Join(dir, "*-7.eml"))
	parts, _ := filepath.Glob(filepath.Join(dir, "*.part"))
	if len(emls) != 1 || len(parts) != 0 {
		t.Fatalf(".eml files %v, .part files %v", emls, parts)
	}
	raw, err := os.ReadFile(emls[0])
	if err != nil {
		t.Fatal(err)
	}
	pm, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if pm.Header.Get("Message-Id") != res.ProviderID || pm.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Errorf("headers: Message-Id %q, List-Unsubscribe-Post %q", pm.Header.Get("Message-Id"), pm.Header.Get("List-Unsubscribe-Post"))
	}

	for id := int64(1); id <= 2; id++ {
		if _, err := s.Send(context.Background(), testSMS(id)); err != nil {
			t.Fatal(err)
		}
	}
	fh, err := os.Open(filepath.Join(dir, "sms.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	var lines []smsLine
	for sc := bufio.NewScanner(fh); sc.Scan(); {
		var l smsLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		lines = append(lines, l)
	}
	if len(lines) != 2 || lines[0].DeliveryID != 1 || lines[1].DeliveryID != 2 || !strings.Contains(lines[1].Body, "Reply STOP") {
		t.Errorf("sms.jsonl lines %+v", lines)
	}
	if st, err := os.Stat(filepath.Join(dir, "sms.jsonl")); err != nil || st.Mode().Perm()&0o007 != 0 {
		t.Errorf("sms.jsonl mode %v (%v), want no access for others", st.Mode(), err)
	}
	if len(sent) != 3 {
		t.Errorf("OnSent heard %v, want the 3 sends", sent)
	}

	// A message that cannot be sent is not reported as sent.
	bad := testEmail(8)
	bad.To = "not an address"
	if _, err := s.Send(context.Background(), bad); err == nil {
		t.Fatal("sent to an unparseable address")
	}
	if len(sent) != 3 {
		t.Errorf("OnSent heard a failed send: %v", sent)
	}
}
