package cli

import (
	"database/sql"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/fakesystemd"
	"github.com/rekindle/rekindle/internal/testdb"
)

// TestServeBinaryFeedsWatchdogThroughDatabaseOutage runs the real binary as
// systemd would and takes its database away (no new connections, the open
// ones terminated). /readyz answers 503, but the watchdog keeps being fed:
// the loops are alive and retrying, and under systemd a starved watchdog
// would restart the service for an outage longer than WatchdogSec.
func TestServeBinaryFeedsWatchdogThroughDatabaseOutage(t *testing.T) {
	bin := rekindleBinary(t)
	dsn := testdb.New(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	addr := freePort(t)
	sock := fakesystemd.Listen(t)
	d := startDaemon(t, bin, map[string]string{"DATABASE_URL": dsn, "REKINDLE_LISTEN": addr,
		"REKINDLE_OUTBOX_DIR": t.TempDir(), "REKINDLE_TICK": "100ms", "REKINDLE_LOG_FORMAT": "json",
		"NOTIFY_SOCKET": sock.Path, "WATCHDOG_USEC": "2000000"}) // WatchdogSec=2s: a ping every second
	seenBefore(sock, "READY=1", 30*time.Second)
	seenBefore(sock, "WATCHDOG=1", 2*time.Second)

	admin, err := sql.Open("postgres", testdb.ServerURL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	for _, q := range []string{
		`ALTER DATABASE ` + name + ` WITH ALLOW_CONNECTIONS false`,
		`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '` + name + `'`,
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() { admin.Exec(`ALTER DATABASE ` + name + ` WITH ALLOW_CONNECTIONS true`) })

	// Wait until the daemon sees the outage, then drop the pings sent
	// before it.
	for deadline := time.Now().Add(30 * time.Second); ; {
		if resp, err := http.Get("http://" + addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/readyz never answered 503 with the database gone; stderr:\n%s", tail(d.stderr.String(), 20))
		}
		time.Sleep(50 * time.Millisecond)
	}
	sock.Drain()
	// Three watchdog timeouts in a row, each with a ping inside it: systemd
	// would not have killed the service.
	for i := 0; i < 3; i++ {
		sock.Expect("WATCHDOG=1", 2*time.Second)
	}
	if log := d.stderr.String(); strings.Contains(log, "watchdog not fed") {
		t.Errorf("the log says the watchdog starved:\n%s", tail(log, 20))
	}
	if code := d.stop(t, 25*time.Second); code != 0 {
		t.Fatalf("exit %d after SIGTERM, want 0; stderr:\n%s", code, tail(d.stderr.String(), 20))
	}
}
