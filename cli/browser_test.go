package cli

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/store"
)

// The browser test drives Debian's Chromium through the real serve command:
// the sign-up page, its time zone script, the confirmation email written by
// the file channel, and the confirm button.

const chromiumHint = "install it with `apt-get install -y --no-install-recommends chromium` (bash .ci/run does)"

// chromiumPath finds the browser, or skips the test unless
// REKINDLE_REQUIRE_BROWSER=1 says a missing browser is a failure (CI).
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("REKINDLE_REQUIRE_BROWSER") == "1" {
		t.Fatal("chromium not found and REKINDLE_REQUIRE_BROWSER=1: " + chromiumHint)
	}
	t.Skip("chromium not found: " + chromiumHint)
	return ""
}

// lockedBuffer collects the browser's output, written from chromedp's
// goroutine and read when a test fails.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// tail is the end of the output, where a crash says why.
func (l *lockedBuffer) tail() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := l.b.String()
	if len(s) > 4000 {
		s = "..." + s[len(s)-4000:]
	}
	return s
}

// startBrowser starts one headless Chromium for the whole test; each
// scenario opens its own tab in a fresh browser context (no shared cookies).
func startBrowser(t *testing.T) context.Context {
	t.Helper()
	path := chromiumPath(t)
	out := &lockedBuffer{}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		// On a closed network Chromium's own background connections are
		// refused and slow it down; these keep it to the test's pages.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		// Chromium's singleton socket and shared memory go here, removed
		// with the test instead of piling up in /tmp.
		chromedp.Env("TMPDIR="+t.TempDir()),
		chromedp.CombinedOutput(out),
	)
	browserCtx, cancelBrowser := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		if t.Failed() {
			t.Logf("chromium output:\n%s", out.tail())
		}
	})
	// The first Run starts the browser; it must not carry a timeout, which
	// would end the browser with it.
	if err := chromedp.Do(browserCtx); err != nil {
		t.Fatalf("start chromium (%s): %v\n%s", path, err, out.tail())
	}
	return browserCtx
}

// tab opens a tab in a new browser context, bounded by a timeout.
func tab(t *testing.T, browser context.Context) context.Context {
	t.Helper()
	ctx, cancelTimeout := context.WithTimeout(browser, 60*time.Second)
	ctx, cancelTab := chromedp.NewContext(ctx, chromedp.WithNewBrowserContext())
	t.Cleanup(func() { cancelTab(); cancelTimeout() })
	return ctx
}

// browserDB reads the test database the way an operator would.
type browserDB struct {
	t  *testing.T
	st *store.Store
}

func (d browserDB) str(q string, args ...any) string {
	d.t.Helper()
	var s string
	if err := d.st.DB.Get(&s, q, args...); err != nil {
		d.t.Fatalf("%s: %v", q, err)
	}
	return s
}

// rows is every row of the tables a confirmation changes, as JSON, so that
// "nothing changed" is one comparison.
func (d browserDB) rows() string {
	d.t.Helper()
	var b strings.Builder
	for _, tb := range []string{"subscribers", "consents", "enrollments", "deliveries", "events", "checkins"} {
		b.WriteString(tb + ": " + d.str(`SELECT coalesce(json_agg(t ORDER BY t.id)::text, '[]') FROM `+tb+` t`) + "\n")
	}
	return b.String()
}

// settled waits until the dispatcher has finished with every delivery, so a
// snapshot of the tables is not racing it.
func (d browserDB) settled() {
	d.t.Helper()
	for i := 0; i < 200; i++ {
		if d.str(`SELECT count(*)::text FROM deliveries WHERE status IN ('queued', 'sending')`) == "0" {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	d.t.Fatal("deliveries never left queued/sending")
}

var confirmLinkRe = regexp.MustCompile(`https?://[^\s"'<>]+/confirm/[A-Za-z0-9._~=-]+`)

// confirmLink waits for the confirmation email to addr in the outbox and
// returns the link it carries, decoded as a mail client would.
func confirmLink(t *testing.T, outbox, addr string) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		files, _ := filepath.Glob(filepath.Join(outbox, "*.eml"))
		for _, f := range files {
			raw, err := os.ReadFile(f)
			if err != nil {
				continue
			}
			msg, err := mail.ReadMessage(bytes.NewReader(raw))
			if err != nil {
				t.Fatalf("%s is not a mail message: %v", f, err)
			}
			if to, err := msg.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != addr {
				continue
			}
			text := mailText(t, msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body)
			link := confirmLinkRe.FindString(text)
			if link == "" {
				t.Fatalf("the confirmation email to %s has no confirm link:\n%s", addr, raw)
			}
			return link
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no email to %s in the outbox %s", addr, outbox)
	return ""
}

// mailText decodes every text part of a message body.
func mailText(t *testing.T, ctype, cte string, body io.Reader) string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		mt = "text/plain"
	}
	if strings.HasPrefix(mt, "multipart/") {
		var b strings.Builder
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("email multipart: %v", err)
			}
			b.WriteString(mailText(t, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p))
		}
		return b.String()
	}
	switch strings.ToLower(cte) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		t.Fatalf("email body (%s): %v", cte, err)
	}
	return string(b)
}

