package cli

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/store"
)

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// serve runs the real serve command until the test ends.
func startServe(t *testing.T, env map[string]string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		done <- Run(ctx, []string{"serve"}, io.Discard, io.Discard, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	}()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("serve exited %d after shutdown, want 0", code)
		}
	})
	base := env["REKINDLE_BASE_URL"]
	for i := 0; i < 100; i++ {
		if r, err := http.Get(base + "/readyz"); err == nil && r.StatusCode == 200 {
			r.Body.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("serve never became ready")
}

func TestServeSignupConfirmActivates(t *testing.T) {
	dsn := testdb.New(t)
	addr := freePort(t)
	outbox := t.TempDir()
	env := map[string]string{"DATABASE_URL": dsn, "REKINDLE_LISTEN": addr, "REKINDLE_BASE_URL": "http://" + addr,
		"REKINDLE_OUTBOX_DIR": outbox, "REKINDLE_TICK": "50ms", "REKINDLE_SECRET_KEY": "serve-test-secret-0123456789abcdef"}
	startServe(t, env)
	base := env["REKINDLE_BASE_URL"]

	body := `{"program":"rekindle","first_name":"Rae","email":"rae@example.org","timezone":"Europe/Dublin","consent_email":true}`
	r, err := http.Post(base+"/api/v1/subscriptions", "application/json", strings.NewReader(body))
	if err != nil || r.StatusCode != 202 {
		t.Fatalf("subscribe: %v %v", r, err)
	}
	// The confirmation email is sent through the outbox with its link.
	var eml []byte
	for i := 0; i < 100 && eml == nil; i++ {
		files, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
		if len(files) > 0 {
			eml, _ = os.ReadFile(files[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
	if eml == nil {
		t.Fatal("no confirmation email in the outbox")
	}
	link := regexp.MustCompile(`http://[^\s"<>]+/confirm/[A-Za-z0-9._=-]+`).FindString(strings.ReplaceAll(string(eml), "=\r\n", ""))
	if link == "" {
		t.Fatalf("confirmation email has no confirm link:\n%s", eml)
	}
	st, err := store.Open(context.Background(), dsn, store.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	status := func() string {
		var s string
		st.DB.Get(&s, `SELECT status FROM enrollments`)
		return s
	}
	if g, _ := http.Get(link); g == nil || g.StatusCode != 200 || status() != "pending" {
		t.Fatalf("GET of the confirm link must only show a page; status %s", status())
	}
	p, err := http.PostForm(link, url.Values{})
	if err != nil || p.StatusCode != 200 || status() != "active" {
		t.Fatalf("POST confirm: %v %v; status %s", p, err, status())
	}
	for _, path := range []string{"/healthz", "/readyz", "/metrics"} {
		g, err := http.Get(base + path)
		if err != nil || g.StatusCode != 200 {
			t.Fatalf("%s: %v %v", path, g, err)
		}
		b, _ := io.ReadAll(g.Body)
		if path == "/metrics" && !strings.Contains(string(b), `rekindle_enrollments{phase="healing",program="rekindle",status="active"} 1`) {
			t.Fatalf("metrics lack the active enrollment:\n%.2000s", b)
		}
	}
}
