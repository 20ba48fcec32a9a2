package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/fakesystemd"
	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/store"
)

// The real binary, built once for the package's tests (TestMain removes it).
var binary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if binary.dir != "" {
		os.RemoveAll(binary.dir)
	}
	os.Exit(code)
}

// rekindleBinary builds ./cmd/rekindle once and returns its path.
func rekindleBinary(t *testing.T) string {
	t.Helper()
	binary.once.Do(func() {
		if binary.dir, binary.err = os.MkdirTemp("", "rekindle-bin-"); binary.err != nil {
			return
		}
		binary.path = filepath.Join(binary.dir, "rekindle")
		out, err := exec.Command("go", "build", "-o", binary.path, "github.com/rekindle/rekindle/cmd/rekindle").CombinedOutput()
		if err != nil {
			binary.err = fmt.Errorf("go build ./cmd/rekindle: %v\n%s", err, out)
		}
	})
	if binary.err != nil {
		t.Fatal(binary.err)
	}
	return binary.path
}

// syncBuffer collects a child's stderr while the test reads it.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// seenBefore waits for a datagram containing want and returns the ones
// that came before it.
func seenBefore(s *fakesystemd.Socket, want string, within time.Duration) []string {
	_, before := s.Expect(want, within)
	return before
}

// daemon is one run of `rekindle serve` as a child process.
type daemon struct {
	cmd    *exec.Cmd
	stderr *syncBuffer
	done   chan error
}

func startDaemon(t *testing.T, bin string, env map[string]string) *daemon {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	d := &daemon{cmd: cmd, stderr: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = d.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- cmd.Wait() }()
	t.Cleanup(func() {
		select {
		case <-d.done:
		default:
			cmd.Process.Kill() // only this test's own child
			<-d.done
		}
	})
	return d
}

func (d *daemon) signal(t *testing.T, sig os.Signal) {
	t.Helper()
	if err := d.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
}

// stop sends SIGTERM and waits for the exit; it returns the exit code.
func (d *daemon) stop(t *testing.T, timeout time.Duration) int {
	t.Helper()
	d.signal(t, syscall.SIGTERM)
	return d.wait(t, timeout)
}

// wait waits for the exit and returns the exit code.
func (d *daemon) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-d.done:
		d.done <- err // for the cleanup
		if err == nil {
			return 0
		}
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		t.Fatal(err)
	case <-time.After(timeout):
		t.Fatalf("no exit within %s of SIGTERM; stderr:\n%s", timeout, d.stderr.String())
	}
	return -1
}

// tail is the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// zoneAtLocalHour names an Etc/GMT zone whose local time now is in hour h,
// so that a person starting today there has their day-0 steps due.
func zoneAtLocalHour(now time.Time, h int) string {
	off := (h - now.UTC().Hour() + 24) % 24 // hours east of UTC, 0..23
	if off > 14 {
		off -= 24 // Etc zones span UTC-12..UTC+14
	}
	switch {
	case off > 0:
		return fmt.Sprintf("Etc/GMT-%d", off)
	case off < 0:
		return fmt.Sprintf("Etc/GMT+%d", -off)
	}
	return "Etc/UTC"
}