func TestBrowserSignupConfirm(t *testing.T) {
	dsn := testdb.New(t)
	addr := freePort(t)
	outbox := t.TempDir()
	env := map[string]string{"DATABASE_URL": dsn, "REKINDLE_LISTEN": addr, "REKINDLE_BASE_URL": "http://" + addr,
		"REKINDLE_OUTBOX_DIR": outbox, "REKINDLE_TICK": "50ms", "REKINDLE_SECRET_KEY": "browser-test-secret-0123456789abcdef"}
	browser := startBrowser(t)
	startServe(t, env)
	st, err := store.Open(context.Background(), dsn, store.Options{MaxOpenConns: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	base := env["REKINDLE_BASE_URL"]

	t.Run("ScriptFillsTimeZone", func(t *testing.T) {
		ctx := tab(t, browser)
		if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "America/Chicago"}); err != nil {
			t.Fatal(err)
		}
		signUpAndConfirm(t, ctx, browserDB{t, st}, base, outbox, "ada@example.org", "America/Chicago", "")
	})

	t.Run("WithoutJavaScript", func(t *testing.T) {
		ctx := tab(t, browser)
		if _, err := chromedp.Call(ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
		// Were the script to run, it would pick this zone instead.
		if _, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Asia/Tokyo"}); err != nil {
			t.Fatal(err)
		}
		signUpAndConfirm(t, ctx, browserDB{t, st}, base, outbox, "noscript@example.org", "", "Europe/Dublin")
	})
}

// signUpAndConfirm is one person's whole path: the form, the inbox page,
// the email's link, the confirm button. wantZone is what the page's script
// must have filled in; pickZone, when set, is chosen from the list by hand
// because no script ran.
func signUpAndConfirm(t *testing.T, ctx context.Context, db browserDB, base, outbox, email, wantZone, pickZone string) {
	t.Helper()
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.TrimSpace(s)
	}
	value := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("value of %s: %v", sel, err)
		}
		return s
	}

	step("open the sign-up page", chromedp.Navigate(base+"/subscribe/rekindle"))
	if h := text("h1"); !strings.HasPrefix(h, "Join ") {
		t.Fatalf("sign-up page heading %q", h)
	}
	consentShown := text(`label[for="consent_email"]`)
	if !strings.HasPrefix(consentShown, "Email me ") || !strings.Contains(consentShown, "unsubscribe at any time") {
		t.Fatalf("email consent text shown: %q", consentShown)
	}
	zone := value("#timezone")
	if pickZone == "" {
		if zone != wantZone {
			t.Fatalf("time zone field %q, want %q filled from the browser by the page's script", zone, wantZone)
		}
	} else {
		if zone != "" {
			t.Fatalf("time zone field %q with scripts off, want the empty choice", zone)
		}
		opt, err := chromedp.Run(ctx, chromedp.TextContent(chromedp.CSS(`#timezone option[value="`+pickZone+`"]`)))
		if err != nil || opt != pickZone {
			t.Fatalf("the fallback list lacks %s: %q %v", pickZone, opt, err)
		}
		step("choose a time zone", chromedp.SetValue(chromedp.CSS("#timezone"), pickZone))
		wantZone = pickZone
	}
	step("fill the form",
		chromedp.SendKeys(chromedp.CSS("#first_name"), "Ada"),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.Click(chromedp.CSS("#consent_email")),
	)
	resp, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	if err != nil {
		t.Fatalf("submit the form: %v", err)
	}
	if resp.Status != 200 {
		t.Fatalf("submit: status %d, page: %s", resp.Status, text("main"))
	}
	if h, p := text("h1"), text("main"); h != "Thank you: please check your messages" || !strings.Contains(p, "an email with a confirm button is on its way") || !strings.Contains(p, email) {
		t.Fatalf("after submitting: %q\n%s", h, p)
	}

	subID := db.str(`SELECT id::text FROM subscribers WHERE email = $1`, email)
	if got := db.str(`SELECT status FROM enrollments WHERE subscriber_id = $1`, subID); got != "pending" {
		t.Fatalf("enrollment %s after sign-up, want pending until confirmed", got)
	}

	link := confirmLink(t, outbox, email)
	db.settled()
	before := db.rows()
	step("open the confirm link", chromedp.Navigate(link))
	if h := text("h1"); h != "Confirm your sign-up" {
		t.Fatalf("confirm page heading %q", h)
	}
	if after := db.rows(); after != before {
		t.Fatalf("opening the confirm link changed the database:\nbefore %s\nafter  %s", before, after)
	}
	resp, err = chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`button[type="submit"]`)))
	if err != nil {
		t.Fatalf("press the confirm button: %v", err)
	}
	if h := text("h1"); resp.Status != 200 || h != "You're confirmed" {
		t.Fatalf("after confirming: %d %q\n%s", resp.Status, h, text("main"))
	}

	if got := db.str(`SELECT email_status || ' ' || timezone || ' ' || first_name FROM subscribers WHERE id = $1`, subID); got != "confirmed "+wantZone+" Ada" {
		t.Fatalf("subscriber: %q, want confirmed in %s", got, wantZone)
	}
	if got := db.str(`SELECT consent_text FROM consents WHERE subscriber_id = $1 AND channel = 'email' AND action = 'granted'`, subID); got != consentShown {
		t.Fatalf("recorded consent differs from the text shown:\nrecorded %q\nshown    %q", got, consentShown)
	}
	if got := db.str(`SELECT status FROM enrollments WHERE subscriber_id = $1`, subID); got != "active" {
		t.Fatalf("enrollment %s after confirming, want active", got)
	}
}
