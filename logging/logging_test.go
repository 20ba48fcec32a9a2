package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestMaskEmail(t *testing.T) {
	for in, want := range map[string]string{
		"jane@example.org":       "j***@example.org",
		"j@example.org":          "j***@example.org",
		" Jane.Doe+x@mail.co.uk": "J***@mail.co.uk",
		"élise@example.fr":       "é***@example.fr",
		"@example.org":           "***@example.org",
		"not-an-email":           "***",
		"":                       "",
	} {
		if got := MaskEmail(in); got != want {
			t.Errorf("MaskEmail(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"+12125554567":      "+1******4567",
		"+1 (212) 555-4567": "+1******4567",
		"+447700900123":     "+4*******0123",
		"(212) 555-4567":    "2*****4567",
		"12345":             "*****",
		"+1":                "+*",
		"":                  "",
		"n/a":               "***",
	} {
		if got := MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskAddress(t *testing.T) {
	for in, want := range map[string]string{
		"jane@example.org":        "j***@example.org",
		"+12125554567":            "+1******4567",
		"212.555.4567":            "2*****4567",
		"whatsapp:+12125554567":   "whatsapp:+1******4567",
		"Jane <jane@example.org>": "Jane <j***@example.org>",
		"somebody":                "***",
		"":                        "",
	} {
		if got := MaskAddress(in); got != want {
			t.Errorf("MaskAddress(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMaskText(t *testing.T) {
	for in, want := range map[string]string{
		"sent to jane@example.org and +1 212 555 4567.":   "sent to j***@example.org and +1******4567.",
		"call (212) 555-4567 or 212-555-4567 today":       "call 2*****4567 or 2*****4567 today",
		"550 5.1.1 <bob.smith@corp.example.com>: no such": "550 5.1.1 <b***@corp.example.com>: no such",
		// Not phone numbers: dates, times, versions, ids, offsets.
		"2026-11-25T19:00:00+01:00 step week-3/day-2 v1.25.0 id 1764094420 tick +10s": "2026-11-25T19:00:00+01:00 step week-3/day-2 v1.25.0 id 1764094420 tick +10s",
		"127.0.0.1:8080": "127.0.0.1:8080",
	} {
		if got := MaskText(in); got != want {
			t.Errorf("MaskText(%q)\n = %q\nwant %q", in, got, want)
		}
	}
	// Masking is idempotent.
	for _, s := range []string{"j***@example.org", "+1******4567", "2*****4567"} {
		if got := MaskText(s); got != s {
			t.Errorf("MaskText(%q) = %q, want unchanged", s, got)
		}
	}
}

func TestDeniedKey(t *testing.T) {
	for _, k := range []string{"password", "Password", "smtp_password", "smtpPassword", "token", "authToken",
		"checkin-token", "secret", "api_secret", "body", "html", "text", "html_body", "bodyHTML", "TEXT", "Authorization"} {
		if !DeniedKey(k) {
			t.Errorf("DeniedKey(%q) = false, want true", k)
		}
	}
	for _, k := range []string{"context", "tokens", "subject", "step", "channel", "to", "nobody", "textual", "err", "msg"} {
		if DeniedKey(k) {
			t.Errorf("DeniedKey(%q) = true, want false", k)
		}
	}
}

type stringer struct{}

func (stringer) String() string { return "recipient jane@example.org" }

type recipient struct {
	Name, Phone string
}

type valuer struct{}

func (valuer) LogValue() slog.Value {
	return slog.GroupValue(slog.String("email", "jane@example.org"), slog.String("token", "abc"))
}

func TestRedactJSON(t *testing.T) {
	var buf bytes.Buffer
	t.Setenv("JOURNAL_STREAM", "")
	log, err := New(&buf, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	log = log.With("to", "+12125554567", "smtp_password", "hunter2")
	log.Info("delivery failed for jane@example.org",
		"err", errors.New("550 <jane@example.org> unknown"),
		"body", "Dear Jane, week 3 is about forgiveness",
		"html", "<p>Dear Jane</p>",
		"text", "Dear Jane",
		"token", "tok_123",
		"attempt", 2,
		"stringer", stringer{},
		"who", recipient{Name: "Jane", Phone: "+12125554567"},
		"plain", recipient{Name: "Jane"},
		"valuer", valuer{},
		slog.Group("sms", slog.String("from", "+15555550100"), slog.String("auth_token", "x"), slog.String("text", "STOP")),
		slog.Group("only", slog.String("secret", "x")),
	)
	out := buf.String()
	if strings.Count(out, "\n") != 1 {
		t.Fatalf("want one line, got %q", out)
	}
	for _, leak := range []string{"jane@example.org", "2125554567", "5555550100", "hunter2", "Dear Jane", "tok_123", "forgiveness", "STOP", `"abc"`} {
		if strings.Contains(out, leak) {
			t.Errorf("output leaks %q:\n%s", leak, out)
		}
	}
	var m map[string]any
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	check := func(key string, want any) {
		t.Helper()
		got, _ := json.Marshal(m[key])
		w, _ := json.Marshal(want)
		if string(got) != string(w) {
			t.Errorf("%s = %s, want %s", key, got, w)
		}
	}
	check("msg", "delivery failed for j***@example.org")
	check("to", "+1******4567")
	check("err", "550 <j***@example.org> unknown")
	check("attempt", 2)
	check("stringer", "recipient j***@example.org")
	check("who", "{Name:Jane Phone:+1******4567}")
	check("plain", map[string]any{"Name": "Jane", "Phone": ""})
	check("valuer", map[string]any{"email": "j***@example.org"})
	check("sms", map[string]any{"from": "+1******0100"})
	for _, k := range []string{"smtp_password", "body", "html", "text", "token", "only"} {
		if _, ok := m[k]; ok {
			t.Errorf("key %q not dropped", k)
		}
	}
	if _, ok := m["time"]; !ok {
		t.Error("json lost its time key")
	}
}

func TestRedactDeniedGroup(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "text", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.WithGroup("body").Info("rendered", "first", "Dear Jane", "second", "x")
	log.WithGroup("step").With("id", "w1d1").Info("planned", "channel", "sms")
	out := buf.String()
	if strings.Contains(out, "Dear Jane") || strings.Contains(out, "body.") {
		t.Errorf("denied group leaked:\n%s", out)
	}
	if !strings.Contains(out, "step.id=w1d1") || !strings.Contains(out, "step.channel=sms") {
		t.Errorf("allowed group lost:\n%s", out)
	}
}

func TestTextOneLinePerRecord(t *testing.T) {
	var buf bytes.Buffer
	t.Setenv("JOURNAL_STREAM", "")
	log, err := New(&buf, "TEXT", "")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("hidden at info")
	log.Info("line one\nline two", "detail", "a\nb")
	log.Warn("second record")
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 lines, got %d:\n%s", len(lines), buf.String())
	}
	if !strings.HasPrefix(lines[0], "time=") || !strings.Contains(lines[0], `msg="line one\nline two"`) {
		t.Errorf("line 0 = %q", lines[0])
	}
	if strings.Contains(buf.String(), "\x1b[") {
		t.Error("output has ANSI escapes")
	}
}

func TestTextOmitsTimeUnderJournald(t *testing.T) {
	var buf bytes.Buffer
	t.Setenv("JOURNAL_STREAM", "8:12345")
	log, err := New(&buf, "text", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("hello", "time_zone", "Europe/Paris")
	out := buf.String()
	if want := "level=INFO msg=hello time_zone=Europe/Paris\n"; out != want {
		t.Errorf("got %q, want %q", out, want)
	}

	buf.Reset()
	log, _ = New(&buf, "json", "info")
	log.Info("hello")
	if !strings.Contains(buf.String(), `"time":`) {
		t.Errorf("json under journald should keep time: %s", buf.String())
	}
}

func TestJournalStreamPriorityPrefix(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "journal"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		t.Fatal(err)
	}
	t.Setenv("JOURNAL_STREAM", fmt.Sprintf("%d:%d", st.Dev, st.Ino))
	log, err := New(f, "text", "debug")
	if err != nil {
		t.Fatal(err)
	}
	log.Debug("d")
	log.With("k", "v").Info("i")
	log.Warn("w")
	log.Error("e")
	b, _ := os.ReadFile(f.Name())
	want := "<7>level=DEBUG msg=d\n<6>level=INFO msg=i k=v\n<4>level=WARN msg=w\n<3>level=ERROR msg=e\n"
	if string(b) != want {
		t.Errorf("got\n%s\nwant\n%s", b, want)
	}

	// A file that is not the journal stream keeps its times and no prefix.
	g, err := os.Create(filepath.Join(t.TempDir(), "other"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	log, _ = New(g, "text", "info")
	log.Info("i")
	b, _ = os.ReadFile(g.Name())
	if !strings.HasPrefix(string(b), "time=") {
		t.Errorf("redirected output = %q, want a time key", b)
	}
}

func TestBadFormatAndLevel(t *testing.T) {
	_, err := New(&bytes.Buffer{}, "logfmt", "info")
	if err == nil || !strings.Contains(err.Error(), `"logfmt"`) {
		t.Errorf("bad format error = %v, want it to name \"logfmt\"", err)
	}
	_, err = New(&bytes.Buffer{}, "json", "verbose")
	if err == nil || !strings.Contains(err.Error(), `"verbose"`) {
		t.Errorf("bad level error = %v, want it to name \"verbose\"", err)
	}
	for in, want := range map[string]slog.Level{"": slog.LevelInfo, "DEBUG": slog.LevelDebug, "warning": slog.LevelWarn, " error ": slog.LevelError} {
		if got, err := ParseLevel(in); err != nil || got != want {
			t.Errorf("ParseLevel(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
}

func TestLevelVar(t *testing.T) {
	var buf bytes.Buffer
	var lv slog.LevelVar
	h, err := NewHandler(&buf, "text", &lv)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(h)
	log.Debug("one")
	lv.Set(slog.LevelDebug)
	log.Debug("two")
	if out := buf.String(); strings.Contains(out, "one") || !strings.Contains(out, "two") {
		t.Errorf("level var not honoured:\n%s", out)
	}
}

// JSON logs show durations as the settings are written ("1.5s"), not as
// integer nanoseconds, at the top level, in groups and in With attributes.
func TestJSONDurationsAreReadable(t *testing.T) {
	var buf bytes.Buffer
	t.Setenv("JOURNAL_STREAM", "")
	log, err := New(&buf, "json", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.With("lease", 2*time.Minute).Info("stopping", "timeout", 1500*time.Millisecond,
		slog.Group("watchdog", slog.Duration("period", 15*time.Second)))
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("%v: %s", err, buf.String())
	}
	group, _ := rec["watchdog"].(map[string]any)
	for _, c := range []struct {
		name string
		got  any
		want string
	}{{"timeout", rec["timeout"], "1.5s"}, {"lease", rec["lease"], "2m0s"}, {"watchdog.period", group["period"], "15s"}} {
		if c.got != c.want {
			t.Errorf("%s logged as %v (%T), want %q; line: %s", c.name, c.got, c.got, c.want, buf.String())
		}
	}
}