// outboxCounts counts how often each delivery id was written to the file
// channel's folder: an .eml file per email, a line of sms.jsonl per SMS.
func outboxCounts(t *testing.T, dir string) map[int64]int {
	t.Helper()
	out := map[int64]int{}
	files, _ := filepath.Glob(filepath.Join(dir, "*.eml"))
	emlID := regexp.MustCompile(`-(\d+)\.eml$`)
	for _, f := range files {
		m := emlID.FindStringSubmatch(f)
		if m == nil {
			t.Fatalf("unexpected outbox file %s", f)
		}
		id, _ := strconv.ParseInt(m[1], 10, 64)
		out[id]++
	}
	fh, err := os.Open(filepath.Join(dir, "sms.jsonl"))
	if os.IsNotExist(err) {
		return out
	}
	if err != nil {
		t.Fatal(err)
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		var l struct {
			ID int64 `json:"delivery_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("sms.jsonl: %v: %s", err, sc.Text())
		}
		out[l.ID]++
	}
	return out
}

type deliveryRow struct {
	ID     int64  `db:"id"`
	Status string `db:"status"`
	Leased bool   `db:"leased"`
}

func deliveryRows(t *testing.T, st *store.Store) []deliveryRow {
	t.Helper()
	var rows []deliveryRow
	if err := st.DB.Select(&rows, `SELECT id, status, lease_until IS NOT NULL AS leased FROM deliveries ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestServeBinaryNotifiesSystemdAndLosesNothingOnSIGTERM runs the real
// binary as systemd would (NOTIFY_SOCKET, WATCHDOG_USEC): READY=1, then
// WATCHDOG=1 at half the interval, then on SIGTERM STOPPING=1 and exit 0,
// with the sends in flight finished and recorded, and the rest picked up by
// the next start. Secrets never reach its logs.
func TestServeBinaryNotifiesSystemdAndLosesNothingOnSIGTERM(t *testing.T) {
	bin := rekindleBinary(t)
	ctx := context.Background()
	const secretKey = "binary-test-secret-key-5a9c0e7f31"
	const dbPassword = "db-pw-never-logged-81x"
	u, err := url.Parse(testdb.New(t))
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.UserPassword("postgres", dbPassword) // trust auth ignores it; the logs must too
	dsn := u.String()
	outbox := t.TempDir()
	addr := freePort(t)
	env := map[string]string{"DATABASE_URL": dsn, "REKINDLE_LISTEN": addr, "REKINDLE_BASE_URL": "http://" + addr,
		"REKINDLE_OUTBOX_DIR": outbox, "REKINDLE_SECRET_KEY": secretKey, "REKINDLE_TICK": "100ms",
		"REKINDLE_LOG_FORMAT": "json",
		// Claims are sized to the rate (the file channel itself is not
		// limited): 120 emails a batch, written one at a time, so a batch
		// is in flight for a while and most of the work is still queued.
		"REKINDLE_EMAIL_RATE": "2", "REKINDLE_EMAIL_WORKERS": "1"}

	// Seed due work: 300 people whose day-0 steps (welcome, lesson-01 and
	// its SMS nudge) are all due, planned into 1200 queued deliveries.
	h := newEngineHarnessRealClock(t, env)
	tz := zoneAtLocalHour(time.Now(), 15)
	for i := 0; i < 300; i++ {
		h.enroll(fmt.Sprintf("P%d", i), fmt.Sprintf("p%d@example.org", i), fmt.Sprintf("+1202555%04d", 1000+i), tz)
	}
	for {
		n, _, err := h.a.engine.PlanOnce(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
	}
	st := h.a.store
	var queued int
	dbGet(t, st.DB, &queued, `SELECT count(*) FROM deliveries WHERE status = 'queued'`)
	if queued != 1200 {
		t.Fatalf("seeded %d queued deliveries, want 1200 (zone %s)", queued, tz)
	}

	// First run: READY, WATCHDOG, then SIGTERM while a batch is being sent.
	sock := fakesystemd.Listen(t)
	env["NOTIFY_SOCKET"] = sock.Path
	env["WATCHDOG_USEC"] = "2000000" // pings every second
	d1 := startDaemon(t, bin, env)
	if before := seenBefore(sock, "READY=1", 30*time.Second); len(before) > 0 {
		t.Fatalf("datagrams before READY=1: %q", before)
	}
	seenBefore(sock, "WATCHDOG=1", 5*time.Second)
	// Catch an email batch (120 messages, one worker) mid-way: freeze the
	// daemon (SIGSTOP) as soon as rows are 'sending', let any statement it
	// already sent finish, and look again. Rows still 'sending' now are in
	// flight for sure; SIGTERM lands on them when the daemon resumes.
	var inFlight []int64
	unwritten := 0 // of inFlight, not yet in the outbox when SIGTERM was sent
	var writtenAtStop map[int64]int
	deadline := time.Now().Add(30 * time.Second)
	for len(inFlight) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no delivery was ever being sent; stderr:\n%s", tail(d1.stderr.String(), 40))
		}
		var seen int
		dbGet(t, st.DB, &seen, `SELECT count(*) FROM deliveries WHERE status = 'sending' AND channel = 'email'`)
		if seen == 0 {
			continue
		}
		d1.signal(t, syscall.SIGSTOP)
		time.Sleep(100 * time.Millisecond)
		dbSelect(t, st.DB, &inFlight, `SELECT id FROM deliveries WHERE status = 'sending' AND channel = 'email'`)
		written := outboxCounts(t, outbox)
		writtenAtStop = written
		unwritten = 0
		for _, id := range inFlight {
			if written[id] == 0 {
				unwritten++
			}
		}
		if unwritten == 0 {
			// That batch was written (and maybe recorded) meanwhile: try the next.
			inFlight = nil
			d1.signal(t, syscall.SIGCONT)
		}
	}
	d1.signal(t, syscall.SIGTERM)
	d1.signal(t, syscall.SIGCONT)
	if code := d1.wait(t, 25*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0; stderr:\n%s", code, d1.stderr.String())
	}
	if before := seenBefore(sock, "STOPPING=1", time.Second); len(before) > 0 {
		for _, m := range before {
			if !strings.Contains(m, "WATCHDOG=1") {
				t.Fatalf("unexpected datagram before STOPPING=1: %q", m)
			}
		}
	}

	// Nothing lost: every row is sent (in the outbox exactly once) or
	// queued without a lease (in the outbox not at all); the rows being
	// sent at the signal were finished after it.
	rows := deliveryRows(t, st)
	files := outboxCounts(t, outbox)
	byStatus := map[string]int{}
	for _, r := range rows {
		byStatus[r.Status]++
		if t.Failed() {
			continue // one row's story is enough
		}
		switch {
		case r.Status == "sent" && files[r.ID] != 1:
			t.Errorf("delivery %d is sent but in the outbox %d times", r.ID, files[r.ID])
		case r.Status == "queued" && (files[r.ID] != 0 || r.Leased):
			t.Errorf("delivery %d is queued but in the outbox %d times (leased: %v)", r.ID, files[r.ID], r.Leased)
		case r.Status != "sent" && r.Status != "queued":
			t.Errorf("delivery %d is %s after shutdown", r.ID, r.Status)
		}
	}
	// Sent may be none: a SIGTERM before the first message of the batch
	// went out gives the whole batch back, which is right.
	if t.Failed() || byStatus["queued"] == 0 {
		t.Fatalf("after the first run: %v; want the rest still queued; stderr:\n%s", byStatus, tail(d1.stderr.String(), 4000))
	}
	// Of the batch in flight at SIGTERM, what had reached the outbox is
	// recorded sent; the rest was either finished and recorded, or given
	// back to the queue unsent (checked above: queued rows are in the
	// outbox zero times and hold no lease).
	status := map[int64]string{}
	for _, r := range rows {
		status[r.ID] = r.Status
	}
	inFlightSent := 0
	for _, id := range inFlight {
		if status[id] == "sent" {
			inFlightSent++
		}
		if writtenAtStop[id] > 0 && status[id] != "sent" {
			t.Fatalf("delivery %d was in the outbox at SIGTERM but is %s after shutdown", id, status[id])
		}
	}
	stderr1 := d1.stderr.String()
	if !strings.Contains(stderr1, "finishing in-flight sends") || !strings.Contains(stderr1, `"msg":"stopped"`) {
		t.Errorf("the log does not tell the shutdown:\n%.3000s", stderr1)
	}
	t.Logf("first run: %v at exit; %d in flight at SIGTERM, %d of them not yet written, %d recorded sent, the rest given back", byStatus, len(inFlight), unwritten, inFlightSent)

	// Second run: the rest goes out, each once; watchdog pings keep coming
	// within the watchdog timeout.
	d2 := startDaemon(t, bin, env)
	seenBefore(sock, "READY=1", 30*time.Second)
	for i := 0; i < 3; i++ {
		seenBefore(sock, "WATCHDOG=1", 2*time.Second) // WatchdogSec is 2s: a later ping would get us killed
	}
	deadline = time.Now().Add(60 * time.Second)
	for {
		var left int
		dbGet(t, st.DB, &left, `SELECT count(*) FROM deliveries WHERE status <> 'sent'`)
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d deliveries still not sent after the restart; stderr:\n%.3000s", left, d2.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code := d2.stop(t, 25*time.Second); code != 0 {
		t.Fatalf("second run: exit %d; stderr:\n%s", code, d2.stderr.String())
	}
	seenBefore(sock, "STOPPING=1", time.Second)
	files = outboxCounts(t, outbox)
	rows = deliveryRows(t, st)
	if len(rows) != 1200 || len(files) != 1200 {
		t.Fatalf("%d delivery rows and %d distinct messages in the outbox, want 1200 each", len(rows), len(files))
	}
	for _, r := range rows {
		if r.Status != "sent" || files[r.ID] != 1 {
			t.Errorf("delivery %d: %s, in the outbox %d times", r.ID, r.Status, files[r.ID])
		}
	}

	// No secret in either run's logs.
	for i, log := range []string{stderr1, d2.stderr.String()} {
		for _, secret := range []string{secretKey, dbPassword} {
			if strings.Contains(log, secret) {
				t.Errorf("run %d logged a secret (%s...)", i+1, secret[:6])
			}
		}
		if strings.Contains(log, "p12@example.org") || strings.Contains(log, "+12025551012") {
			t.Errorf("run %d logged an address unmasked", i+1)
		}
	}
}

// TestConfigBinaryNamesBadValueAndNeverPrintsSecrets runs `rekindle config`
// as an operator would.
func TestConfigBinaryNamesBadValueAndNeverPrintsSecrets(t *testing.T) {
	bin := rekindleBinary(t)
	secrets := map[string]string{
		"DATABASE_URL":           "postgres://rekindle:pg-secret-pw-4471@db.internal:5432/rekindle",
		"REKINDLE_SECRET_KEY":    "link-signing-secret-0d9f8e7a6b5c",
		"REKINDLE_SMTP_PASSWORD": "smtp-secret-pw-9921",
		"TWILIO_AUTH_TOKEN":      "twilio-secret-token-77aa",
	}
	runConfig := func(extra ...string) (int, string, string) {
		cmd := exec.Command(bin, "config")
		for k, v := range secrets {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Env = append(cmd.Env, extra...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errb.String()
	}
	leaks := func(s string) []string {
		var out []string
		for k, v := range secrets {
			if strings.Contains(s, v) {
				out = append(out, k)
			}
		}
		if strings.Contains(s, "pg-secret-pw-4471") {
			out = append(out, "the DATABASE_URL password")
		}
		return out
	}

	code, out, errs := runConfig()
	if code != 0 {
		t.Fatalf("config: exit %d: %s", code, errs)
	}
	for k := range secrets {
		want := k + "=********\t# env"
		if k == "DATABASE_URL" {
			// Only the password is masked, so the operator sees which
			// server and database are in use.
			want = k + "=postgres://rekindle:********@db.internal:5432/rekindle\t# env"
		}
		if !strings.Contains(out, want) {
			t.Errorf("config does not show %s masked:\n%s", k, out)
		}
	}
	if l := leaks(out + errs); len(l) > 0 {
		t.Errorf("config printed %v", l)
	}

	for _, c := range []struct{ env, name string }{
		{"REKINDLE_TICK=often", "REKINDLE_TICK"},
		{"REKINDLE_SMTP_TLS=ssl", "REKINDLE_SMTP_TLS"},
		{"REKINDLE_SECRET_KEY=short-key", "REKINDLE_SECRET_KEY"},
	} {
		code, out, errs := runConfig(c.env)
		if code != 1 || !strings.Contains(errs, c.name) {
			t.Errorf("%s: exit %d, stderr %q; want exit 1 naming %s", c.env, code, errs, c.name)
		}
		if strings.Contains(errs, "short-key") {
			t.Errorf("the error echoes the bad secret: %q", errs)
		}
		if l := leaks(out + errs); len(l) > 0 {
			t.Errorf("%s: output holds %v", c.env, l)
		}
	}
}
