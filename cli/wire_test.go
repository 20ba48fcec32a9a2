package cli

import (
	"context"
	"io"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rekindle/rekindle/internal/testdb"
)

// TestWireClosesStoreOnError: wire returned a signing-key error without
// closing the store it had opened, leaving its connections to the database
// open for the life of the process. Every error after the store is opened
// closes it.
func TestWireClosesStoreOnError(t *testing.T) {
	dsn := testdb.New(t)
	env := map[string]string{"DATABASE_URL": dsn, "REKINDLE_OUTBOX_DIR": t.TempDir(), "REKINDLE_LOG_LEVEL": "error"}
	if code, out, errs := run(t, env, "migrate"); code != 0 {
		t.Fatalf("migrate: %d %s %s", code, out, errs)
	}
	e := &Env{Stdout: io.Discard, Stderr: io.Discard, Lookup: func(k string) (string, bool) { v, ok := env[k]; return v, ok }}
	cfg, err := loadConfig(e, nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg.SecretKey = "too short" // past the configuration's own check
	if a, err := wire(context.Background(), e, cfg, wireOptions{}); err == nil {
		a.close()
		t.Fatal("wire took a signing key the signer refuses")
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	admin, err := sqlx.Open("postgres", strings.Replace(dsn, "/"+name, "/postgres", 1))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var n int
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if err := admin.Get(&n, `SELECT count(*) FROM pg_stat_activity WHERE datname = $1`, name); err != nil {
			t.Fatal(err)
		}
		if n == 0 || time.Now().After(deadline) {
			break
		}
	}
	if n != 0 {
		t.Fatalf("%d connections to %s still open after wire failed", n, name)
	}
}
