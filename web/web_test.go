package web

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/internal/faketwilio"
	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/render"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/token"
)

const (
	base      = "https://rekindle.test"
	authToken = "twilio-test-auth-token"
)

var testLayouts = fstest.MapFS{
	"email/layout.html": {Data: []byte(`<!doctype html><html lang="{{.Lang}}"><head><title>{{.Subject}}</title></head><body>{{.Body}}{{with .Checkin}}{{range .Answers}}<a href="{{.URL}}">{{.Label}}</a>{{end}}{{end}}<a href="{{.UnsubscribeURL}}">Unsubscribe</a></body></html>`)},
	"email/layout.txt":  {Data: []byte("{{.BodyText}}\n{{with .Checkin}}{{range .Answers}}{{.Label}}: {{.URL}}\n{{end}}{{end}}Unsubscribe: {{.UnsubscribeURL}}\n")},
}

type fixture struct {
	t     *testing.T
	e     *scheduler.Engine
	clk   *clock.Manual
	links *token.Links
	srv   *httptest.Server
}

func utc(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// testDeps builds an engine over a fresh database with the basic test
// program (as scheduler/helpers_test.go does) and the handler's deps.
func testDeps(tb testing.TB) (Deps, *clock.Manual) {
	tb.Helper()
	st, _ := testdb.Store(tb)
	clk := clock.NewManual(utc("2026-06-01T05:00:00Z")) // Monday
	r, err := render.New(testLayouts, render.Config{SMSBrand: "Test", Support: "Call a friend."})
	if err != nil {
		tb.Fatal(err)
	}
	signer, _ := token.NewSigner("test-secret-key-0123456789")
	links := &token.Links{Base: base, Signer: signer, Now: clk.Now}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := scheduler.New(st, clk, log, scheduler.Config{SMSQuiet: scheduler.DefaultSMSQuiet}, r, links)
	p, err := programs.Load(os.DirFS("../programs/testdata"), "basic")
	if err != nil {
		tb.Fatal(err)
	}
	if err := e.LoadPrograms(context.Background(), map[string]*programs.Program{"basic": p}); err != nil {
		tb.Fatal(err)
	}
	return Deps{Engine: e, Links: links, Signer: signer, Log: log, BaseURL: base, DefaultRegion: "GB",
		SupportContact: "help@rekindle.test", TwilioAuthToken: authToken}, clk
}

// newFixture serves the web handler over testDeps.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	d, clk := testDeps(t)
	h, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return &fixture{t: t, e: d.Engine, clk: clk, links: d.Links, srv: srv}
}

// enroll adds an active (operator-confirmed) person with email and phone.
func (f *fixture) enroll(email, phone string) (sub, enr int64) {
	f.t.Helper()
	sub, enr, err := f.e.Enroll(context.Background(), scheduler.EnrollRequest{Program: "basic", FirstName: "Sam", Email: email, Phone: phone, Timezone: "Europe/London", Source: "operator"})
	if err != nil {
		f.t.Fatal(err)
	}
	return sub, enr
}

