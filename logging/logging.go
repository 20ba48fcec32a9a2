// Package logging builds the daemon's structured logger: log/slog in text or
// JSON, one line per record, no colours, suited to journald, with personal
// data masked and secrets and message bodies dropped before anything is
// written.
package logging

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Formats accepted by New.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// New returns a logger writing to w in format ("text" or "json"; empty means
// text) at level ("debug", "info", "warn" or "error", case-insensitive; empty
// means info). Every record goes through Redact. An unknown format or level
// is an error that names the bad value.
//
// Under systemd (JOURNAL_STREAM set) the text format leaves out the time key,
// because journald stamps each line itself; when w is the very stream
// journald reads, each line also starts with a "<N>" syslog priority prefix,
// which journald strips and turns into the entry's PRIORITY, so
// journalctl -p warning works.
func New(w io.Writer, format, level string) (*slog.Logger, error) {
	lvl, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	h, err := NewHandler(w, format, lvl)
	if err != nil {
		return nil, err
	}
	return slog.New(h), nil
}

// NewHandler is New for callers that want the handler, or a level that can
// change at run time (pass a *slog.LevelVar, e.g. to apply a new
// REKINDLE_LOG_LEVEL on SIGHUP).
func NewHandler(w io.Writer, format string, level slog.Leveler) (slog.Handler, error) {
	if level == nil {
		level = slog.LevelInfo
	}
	f := strings.ToLower(strings.TrimSpace(format))
	if f == "" {
		f = FormatText
	}
	journal, exact := journald(w)
	var pw *priorityWriter
	if exact {
		pw = &priorityWriter{w: w}
		w = pw
	}
	opts := &slog.HandlerOptions{Level: level}
	var h slog.Handler
	switch f {
	case FormatText:
		if journal {
			opts.ReplaceAttr = dropTime
		}
		h = slog.NewTextHandler(w, opts)
	case FormatJSON:
		opts.ReplaceAttr = durationString
		h = slog.NewJSONHandler(w, opts)
	default:
		return nil, fmt.Errorf("logging: unknown log format %q (want %q or %q)", format, FormatText, FormatJSON)
	}
	if pw != nil {
		h = &priorityHandler{inner: h, pw: pw}
	}
	return Redact(h), nil
}

// ParseLevel parses "debug", "info", "warn"/"warning" or "error"
// (case-insensitive; empty means info).
func ParseLevel(s string) (slog.Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "info":
		return slog.LevelInfo, nil
	case "debug":
		return slog.LevelDebug, nil
	case "warn", "warning":
		return slog.LevelWarn, nil
	case "error":
		return slog.LevelError, nil
	}
	return 0, fmt.Errorf("logging: unknown log level %q (want debug, info, warn or error)", s)
}

// durationString writes a duration as the text handler and the settings do
// ("1.5s", "2m0s"): slog's JSON handler would write integer nanoseconds,
// which an operator reading the journal has to divide by 10^9.
func durationString(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

func dropTime(groups []string, a slog.Attr) slog.Attr {
	if len(groups) == 0 && a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// journald reports whether output goes to the journal: journal is true when
// JOURNAL_STREAM is set (and w, if it is a file, is that stream); exact is
// true when w is a file whose device and inode match JOURNAL_STREAM.
func journald(w io.Writer) (journal, exact bool) {
	js := os.Getenv("JOURNAL_STREAM")
	if js == "" {
		return false, false
	}
	f, ok := w.(*os.File)
	if !ok {
		return true, false
	}
	dev, ino, ok := strings.Cut(js, ":")
	if !ok {
		return true, false
	}
	d, err1 := strconv.ParseUint(dev, 10, 64)
	i, err2 := strconv.ParseUint(ino, 10, 64)
	var st syscall.Stat_t
	if err1 != nil || err2 != nil || syscall.Fstat(int(f.Fd()), &st) != nil {
		return true, false
	}
	if uint64(st.Dev) == d && uint64(st.Ino) == i {
		return true, true
	}
	// A file that is not the journal stream (output redirected): keep times.
	return false, false
}

// priorityWriter prefixes each write with the syslog priority of the record
// being handled; priorityHandler holds mu around the inner Handle, and slog's
// built-in handlers emit one Write per record.
type priorityWriter struct {
	mu     sync.Mutex
	w      io.Writer
	prefix string
}

func (p *priorityWriter) Write(b []byte) (int, error) {
	if p.prefix == "" {
		return p.w.Write(b)
	}
	buf := make([]byte, 0, len(p.prefix)+len(b))
	buf = append(append(buf, p.prefix...), b...)
	if _, err := p.w.Write(buf); err != nil {
		return 0, err
	}
	return len(b), nil
}

type priorityHandler struct {
	inner slog.Handler
	pw    *priorityWriter
}

func (h *priorityHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.inner.Enabled(ctx, l)
}

func (h *priorityHandler) Handle(ctx context.Context, r slog.Record) error {
	h.pw.mu.Lock()
	defer h.pw.mu.Unlock()
	h.pw.prefix = syslogPrefix(r.Level)
	err := h.inner.Handle(ctx, r)
	h.pw.prefix = ""
	return err
}

func (h *priorityHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &priorityHandler{inner: h.inner.WithAttrs(as), pw: h.pw}
}

func (h *priorityHandler) WithGroup(name string) slog.Handler {
	return &priorityHandler{inner: h.inner.WithGroup(name), pw: h.pw}
}

func syslogPrefix(l slog.Level) string {
	switch {
	case l >= slog.LevelError:
		return "<3>"
	case l >= slog.LevelWarn:
		return "<4>"
	case l >= slog.LevelInfo:
		return "<6>"
	default:
		return "<7>"
	}
}
