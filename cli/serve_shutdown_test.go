package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/fakesmtp"
	"github.com/rekindle/rekindle/internal/testdb"
)

// On SIGTERM the web server and the dispatchers stop together, under one
// REKINDLE_SHUTDOWN_TIMEOUT: an SMTP server that stalls on a message and a
// client that never finishes its request do not add up to twice the
// timeout (which, at the defaults, would outlast the unit's
// TimeoutStopSec=30s and end in SIGKILL).
func TestServeShutdownStallsShareOneDeadline(t *testing.T) {
	const timeout = 2 * time.Second
	smtp, err := fakesmtp.Start(fakesmtp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close() // ends the hanging session
	smtp.HangNext(fakesmtp.StageData, 1, time.Minute)

	addr := freePort(t)
	env := map[string]string{"DATABASE_URL": testdb.New(t), "REKINDLE_LISTEN": addr, "REKINDLE_BASE_URL": "http://" + addr,
		"REKINDLE_SECRET_KEY": "serve-shutdown-secret-0123456789abcdef", "REKINDLE_OUTBOX_DIR": t.TempDir(),
		"REKINDLE_SMTP_HOST": smtp.Host(), "REKINDLE_SMTP_PORT": strconv.Itoa(smtp.Port()), "REKINDLE_SMTP_TLS": "none",
		"REKINDLE_EMAIL_WORKERS": "1", "REKINDLE_TICK": "50ms", "REKINDLE_LOG_FORMAT": "json",
		"REKINDLE_SHUTDOWN_TIMEOUT": timeout.String()}
	if code, _, errs := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: exit %d: %s", code, errs)
	}
	// The person's day-0 emails are due at once (15:00 where they live).
	if code, _, errs := run(t, env, "enroll", "--program", "rekindle", "--email", "stall@example.org",
		"--tz", zoneAtLocalHour(time.Now(), 15)); code != 0 {
		t.Fatalf("enroll: exit %d: %s", code, errs)
	}

	srv := serveInBackground(t, env)
	logs, cancel, exited := srv.logs, srv.cancel, srv.exited
	// The first email's content reaches the SMTP server, which stalls.
	srv.waitForStall(t, smtp)
	// A client sends half a request and then nothing.
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST /api/v1/subscriptions HTTP/1.1\r\nHost: "+addr+
		"\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"program\":"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // the server is reading its body

	began := time.Now()
	cancel() // SIGTERM
	var code int
	select {
	case code = <-exited:
	case <-time.After(2 * timeout):
		t.Fatalf("serve still running %s after SIGTERM with REKINDLE_SHUTDOWN_TIMEOUT=%s; log:\n%s", 2*timeout, timeout, logs.String())
	}
	took := time.Since(began)
	if code != 0 {
		t.Fatalf("serve exited %d after SIGTERM, want 0; log:\n%s", code, logs.String())
	}

	// The log tells the story in order: stopping, both stalls given up at
	// the deadline, stopped.
	var msgs []string
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var rec struct {
			Msg string `json:"msg"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil {
			msgs = append(msgs, rec.Msg)
		}
	}
	want := []string{"stopping:", "shutdown timeout reached with HTTP requests open", "shutdown timeout reached with sends in flight", "stopped"}
	next := 0
	for _, m := range msgs {
		if next < len(want) && strings.HasPrefix(m, want[next]) {
			next++
		}
	}
	if next < len(want) {
		t.Fatalf("the log lacks %q (in this order: %q); messages:\n%s", want[next], want, strings.Join(msgs, "\n"))
	}
	t.Logf("serve exited %s after SIGTERM (REKINDLE_SHUTDOWN_TIMEOUT=%s)", took.Round(time.Millisecond), timeout)
}

// When REKINDLE_SHUTDOWN_TIMEOUT runs out with a send stalled at the
// provider, the log names the deliveries abandoned in flight, and the
// messages of that batch not yet started are back in the queue, without a
// lease, for another instance to send at once (not leased until the
// rescuer finds them).
func TestServeShutdownTimeoutNamesAbandonedSendsAndGivesBackTheRest(t *testing.T) {
	const timeout = time.Second
	smtp, err := fakesmtp.Start(fakesmtp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer smtp.Close() // ends the hanging session
	smtp.HangNext(fakesmtp.StageData, 1, time.Minute)

	env := map[string]string{"DATABASE_URL": testdb.New(t), "REKINDLE_LISTEN": freePort(t),
		"REKINDLE_SECRET_KEY": "serve-shutdown-secret-0123456789abcdef", "REKINDLE_OUTBOX_DIR": t.TempDir(),
		"REKINDLE_SMTP_HOST": smtp.Host(), "REKINDLE_SMTP_PORT": strconv.Itoa(smtp.Port()), "REKINDLE_SMTP_TLS": "none",
		"REKINDLE_EMAIL_WORKERS": "1", "REKINDLE_TICK": "50ms", "REKINDLE_LOG_FORMAT": "json",
		"REKINDLE_SHUTDOWN_TIMEOUT": timeout.String()}
	// Three people's day-0 emails, planned before serve starts, so that its
	// one email claim takes them all and its one worker stalls on the first.
	h := newEngineHarnessRealClock(t, env)
	tz := zoneAtLocalHour(time.Now(), 15)
	for i := 0; i < 3; i++ {
		h.enroll("P", "p"+strconv.Itoa(i)+"@example.org", "", tz)
	}
	for {
		n, _, err := h.a.engine.PlanOnce(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	db := h.a.store.DB

	srv := serveInBackground(t, env)
	logs, cancel, exited := srv.logs, srv.cancel, srv.exited
	srv.waitForStall(t, smtp)
	var claimed int
	dbGet(t, db, &claimed, `SELECT count(*) FROM deliveries WHERE status = 'sending' AND channel = 'email'`)
	if claimed < 2 {
		cancel()
		t.Fatalf("setup: %d emails claimed when the send stalled; want the stalled one and more behind it", claimed)
	}

	cancel() // SIGTERM
	select {
	case code := <-exited:
		if code != 0 {
			t.Fatalf("serve exited %d after SIGTERM, want 0; log:\n%s", code, logs.String())
		}
	case <-time.After(10 * timeout):
		t.Fatalf("serve still running %s after SIGTERM; log:\n%s", 10*timeout, logs.String())
	}

	var stalled []int64
	dbSelect(t, db, &stalled, `SELECT id FROM deliveries WHERE status = 'sending' ORDER BY id`)
	if len(stalled) != 1 {
		t.Fatalf("%d deliveries still being sent after the shutdown (%v), want the stalled one", len(stalled), stalled)
	}
	var leased int
	dbGet(t, db, &leased, `SELECT count(*) FROM deliveries WHERE status <> 'sending' AND lease_until IS NOT NULL`)
	var queued int
	dbGet(t, db, &queued, `SELECT count(*) FROM deliveries WHERE status = 'queued' AND channel = 'email'`)
	if leased != 0 || queued < claimed-1 {
		t.Errorf("after the shutdown: %d emails queued (%d were claimed behind the stalled one), %d rows still leased; want them all given back",
			queued, claimed-1, leased)
	}

	var abandoned *struct {
		Count int     `json:"count"`
		IDs   []int64 `json:"delivery_ids"`
	}
	sc := bufio.NewScanner(strings.NewReader(logs.String()))
	for sc.Scan() {
		var rec struct {
			Msg   string  `json:"msg"`
			Count int     `json:"count"`
			IDs   []int64 `json:"delivery_ids"`
		}
		if json.Unmarshal(sc.Bytes(), &rec) == nil && strings.HasPrefix(rec.Msg, "shutdown timeout reached with sends in flight") {
			abandoned = &struct {
				Count int     `json:"count"`
				IDs   []int64 `json:"delivery_ids"`
			}{rec.Count, rec.IDs}
		}
	}
	if abandoned == nil || abandoned.Count != 1 || len(abandoned.IDs) != 1 || abandoned.IDs[0] != stalled[0] {
		t.Fatalf("the shutdown log names %+v as abandoned, want delivery %d; log:\n%s", abandoned, stalled[0], logs.String())
	}
}