func (f *fixture) planUntil(end time.Time) {
	f.t.Helper()
	for ; !f.clk.Now().After(end); f.clk.Advance(time.Hour) {
		for {
			n, _, err := f.e.PlanOnce(context.Background())
			if err != nil {
				f.t.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
	}
}

var countedTables = []string{"inbound_messages", "checkins", "suppressions", "consents", "subscribers", "enrollments", "deliveries", "events"}

// state is every row count plus the answers, statuses and delivery states,
// so "nothing changed" can be compared.
func (f *fixture) state() map[string]int {
	f.t.Helper()
	out := map[string]int{}
	for _, tb := range countedTables {
		var n int
		if err := f.e.Store.DB.Get(&n, "SELECT count(*) FROM "+tb); err != nil {
			f.t.Fatal(err)
		}
		out[tb] = n
	}
	q := map[string]string{
		"answered":        `SELECT count(*) FROM checkins WHERE answer IS NOT NULL`,
		"queued":          `SELECT count(*) FROM deliveries WHERE status = 'queued'`,
		"active":          `SELECT count(*) FROM enrollments WHERE status = 'active'`,
		"confirmed_email": `SELECT count(*) FROM subscribers WHERE email_status = 'confirmed'`,
		"confirmed_sms":   `SELECT count(*) FROM subscribers WHERE sms_status = 'confirmed'`,
	}
	for k, s := range q {
		var n int
		if err := f.e.Store.DB.Get(&n, s); err != nil {
			f.t.Fatal(err)
		}
		out[k] = n
	}
	return out
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.e.Store.DB.Get(&n, q, args...); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func sameState(t *testing.T, what string, a, b map[string]int) {
	t.Helper()
	for k, v := range a {
		if b[k] != v {
			t.Errorf("%s changed %s: %d -> %d", what, k, v, b[k])
		}
	}
}

var sidN int

// sms posts an inbound text; sig "" signs correctly, "-" sends none.
func (f *fixture) smsWith(from, body, sid, sig string) (int, string) {
	f.t.Helper()
	form := url.Values{"MessageSid": {sid}, "From": {from}, "To": {"+15550100000"}, "Body": {body}, "AccountSid": {"ACtest"}}
	req, _ := http.NewRequest("POST", f.srv.URL+"/webhooks/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch sig {
	case "":
		req.Header.Set("X-Twilio-Signature", faketwilio.Sign(authToken, base+"/webhooks/twilio/sms", form))
	case "-":
	default:
		req.Header.Set("X-Twilio-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode == 200 && !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/xml") {
		f.t.Errorf("TwiML content type %q", resp.Header.Get("Content-Type"))
	}
	return resp.StatusCode, string(b)
}

func (f *fixture) sms(from, body string) string {
	f.t.Helper()
	sidN++
	code, out := f.smsWith(from, body, "SM"+strings.Repeat("0", 10)+time.Now().Format("150405.000000")+string(rune('a'+sidN%26))+strings.Repeat("x", sidN%7), "")
	if code != 200 {
		f.t.Fatalf("sms %q: status %d: %s", body, code, out)
	}
	return out
}

func (f *fixture) do(method, path, ctype, body string) (int, string) {
	f.t.Helper()
	req, _ := http.NewRequest(method, f.srv.URL+path, strings.NewReader(body))
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func local(u string) string { return strings.TrimPrefix(u, base) }

func TestTwilioSignature(t *testing.T) {
	f := newFixture(t)
	f.enroll("sig@example.org", "+447700900201")
	before := f.state()
	for _, sig := range []string{"-", "d3Jvbmcgc2lnbmF0dXJl", faketwilio.Sign("another-token", base+"/webhooks/twilio/sms", url.Values{})} {
		code, _ := f.smsWith("+447700900201", "STOP", "SMforged1", sig)
		if code != http.StatusForbidden {
			t.Errorf("signature %q: status %d, want 403", sig, code)
		}
	}
	sameState(t, "forged webhook", before, f.state())

	if out := f.sms("+447700900201", "HELP"); !strings.Contains(out, "<Message>") {
		t.Fatalf("a correctly signed HELP: %s", out)
	}
	if n := f.count(`SELECT count(*) FROM inbound_messages`); n != 1 {
		t.Fatalf("inbound_messages: %d, want 1", n)
	}
}

func TestReplayHandledOnce(t *testing.T) {
	f := newFixture(t)
	f.enroll("replay@example.org", "+447700900202")
	code, first := f.smsWith("+447700900202", "STOP", "SMreplay", "")
	if code != 200 || !strings.Contains(first, "unsubscribed") {
		t.Fatalf("first: %d %s", code, first)
	}
	consents := f.count(`SELECT count(*) FROM consents`)
	code, second := f.smsWith("+447700900202", "STOP", "SMreplay", "")
	if code != 200 || strings.Contains(second, "<Message>") {
		t.Fatalf("replay: %d %s; want 200 and empty TwiML", code, second)
	}
	if n := f.count(`SELECT count(*) FROM inbound_messages`); n != 1 {
		t.Fatalf("inbound_messages: %d", n)
	}
	if n := f.count(`SELECT count(*) FROM consents`); n != consents {
		t.Fatalf("a replay recorded consent again: %d -> %d", consents, n)
	}
}

func TestStopHelpStart(t *testing.T) {
	f := newFixture(t)
	sub, enr := f.enroll("stop@example.org", "+447700900203")
	f.planUntil(utc("2026-06-01T07:30:00Z")) // the welcome, on email and sms
	if n := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND channel = 'sms' AND status = 'queued'`, enr); n == 0 {
		t.Fatal("setup: no queued sms")
	}
	emailQueued := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND channel = 'email' AND status = 'queued'`, enr)
	if emailQueued == 0 {
		t.Fatal("setup: no queued email")
	}

	out := f.sms("+447700900203", "help")
	if !strings.Contains(out, "Msg &amp; data rates may apply") || !strings.Contains(out, "STOP") || !strings.Contains(out, "help@rekindle.test") {
		t.Fatalf("HELP reply: %s", out)
	}

	out = f.sms("+447700900203", "  Stop ")
	if !strings.Contains(out, "unsubscribed") || !strings.Contains(out, "email") {
		t.Fatalf("STOP reply: %s", out)
	}
	if n := f.count(`SELECT count(*) FROM suppressions WHERE channel = 'sms' AND address = '+447700900203'`); n != 1 {
		t.Fatalf("sms suppression: %d", n)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND channel = 'sms' AND status = 'queued'`, enr); n != 0 {
		t.Fatalf("queued sms after STOP: %d", n)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND channel = 'email' AND status = 'queued'`, enr); n != emailQueued {
		t.Fatalf("queued email after STOP: %d, want %d untouched", n, emailQueued)
	}
	if n := f.count(`SELECT count(*) FROM subscribers WHERE id = $1 AND sms_status = 'revoked' AND email_status = 'confirmed'`, sub); n != 1 {
		t.Fatal("statuses after STOP")
	}
	if n := f.count(`SELECT count(*) FROM consents WHERE subscriber_id = $1 AND channel = 'sms' AND action = 'revoked' AND source = 'sms'`, sub); n != 1 {
		t.Fatal("no revoked consent after STOP")
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'active'`, enr); n != 1 {
		t.Fatal("STOP of texts ended the email program")
	}

	out = f.sms("+447700900203", "START")
	if !strings.Contains(out, "resubscribed") {
		t.Fatalf("START reply: %s", out)
	}
	if n := f.count(`SELECT count(*) FROM suppressions WHERE channel = 'sms'`); n != 0 {
		t.Fatalf("sms suppression after START: %d", n)
	}
	if n := f.count(`SELECT count(*) FROM subscribers WHERE id = $1 AND sms_status = 'confirmed'`, sub); n != 1 {
		t.Fatal("sms not confirmed after START")
	}

	out = f.sms("+447700900203", "banana")
	// No check-in to answer: the reply names the keywords, no numbers.
	if !strings.Contains(out, "can&#39;t read written replies") || !strings.Contains(out, "PAUSE") || strings.Contains(out, "1-5") {
		t.Fatalf("hint reply: %s", out)
	}
}

func TestAnswerBySMSAndEmailLink(t *testing.T) {
	f := newFixture(t)
	sub, enr := f.enroll("mood@example.org", "+447700900204")
	f.planUntil(utc("2026-06-07T18:30:00Z")) // Sunday 7th, 19:30 local: the first mood check-in
	var tok1 string
	if err := f.e.Store.DB.Get(&tok1, `SELECT token FROM checkins WHERE enrollment_id = $1 AND step_key = 'mood' ORDER BY opened_at DESC LIMIT 1`, enr); err != nil {
		t.Fatal(err)
	}
	path := local(f.links.Checkin(tok1, "2"))

	// GET shows the page and changes nothing.
	before := f.state()
	code, page := f.do("GET", path, "", "")
	if code != 200 || !strings.Contains(page, `value="2" checked`) || !strings.Contains(page, `method="post"`) {
		t.Fatalf("check-in page: %d %s", code, page)
	}
	sameState(t, "GET /checkin", before, f.state())

	// The first low mood by email link.
	code, page = f.do("POST", strings.Split(path, "?")[0], "application/x-www-form-urlencoded", "a=2")
	if code != 200 || !strings.Contains(page, "Thank you") {
		t.Fatalf("answer by link: %d %s", code, page)
	}
	// The second, a week later, by SMS: two low weeks send support.
	f.planUntil(utc("2026-06-14T18:30:00Z"))
	out := f.sms("+447700900204", "1")
	if !strings.Contains(out, "Thanks") {
		t.Fatalf("sms answer: %s", out)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND step_key LIKE 'support@%'`, enr); n != 2 {
		t.Fatalf("support deliveries: %d, want 2 (email and sms)", n)
	}
	// The same check-in answered again by its email link lands in the same row.
	var id2 int64
	var tok2 string
	row := f.e.Store.DB.QueryRow(`SELECT id, token FROM checkins WHERE enrollment_id = $1 AND answer = '1'`, enr)
	if err := row.Scan(&id2, &tok2); err != nil {
		t.Fatal(err)
	}
	rows := f.count(`SELECT count(*) FROM checkins`)
	code, page = f.do("POST", "/checkin/"+tok2, "application/x-www-form-urlencoded", "a=4")
	if code != 200 || !strings.Contains(page, "noted your new answer") {
		t.Fatalf("update by link: %d %s", code, page)
	}
	if n := f.count(`SELECT count(*) FROM checkins WHERE id = $1 AND answer = '4' AND source = 'email-link'`, id2); n != 1 {
		t.Fatal("the link answer did not land in the SMS-answered row")
	}
	if n := f.count(`SELECT count(*) FROM checkins`); n != rows {
		t.Fatalf("checkins rows %d -> %d", rows, n)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND step_key LIKE 'support@%'`, enr); n != 2 {
		t.Fatalf("an updated answer branched again: %d support deliveries", n)
	}
	_ = sub

	// A bad token is a 404 page, an unknown answer a 400.
	if code, _ := f.do("GET", "/checkin/nope?a=1", "", ""); code != 404 {
		t.Fatalf("unknown token: %d", code)
	}
	if code, _ := f.do("POST", "/checkin/"+tok2, "application/x-www-form-urlencoded", "a=banana"); code != 400 {
		t.Fatalf("bad answer: %d", code)
	}
}

func TestOneClickUnsubscribe(t *testing.T) {
	f := newFixture(t)
	sub, enr := f.enroll("one@example.org", "+447700900205")
	f.planUntil(utc("2026-06-01T07:30:00Z"))
	path := local(f.links.Unsubscribe(sub, "email"))

	before := f.state()
	code, page := f.do("GET", path, "", "")
	if code != 200 || !strings.Contains(page, "<button") {
		t.Fatalf("unsubscribe page: %d %s", code, page)
	}
	sameState(t, "GET /unsubscribe", before, f.state())

	smsQueued := f.count(`SELECT count(*) FROM deliveries WHERE channel = 'sms' AND status = 'queued'`)
	code, page = f.do("POST", path, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click")
	if code != 200 {
		t.Fatalf("one-click: %d %s", code, page)
	}
	if n := f.count(`SELECT count(*) FROM suppressions WHERE channel = 'email' AND address = 'one@example.org'`); n != 1 {
		t.Fatal("no email suppression")
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE channel = 'email' AND status = 'queued'`); n != 0 {
		t.Fatalf("%d emails still queued", n)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE channel = 'sms' AND status = 'queued'`); n != smsQueued {
		t.Fatal("email one-click touched texts")
	}
	if n := f.count(`SELECT count(*) FROM consents WHERE subscriber_id = $1 AND action = 'revoked' AND source = 'one-click'`, sub); n != 1 {
		t.Fatal("no revoked consent")
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'active'`, enr); n != 1 {
		t.Fatal("texts remain, so the enrollment should go on")
	}
	// Texts too: now nothing is left, and the enrollment ends.
	code, _ = f.do("POST", local(f.links.Unsubscribe(sub, "sms")), "", "")
	if code != 200 {
		t.Fatalf("sms unsubscribe: %d", code)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'unenrolled'`, enr); n != 1 {
		t.Fatal("no channel left, but the enrollment is still live")
	}
	// A forged token changes nothing.
	before = f.state()
	if code, _ := f.do("POST", "/unsubscribe/s1.email.zzz.forged", "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"); code != 400 {
		t.Fatalf("forged unsubscribe token: %d", code)
	}
	sameState(t, "forged unsubscribe", before, f.state())
}

// received is the API's answer to every valid sign-up.
const received = `{"status":"received"}` + "\n"

func api(f *fixture, body string) (int, string) {
	return f.do("POST", "/api/v1/subscriptions", "application/json", body)
}

func TestSignupAPIAndConfirm(t *testing.T) {
	f := newFixture(t)
	before := f.state()
	for _, c := range []struct{ body, field string }{
		{`{"program":"basic","first_name":"Ann","email":"ann@example.org","phone":"12345","timezone":"Europe/London","consent_email":true,"consent_sms":true}`, "phone"},
		{`{"program":"basic","first_name":"Ann","email":"ann@example.org","timezone":"Mars/Olympus","consent_email":true}`, "timezone"},
		{`{"program":"basic","first_name":"Ann","email":"ann@@example","timezone":"Europe/London","consent_email":true}`, "email"},
		{`{"program":"basic","first_name":"Ann","email":"ann@example.org","timezone":"Local","consent_email":true}`, "timezone"},
		{`{"program":"nope","first_name":"Ann","email":"ann@example.org","timezone":"Europe/London","consent_email":true}`, "program"},
	} {
		code, out := api(f, c.body)
		if code != 400 || !strings.Contains(out, `"field":"`+c.field+`"`) {
			t.Errorf("%s: %d %s; want 400 naming %s", c.body, code, out, c.field)
		}
	}
	sameState(t, "rejected sign-ups", before, f.state())

	code, out := api(f, `{"program":"basic","first_name":"Ann","email":"Ann@Example.org","phone":"07400 123456","timezone":"Europe/London","consent_email":true,"consent_sms":true}`)
	if code != 202 || out != received {
		t.Fatalf("sign-up: %d %s", code, out)
	}
	var enr int64
	if err := f.e.Store.DB.Get(&enr, `SELECT e.id FROM enrollments e JOIN subscribers s ON s.id = e.subscriber_id
		WHERE s.email = 'ann@example.org' AND s.phone = '+447400123456' AND e.status = 'pending'`); err != nil {
		t.Fatalf("pending enrollment with normalised email and E.164 phone: %v", err)
	}
	if n := f.count(`SELECT count(*) FROM consents WHERE action = 'granted' AND source = 'api' AND consent_text <> ''`); n != 2 {
		t.Fatalf("granted consents: %d", n)
	}
	// Signing up again before confirming sends the confirmation again
	// (nothing is sent here: this fixture has no confirmation hook), and is
	// answered as any sign-up is.
	if code, out := api(f, `{"program":"basic","first_name":"Ann","email":"ann@example.org","timezone":"Europe/London","consent_email":true}`); code != 202 || out != received {
		t.Fatalf("second sign-up while pending: %d %s, want the same 202 as any sign-up", code, out)
	}
	if n := f.count(`SELECT count(*) FROM enrollments`); n != 1 {
		t.Fatalf("second sign-up while pending: %d enrollments, want the one", n)
	}

	path := local(f.links.Confirm(enr, 48*time.Hour))
	before = f.state()
	if code, page := f.do("GET", path, "", ""); code != 200 || !strings.Contains(page, "<button") {
		t.Fatalf("confirm page: %d", code)
	}
	sameState(t, "GET /confirm", before, f.state())
	if code, page := f.do("POST", path, "", ""); code != 200 || !strings.Contains(page, "confirmed") {
		t.Fatalf("confirm: %d %s", code, page)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'active' AND next_due_at IS NOT NULL`, enr); n != 1 {
		t.Fatal("not active after confirm")
	}
	if n := f.count(`SELECT count(*) FROM subscribers WHERE email_status = 'confirmed' AND sms_status = 'pending'`); n != 1 {
		t.Fatal("email should be confirmed, sms still pending")
	}
	if n := f.count(`SELECT count(*) FROM consents WHERE channel = 'email' AND action = 'confirmed'`); n != 1 {
		t.Fatal("no confirmed consent")
	}
	// YES confirms the texts.
	if out := f.sms("+447400123456", "yes"); !strings.Contains(out, "confirmed") {
		t.Fatalf("YES: %s", out)
	}
	if n := f.count(`SELECT count(*) FROM subscribers WHERE sms_status = 'confirmed'`); n != 1 {
		t.Fatal("sms not confirmed by YES")
	}
	// In the program now: signing up again changes nothing, and is answered
	// as any sign-up is, so the answer does not tell that Ann is in it.
	before = f.state()
	if code, out := api(f, `{"program":"basic","first_name":"Ann","email":"ann@example.org","timezone":"Europe/London","consent_email":true}`); code != 202 || out != received {
		t.Fatalf("sign-up while enrolled: %d %s, want the same 202 as any sign-up", code, out)
	}
	sameState(t, "sign-up while enrolled", before, f.state())
}

// Someone who was in the program before (their email confirmed then) signs
// up again: the new enrollment waits for their own click, and the link
// starts it, recording the confirmation.
func TestReturningPersonConfirmsNewSignup(t *testing.T) {
	f := newFixture(t)
	sub, enr := f.enroll("ret@example.org", "")
	if _, err := f.e.Unenroll(context.Background(), enr, "left"); err != nil {
		t.Fatal(err)
	}
	code, out := api(f, `{"program":"basic","first_name":"Ret","email":"ret@example.org","timezone":"Europe/London","consent_email":true}`)
	if code != 202 {
		t.Fatalf("returning sign-up: %d %s", code, out)
	}
	var again int64
	if err := f.e.Store.DB.Get(&again, `SELECT id FROM enrollments WHERE subscriber_id = $1 AND status = 'pending'`, sub); err != nil {
		t.Fatalf("returning sign-up: no pending enrollment: %v", err)
	}
	if code, page := f.do("POST", local(f.links.Confirm(again, 48*time.Hour)), "", ""); code != 200 || !strings.Contains(page, "re confirmed</h1>") {
		t.Fatalf("confirm the returning sign-up: %d %s", code, page)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'active'`, again); n != 1 {
		t.Fatal("the link did not start the returning person's new enrollment")
	}
	if n := f.count(`SELECT count(*) FROM consents WHERE subscriber_id = $1 AND channel = 'email' AND action = 'confirmed' AND source = 'email-link'`, sub); n != 1 {
		t.Fatal("the returning person's confirmation was not recorded")
	}
}

// Someone who signs up with both and answers the text first is in the
// program by text; the email link, pressed afterwards, still confirms the
// email address, so lessons come by email too.
func TestEmailLinkAfterTextYesConfirmsEmail(t *testing.T) {
	f := newFixture(t)
	code, out := api(f, `{"program":"basic","first_name":"Ann","email":"ann@example.org","phone":"07400 123456","timezone":"Europe/London","consent_email":true,"consent_sms":true}`)
	if code != 202 {
		t.Fatalf("sign-up: %d %s", code, out)
	}
	var enr int64
	if err := f.e.Store.DB.Get(&enr, `SELECT id FROM enrollments WHERE status = 'pending'`); err != nil {
		t.Fatal(err)
	}
	if out := f.sms("+447400123456", "yes"); !strings.Contains(out, "confirmed") {
		t.Fatalf("YES: %s", out)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'active'`, enr); n != 1 {
		t.Fatal("YES did not start the program")
	}
	code, page := f.do("POST", local(f.links.Confirm(enr, 48*time.Hour)), "", "")
	if code != 200 || !strings.Contains(page, "email address is confirmed") {
		t.Fatalf("email link after YES: %d %s", code, page)
	}
	if n := f.count(`SELECT count(*) FROM subscribers WHERE email_status = 'confirmed' AND sms_status = 'confirmed'`); n != 1 {
		t.Fatal("the email link after YES left the email address unconfirmed")
	}
	if n := f.count(`SELECT count(*) FROM consents WHERE channel = 'email' AND action = 'confirmed' AND source = 'email-link'`); n != 1 {
		t.Fatal("no confirmed consent recorded for the email address")
	}
	// Pressing it again changes nothing more.
	before := f.state()
	if code, page := f.do("POST", local(f.links.Confirm(enr, 48*time.Hour)), "", ""); code != 200 || !strings.Contains(page, "already confirmed") {
		t.Fatalf("second press: %d %s", code, page)
	}
	sameState(t, "second press", before, f.state())
}

func TestSignupFormRejectsBadInput(t *testing.T) {
	f := newFixture(t)
	jar := &cookieJar{}
	client := &http.Client{Jar: jar}
	resp, err := client.Get(f.srv.URL + "/subscribe/basic")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(b)
	if resp.StatusCode != 200 || !strings.Contains(page, `<html lang="en"`) || !strings.Contains(page, "Intl.DateTimeFormat") {
		t.Fatalf("form: %d", resp.StatusCode)
	}
	i := strings.Index(page, `name="csrf" value="`)
	if i < 0 {
		t.Fatal("no csrf field")
	}
	csrf := page[i+len(`name="csrf" value="`):]
	csrf = csrf[:strings.IndexByte(csrf, '"')]
	post := func(v url.Values) (int, string) {
		resp, err := client.PostForm(f.srv.URL+"/subscribe/basic", v)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	form := func(email, phone, tz string) url.Values {
		return url.Values{"csrf": {csrf}, "first_name": {"Bo"}, "email": {email}, "phone": {phone}, "timezone": {tz}, "consent_email": {"yes"}, "consent_sms": {"yes"}}
	}
	before := f.state()
	for _, c := range []struct {
		v     url.Values
		field string
	}{
		{form("bo@example.org", "not a phone", "Europe/London"), `id="phone-error"`},
		{form("bo@example.org", "", "Nowhere/Land"), `id="timezone-error"`},
		{form("bo at example.org", "", "Europe/London"), `id="email-error"`},
	} {
		code, out := post(c.v)
		if code != 400 || !strings.Contains(out, c.field) {
			t.Errorf("%v: %d; want 400 with %s", c.v, code, c.field)
		}
	}
	// No CSRF token: refused.
	v := form("bo@example.org", "", "Europe/London")
	v.Del("csrf")
	if code, _ := post(v); code != 403 {
		t.Errorf("without csrf: %d", code)
	}
	sameState(t, "rejected form posts", before, f.state())
	if code, out := post(form("bo@example.org", "", "Europe/London")); code != 200 || !strings.Contains(out, "confirm") {
		t.Fatalf("good form: %d %s", code, out)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE status = 'pending'`); n != 1 {
		t.Fatal("no pending enrollment")
	}
}

// cookieJar is a minimal single-host jar.
type cookieJar struct{ c []*http.Cookie }

func (j *cookieJar) SetCookies(_ *url.URL, cs []*http.Cookie) { j.c = append(j.c, cs...) }
func (j *cookieJar) Cookies(*url.URL) []*http.Cookie          { return j.c }

func TestPauseResumeAndManage(t *testing.T) {
	f := newFixture(t)
	sub, enr := f.enroll("pause@example.org", "+447700900207")
	if out := f.sms("+447700900207", "pause 3 days"); !strings.Contains(out, "3 days") {
		t.Fatalf("PAUSE 3 DAYS: %s", out)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'paused' AND paused_until IS NOT NULL`, enr); n != 1 {
		t.Fatal("not paused until a date")
	}
	if out := f.sms("+447700900207", "Resume"); !strings.Contains(out, "Welcome back") {
		t.Fatalf("RESUME: %s", out)
	}
	if out := f.sms("+447700900207", "moved on"); !strings.Contains(out, "changes course") {
		t.Fatalf("MOVED ON: %s", out)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND track = 'other'`, enr); n != 1 {
		t.Fatal("MOVED ON did not switch track")
	}

	path := local(f.links.Manage(sub))
	before := f.state()
	if code, page := f.do("GET", path, "", ""); code != 200 || !strings.Contains(page, "Pause for now") {
		t.Fatalf("manage page: %d", code)
	}
	sameState(t, "GET /manage", before, f.state())
	code, _ := f.do("POST", path, "application/x-www-form-urlencoded", url.Values{"enrollment": {itoa(enr)}, "action": {"pause"}}.Encode())
	if code != http.StatusSeeOther {
		t.Fatalf("manage pause: %d", code)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'paused'`, enr); n != 1 {
		t.Fatal("not paused from the manage page")
	}
	// Pausing again changes nothing, and the page says so rather than
	// claiming it paused.
	req, _ := http.NewRequest("POST", f.srv.URL+path, strings.NewReader(url.Values{"enrollment": {itoa(enr)}, "action": {"pause"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := noFollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasSuffix(loc, "?done=unchanged") {
		t.Fatalf("second pause: %d to %q, want a redirect to ?done=unchanged", resp.StatusCode, loc)
	}
	if _, page := f.do("GET", loc, "", ""); !strings.Contains(page, "Nothing changed") || strings.Contains(page, "Your program is paused.") {
		t.Fatalf("after a second pause the page says:\n%s", page)
	}
	code, _ = f.do("POST", path, "application/x-www-form-urlencoded", url.Values{"enrollment": {"999999"}, "action": {"leave"}}.Encode())
	if code != 404 {
		t.Fatalf("someone else's enrollment: %d", code)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// A command added by a newer program version, sending a step the person's
// pinned version lacks, is not run on them (it used to reach a nil step):
// their text is answered as any other, and their enrollment is unchanged.
// Someone on the newer version gets the command.
func TestCommandOfANewerVersionOnly(t *testing.T) {
	f := newFixture(t)
	_, old := f.enroll("old@example.org", "+447700900301")
	f.withRoughDay(t)
	_, fresh := f.enroll("new@example.org", "+447700900302")

	before := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1`, old)
	if out := f.sms("+447700900301", "rough day"); strings.Contains(out, "adjusted") {
		t.Fatalf("the newer version's command ran on version 1: %s", out)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1`, old); n != before {
		t.Fatalf("version 1 enrollment: %d deliveries after the text, want %d", n, before)
	}
	if out := f.sms("+447700900302", "rough day"); !strings.Contains(out, "adjusted") {
		t.Fatalf("version 2 enrollment, command: %s", out)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE enrollment_id = $1 AND step_key LIKE 'first-aid@%'`, fresh); n != 2 {
		t.Fatalf("version 2 enrollment: %d first-aid deliveries, want email and text", n)
	}
}

// Someone who opted out and signs up again gets the answer anyone gets:
// nothing may be sent to the address, not even a confirmation, and the
// answer must not tell a stranger that the address opted out. Nothing
// changes. After START by text, a sign-up by phone goes through.
func TestSignupAfterOptOutSendsNothingAndSaysNothing(t *testing.T) {
	f := newFixture(t)
	sub, _ := f.enroll("gone@example.org", "+447400123501")
	if code, _ := f.do("POST", local(f.links.Unsubscribe(sub, "email")), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"); code != 200 {
		t.Fatalf("unsubscribe: %d", code)
	}
	if out := f.sms("+447400123501", "STOP"); !strings.Contains(out, "unsubscribed") {
		t.Fatalf("STOP: %s", out)
	}
	before := f.state()
	code, out := api(f, `{"program":"basic","first_name":"Gus","email":"gone@example.org","timezone":"Europe/London","consent_email":true}`)
	if code != 202 || out != received {
		t.Fatalf("sign-up with an unsubscribed email: %d %s, want the same 202 as any sign-up", code, out)
	}
	code, out = api(f, `{"program":"basic","first_name":"Gus","phone":"07400 123501","timezone":"Europe/London","consent_sms":true}`)
	if code != 202 || out != received {
		t.Fatalf("sign-up with a number that texted STOP: %d %s, want the same 202 as any sign-up", code, out)
	}
	sameState(t, "sign-ups to opted-out addresses", before, f.state())

	// Their program ended when they left both channels: START lets us
	// text them, and says that signing up again is what starts it.
	if out := f.sms("+447400123501", "START"); !strings.Contains(out, "sign up again") {
		t.Fatalf("START: %s", out)
	}
	code, out = api(f, `{"program":"basic","first_name":"Gus","phone":"07400 123501","timezone":"Europe/London","consent_sms":true}`)
	if code != 202 {
		t.Fatalf("sign-up by phone after START: %d %s", code, out)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE subscriber_id = $1 AND status = 'pending'`, sub); n != 1 {
		t.Fatal("the sign-up by phone after START did not wait for confirmation")
	}
}

// YES from a number confirmed before confirms the person's new sign-up to
// another program, unless a check-in is waiting for its answer: then YES
// is that answer, and the sign-up still waits.
func TestYesAnswersAnOpenCheckinBeforeConfirmingASignup(t *testing.T) {
	f := newFixture(t)
	progs := map[string]*programs.Program{}
	for _, name := range []string{"basic", "timing"} {
		p, err := programs.Load(os.DirFS("../programs/testdata"), name)
		if err != nil {
			t.Fatal(err)
		}
		progs[name] = p
	}
	if err := f.e.LoadPrograms(context.Background(), progs); err != nil {
		t.Fatal(err)
	}
	const phone = "+447700900701"
	f.enroll("yes@example.org", phone)
	f.planUntil(utc("2026-06-07T18:30:00Z")) // Sunday evening: the mood check-in is open
	_, pending, err := f.e.Enroll(context.Background(), scheduler.EnrollRequest{Program: "timing", FirstName: "Sam",
		Email: "yes@example.org", Phone: phone, Timezone: "Europe/London", Source: "web", Pending: true})
	if err != nil {
		t.Fatal(err)
	}
	f.sms(phone, "yes")
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'pending'`, pending); n != 1 {
		t.Fatal("YES while a check-in was open confirmed the other sign-up")
	}
	// Answer the check-in; the next YES confirms the sign-up.
	f.e.Store.DB.MustExec(`UPDATE checkins SET answer = '3', answered_at = $1`, f.clk.Now())
	if out := f.sms(phone, "yes"); !strings.Contains(out, "confirmed") {
		t.Fatalf("YES with no check-in open: %s", out)
	}
	if n := f.count(`SELECT count(*) FROM enrollments WHERE id = $1 AND status = 'active'`, pending); n != 1 {
		t.Fatal("YES with no check-in open did not confirm the sign-up")
	}
}

// withRoughDay loads a newer version ("2") of the testdata program "basic"
// that adds a "rough day" command sending a message (first-aid), and makes
// it the version new enrollments start on.
func (f *fixture) withRoughDay(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS("../programs/testdata")); err != nil {
		t.Fatal(err)
	}
	yaml := filepath.Join(dir, "basic", "program.yaml")
	b, err := os.ReadFile(yaml)
	if err != nil {
		t.Fatal(err)
	}
	v2 := strings.Replace(string(b), `version: "1"`, `version: "2"`, 1)
	v2 = strings.Replace(v2, `        content: content/support.md
commands:
`, `        content: content/support.md
      - key: first-aid
        kind: message
        channels: [email, sms]
        content: content/support.md
commands:
  - match: ["rough day"]
    send: first-aid
`, 1)
	if err := os.WriteFile(yaml, []byte(v2), 0o600); err != nil {
		t.Fatal(err)
	}
	p, err := programs.Load(os.DirFS(dir), "basic")
	if err != nil {
		t.Fatal(err)
	}
	if err := f.e.LoadPrograms(context.Background(), map[string]*programs.Program{"basic": p}); err != nil {
		t.Fatal(err)
	}
}
