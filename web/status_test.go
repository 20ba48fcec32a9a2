package web

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/channel"
	"github.com/rekindle/rekindle/internal/faketwilio"
	"github.com/rekindle/rekindle/metrics"
	"github.com/rekindle/rekindle/scheduler"
	"github.com/rekindle/rekindle/token"
)

// statusFixture is the web fixture with metrics, and a real Twilio channel
// (twilio-go against faketwilio) that the real dispatcher sends SMS through,
// so the Message SID a callback names is the one the dispatcher stored.
type statusFixture struct {
	*fixture
	m  *metrics.Metrics
	tw *faketwilio.Server
	sm *scheduler.Dispatcher // SMS
	// accepted, when set, runs as soon as Twilio has accepted an SMS, before
	// the dispatcher records anything (see acceptHook).
	accepted func(to, sid string)
}

const statusPath = "/webhooks/twilio/status"

func newStatusFixture(t *testing.T) *statusFixture {
	t.Helper()
	f := newFixture(t)
	m := metrics.New()
	f.e.Observer = m
	signer, _ := token.NewSigner("test-secret-key-0123456789")
	h, err := New(Deps{Engine: f.e, Links: f.links, Signer: signer, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		BaseURL: base, DefaultRegion: "GB", TwilioAuthToken: authToken, Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(h)
	t.Cleanup(f.srv.Close)
	tw := faketwilio.New()
	t.Cleanup(tw.Close)
	ch, err := channel.NewTwilio(channel.TwilioConfig{AccountSID: faketwilio.NewAccountSID(), AuthToken: "0123456789abcdef",
		From: "+15005550006", APIURL: tw.URL(), StatusCallbackURL: base + statusPath, Timeout: 5 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	sf := &statusFixture{fixture: f, m: m, tw: tw}
	sf.sm = f.e.NewDispatcher(acceptHook{Channel: ch, f: sf}, 1, "status-test")
	t.Cleanup(func() { sf.sm.Close() })
	return sf
}

// acceptHook is the real Twilio channel with a hook between Twilio's accept
// and the dispatcher's record of it: the window in which a fast carrier's
// status callback can arrive before the SID is stored.
type acceptHook struct {
	channel.Channel
	f *statusFixture
}

func (c acceptHook) NewSender() (channel.Sender, error) {
	s, err := c.Channel.NewSender()
	if err != nil {
		return nil, err
	}
	return acceptHookSender{Sender: s, f: c.f}, nil
}

type acceptHookSender struct {
	channel.Sender
	f *statusFixture
}

func (s acceptHookSender) Send(ctx context.Context, m channel.Message) (channel.Result, error) {
	res, err := s.Sender.Send(ctx, m)
	if err == nil && s.f.accepted != nil {
		s.f.accepted(m.To, res.ProviderID)
	}
	return res, err
}

// sentSMS is one SMS the dispatcher handed to Twilio.
type sentSMS struct {
	id       int64
	sid      string
	callback string // the StatusCallback URL Twilio was given
	phone    string
}

// sendWelcomes plans the welcome step of everyone enrolled and sends its
// SMS through Twilio; it returns the sent SMS by phone number.
func (f *statusFixture) sendWelcomes() map[string]sentSMS {
	f.t.Helper()
	f.planUntil(utc("2026-06-01T07:30:00Z")) // 08:00 London: welcome by email and SMS
	if _, err := f.sm.DispatchOnce(context.Background()); err != nil {
		f.t.Fatal(err)
	}
	rows := []struct {
		ID    int64  `db:"id"`
		SID   string `db:"provider_id"`
		Phone string `db:"to_addr"`
	}{}
	if err := f.e.Store.DB.Select(&rows, `SELECT id, provider_id, to_addr FROM deliveries
		WHERE channel = 'sms' AND status = 'sent' AND provider_id IS NOT NULL`); err != nil {
		f.t.Fatal(err)
	}
	byPhone := map[string]sentSMS{}
	for _, m := range f.tw.Messages() {
		byPhone[m.To] = sentSMS{sid: m.SID, callback: m.StatusCallback, phone: m.To}
	}
	out := map[string]sentSMS{}
	for _, r := range rows {
		s, ok := byPhone[r.Phone]
		if !ok || s.sid != r.SID {
			f.t.Fatalf("delivery %d to %s stored SID %q; Twilio issued %q", r.ID, r.Phone, r.SID, s.sid)
		}
		if s.callback != base+statusPath {
			f.t.Fatalf("StatusCallback given to Twilio = %q, want %q", s.callback, base+statusPath)
		}
		s.id = r.ID
		out[r.Phone] = s
	}
	if len(out) == 0 {
		f.t.Fatal("no SMS was sent")
	}
	return out
}

// callbackForm is what Twilio posts for a status change.
func callbackForm(s sentSMS, status, code string) url.Values {
	form := url.Values{
		"MessageSid": {s.sid}, "SmsSid": {s.sid}, "MessageStatus": {status}, "SmsStatus": {status},
		"AccountSid": {"ACtest"}, "From": {"+15005550006"}, "To": {s.phone}, "ApiVersion": {"2010-04-01"},
	}
	if code != "" {
		form.Set("ErrorCode", code)
	}
	return form
}

// post sends a status callback to the path of the URL Twilio was given,
// signed over that URL (sig "" signs correctly, "-" sends no signature).
func (f *statusFixture) post(form url.Values, sig string) int {
	f.t.Helper()
	code, err := f.postForm(form, sig)
	if err != nil {
		f.t.Fatal(err)
	}
	return code
}

// postForm is post for any goroutine: it returns its error.
func (f *statusFixture) postForm(form url.Values, sig string) (int, error) {
	req, err := http.NewRequest("POST", f.srv.URL+statusPath, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	switch sig {
	case "":
		req.Header.Set("X-Twilio-Signature", faketwilio.Sign(authToken, base+statusPath, form))
	case "-":
	default:
		req.Header.Set("X-Twilio-Signature", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

func (f *statusFixture) callback(s sentSMS, status, code string) {
	f.t.Helper()
	if got := f.post(callbackForm(s, status, code), ""); got != http.StatusOK {
		f.t.Fatalf("callback %s %s: status %d, want 200", status, code, got)
	}
}

type deliveryRow struct {
	Status    string  `db:"status"`
	ErrorCode *string `db:"error_code"`
	Error     *string `db:"error"`
}

func (f *statusFixture) delivery(id int64) deliveryRow {
	f.t.Helper()
	var r deliveryRow
	if err := f.e.Store.DB.Get(&r, `SELECT status, error_code, error FROM deliveries WHERE id = $1`, id); err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *statusFixture) wantDelivery(id int64, status, code string) {
	f.t.Helper()
	r := f.delivery(id)
	got := ""
	if r.ErrorCode != nil {
		got = *r.ErrorCode
	}
	if r.Status != status || got != code {
		f.t.Fatalf("delivery %d: status %s, error_code %q; want %s, %q", id, r.Status, got, status, code)
	}
}

// deliveryStates lists every delivery's id, status and error code, so that
// "nothing changed" covers the rows a callback could touch.
func (f *statusFixture) deliveryStates() string {
	f.t.Helper()
	var s string
	if err := f.e.Store.DB.Get(&s, `SELECT coalesce(string_agg(id || ':' || status || ':' || coalesce(error_code, '-'), ',' ORDER BY id), '')
		FROM deliveries`); err != nil {
		f.t.Fatal(err)
	}
	return s
}

// kept lists the kept status callbacks as sid:status:code.
func (f *statusFixture) kept() string {
	f.t.Helper()
	var s string
	if err := f.e.Store.DB.Get(&s, `SELECT coalesce(string_agg(message_sid || ':' || status || ':' || coalesce(error_code, '-'), ',' ORDER BY message_sid), '')
		FROM status_callbacks`); err != nil {
		f.t.Fatal(err)
	}
	return s
}

// scrape reads /metrics as Prometheus would: the value of every series,
// keyed by its line, e.g. `rekindle_webhook_requests_total{hook="twilio_status",result="ok"}`.
func (f *statusFixture) scrape() map[string]string {
	f.t.Helper()
	rec := httptest.NewRecorder()
	f.m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	out := map[string]string{}
	sc := bufio.NewScanner(rec.Body)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			out[line[:i]] = line[i+1:]
		}
	}
	return out
}

func (f *statusFixture) wantMetric(series, want string) {
	f.t.Helper()
	if got := f.scrape()[series]; got != want {
		f.t.Errorf("%s = %q, want %q", series, got, want)
	}
}

func hookResult(result string) string {
	return `rekindle_webhook_requests_total{hook="twilio_status",result="` + result + `"}`
}

func TestStatusCallbackDelivered(t *testing.T) {
	f := newStatusFixture(t)
	f.enroll("dee@example.org", "+447700900301")
	s := f.sendWelcomes()["+447700900301"]

	f.callback(s, "sent", "") // a step on the way: nothing to record
	f.wantDelivery(s.id, "sent", "")
	f.callback(s, "delivered", "")
	f.wantDelivery(s.id, "delivered", "")
	if r := f.delivery(s.id); r.Error != nil {
		t.Errorf("a delivered SMS carries error %q", *r.Error)
	}
	f.wantMetric(hookResult("ok"), "1")
	f.wantMetric(hookResult("ignored"), "1")
	f.wantMetric(`rekindle_deliveries_total{channel="sms",status="delivered"}`, "1")
}

// Once delivered, nothing a callback says moves the delivery again: a late
// 'sent', a repeated 'delivered', even a 'failed' with a suppressing code.
func TestStatusCallbackAfterDeliveredDoesNotRegress(t *testing.T) {
	f := newStatusFixture(t)
	f.enroll("late@example.org", "+447700900302")
	s := f.sendWelcomes()["+447700900302"]
	f.callback(s, "delivered", "")
	before, states := f.state(), f.deliveryStates()

	f.callback(s, "sent", "")
	f.callback(s, "delivered", "")
	f.callback(s, "undelivered", "30003")
	f.callback(s, "failed", "21610")

	f.wantDelivery(s.id, "delivered", "")
	sameState(t, "callbacks after delivered", before, f.state())
	if got := f.deliveryStates(); got != states {
		t.Errorf("deliveries changed:\n%s\n->\n%s", states, got)
	}
	if n := f.count(`SELECT count(*) FROM suppressions`); n != 0 {
		t.Errorf("%d suppressions after a stale failure report", n)
	}
	f.wantMetric(hookResult("ok"), "1")
	f.wantMetric(hookResult("unchanged"), "3")
	f.wantMetric(hookResult("ignored"), "1")
	f.wantMetric(`rekindle_deliveries_total{channel="sms",status="failed"}`, "0")
}

// planLater plans the person's later steps so that an SMS and emails to
// them are still queued.
func (f *statusFixture) planLater(phone, email string) (queuedSMS, queuedEmail int) {
	f.t.Helper()
	f.planUntil(utc("2026-06-05T18:30:00Z")) // day 4, 19:30 London: the 'ready' check-in by SMS
	queuedSMS = f.count(`SELECT count(*) FROM deliveries WHERE channel = 'sms' AND to_addr = $1 AND status = 'queued'`, phone)
	queuedEmail = f.count(`SELECT count(*) FROM deliveries WHERE channel = 'email' AND to_addr = $1 AND status = 'queued'`, email)
	if queuedSMS == 0 || queuedEmail == 0 {
		f.t.Fatalf("setup: %d queued SMS and %d queued emails for %s; want some of each", queuedSMS, queuedEmail, phone)
	}
	return queuedSMS, queuedEmail
}

// 30003 (handset off or out of coverage) is temporary: the delivery is
// undelivered with its code, the number stays usable.
func TestStatusCallbackUndeliveredTransient(t *testing.T) {
	f := newStatusFixture(t)
	f.enroll("off@example.org", "+447700900303")
	s := f.sendWelcomes()["+447700900303"]
	queued, _ := f.planLater("+447700900303", "off@example.org")

	f.callback(s, "undelivered", "30003")
	f.wantDelivery(s.id, "undelivered", "30003")
	if r := f.delivery(s.id); r.Error == nil || !strings.Contains(*r.Error, "30003") {
		t.Errorf("error column %v does not name the code", r.Error)
	}
	if n := f.count(`SELECT count(*) FROM suppressions`); n != 0 {
		t.Errorf("a transient code suppressed the number (%d suppressions)", n)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE channel = 'sms' AND to_addr = $1 AND status = 'queued'`, s.phone); n != queued {
		t.Errorf("queued SMS %d -> %d after a transient failure", queued, n)
	}
	// Repeated: idempotent.
	f.callback(s, "undelivered", "30003")
	f.wantDelivery(s.id, "undelivered", "30003")
	f.wantMetric(hookResult("ok"), "1")
	f.wantMetric(hookResult("unchanged"), "1")
	f.wantMetric(`rekindle_deliveries_total{channel="sms",status="undelivered"}`, "1")
	f.wantMetric(`rekindle_provider_errors_total{channel="sms",code="30003"}`, "1")
}

// 21610 (the person texted STOP to our number) is permanent: the delivery
// fails, the number is suppressed and the SMS still queued to it are
// cancelled, in one go; their email and other people's texts go on.
func TestStatusCallbackFailed21610Suppresses(t *testing.T) {
	f := newStatusFixture(t)
	f.enroll("stop@example.org", "+447700900304")
	f.enroll("other@example.org", "+447700900305")
	s := f.sendWelcomes()["+447700900304"]
	_, emails := f.planLater("+447700900304", "stop@example.org")
	otherSMS, otherEmails := f.planLater("+447700900305", "other@example.org")

	f.callback(s, "failed", "21610")

	f.wantDelivery(s.id, "failed", "21610")
	f.wantSuppressedAlone(t, s.phone, "21610", untouched{email: "stop@example.org", emails: emails, otherPhone: "+447700900305", otherSMS: otherSMS, otherEmail: "other@example.org", otherEmails: otherEmails})

	// A replay changes nothing, and a later opt-in (START removes the
	// suppression) is not undone by it.
	if _, err := f.e.Store.DB.Exec(`DELETE FROM suppressions`); err != nil {
		t.Fatal(err)
	}
	states := f.deliveryStates()
	f.callback(s, "failed", "21610")
	if n := f.count(`SELECT count(*) FROM suppressions`); n != 0 {
		t.Error("a replayed callback suppressed the number again")
	}
	if got := f.deliveryStates(); got != states {
		t.Errorf("a replayed callback changed deliveries:\n%s\n->\n%s", states, got)
	}
	f.wantMetric(hookResult("ok"), "1")
	f.wantMetric(hookResult("unchanged"), "1")
	f.wantMetric(`rekindle_deliveries_total{channel="sms",status="failed"}`, "1")
}

// 30005 (the number no longer exists) and 30006 (a landline, or a carrier
// that cannot be reached) come as 'undelivered', not 'failed', yet are just
// as permanent: the number is suppressed and its queued texts cancelled, as
// for 21610, while the person's email and other people's texts go on.
func TestStatusCallbackUndeliveredPermanentSuppresses(t *testing.T) {
	for i, code := range []string{"30005", "30006"} {
		t.Run(code, func(t *testing.T) {
			f := newStatusFixture(t)
			phone, other := "+44770090032"+string(rune('0'+2*i)), "+44770090032"+string(rune('1'+2*i))
			f.enroll("gone@example.org", phone)
			f.enroll("other@example.org", other)
			s := f.sendWelcomes()[phone]
			_, emails := f.planLater(phone, "gone@example.org")
			otherSMS, otherEmails := f.planLater(other, "other@example.org")

			f.callback(s, "undelivered", code)

			f.wantDelivery(s.id, "undelivered", code)
			f.wantSuppressedAlone(t, phone, code, untouched{email: "gone@example.org", emails: emails, otherPhone: other, otherSMS: otherSMS, otherEmail: "other@example.org", otherEmails: otherEmails})
			f.wantMetric(`rekindle_deliveries_total{channel="sms",status="undelivered"}`, "1")
		})
	}
}

func TestStatusCallbackBadSignatureChangesNothing(t *testing.T) {
	f := newStatusFixture(t)
	f.enroll("forge@example.org", "+447700900306")
	s := f.sendWelcomes()["+447700900306"]
	f.planLater("+447700900306", "forge@example.org")
	before, states := f.state(), f.deliveryStates()

	form := callbackForm(s, "failed", "21610")
	signedDelivered := callbackForm(s, "delivered", "")
	for name, sig := range map[string]string{
		"no signature":          "-",
		"garbage":               "d3Jvbmcgc2lnbmF0dXJl",
		"another token":         faketwilio.Sign("another-token", base+statusPath, form),
		"signed for SMS hook":   faketwilio.Sign(authToken, base+"/webhooks/twilio/sms", form),
		"signed other contents": faketwilio.Sign(authToken, base+statusPath, signedDelivered),
	} {
		if code := f.post(form, sig); code != http.StatusForbidden {
			t.Errorf("%s: status %d, want 403", name, code)
		}
	}
	sameState(t, "forged callbacks", before, f.state())
	if got := f.deliveryStates(); got != states {
		t.Errorf("forged callbacks changed deliveries:\n%s\n->\n%s", states, got)
	}
	f.wantDelivery(s.id, "sent", "")
	f.wantMetric(hookResult("forbidden"), "5")
}

func TestStatusCallbackUnknownSIDOrMalformed(t *testing.T) {
	f := newStatusFixture(t)
	f.enroll("who@example.org", "+447700900307")
	s := f.sendWelcomes()["+447700900307"]
	before, states := f.state(), f.deliveryStates()

	// An unknown SID is answered 200 (Twilio must not keep calling) and
	// kept, in case its SMS is still being recorded: its first final
	// report, as a delivery would.
	unknown := s
	unknown.sid = "SM" + strings.Repeat("f", 32)
	f.callback(unknown, "failed", "21610")
	f.callback(unknown, "delivered", "")
	if got := f.kept(); got != unknown.sid+":failed:21610" {
		t.Errorf("kept callbacks %q, want the first final report only", got)
	}

	malformed := []url.Values{
		callbackForm(s, "", ""),            // no MessageStatus
		callbackForm(s, "failed", "21x10"), // ErrorCode not a number
	}
	noSID := callbackForm(s, "delivered", "")
	noSID.Del("MessageSid")
	malformed = append(malformed, noSID)
	for _, form := range malformed {
		if code := f.post(form, ""); code != http.StatusBadRequest {
			t.Errorf("%v: status %d, want 400", form, code)
		}
	}
	sameState(t, "unknown and malformed callbacks", before, f.state())
	if got := f.deliveryStates(); got != states {
		t.Errorf("deliveries changed:\n%s\n->\n%s", states, got)
	}
	f.wantDelivery(s.id, "sent", "")
	f.wantMetric(hookResult("kept"), "2")
	f.wantMetric(hookResult("bad_request"), "3")
}

// untouched is what a permanent SMS error must leave alone: the person's
// queued emails, and someone else's queued texts and emails.
type untouched struct {
	email, otherPhone, otherEmail string
	emails, otherSMS, otherEmails int
}

// wantSuppressedAlone checks what a permanent report does: the number is
// suppressed once (reason "provider " + code, source twilio-status), its
// queued SMS are cancelled, one audit event is written, and nothing in u
// changes.
func (f *statusFixture) wantSuppressedAlone(t *testing.T, phone, code string, u untouched) {
	t.Helper()
	var reason, source string
	if err := f.e.Store.DB.QueryRow(`SELECT reason, source FROM suppressions WHERE channel = 'sms' AND address = $1`, phone).Scan(&reason, &source); err != nil {
		t.Fatalf("the number was not suppressed: %v", err)
	}
	if reason != "provider "+code || source != "twilio-status" {
		t.Errorf("suppression %q from %q", reason, source)
	}
	if n := f.count(`SELECT count(*) FROM suppressions`); n != 1 {
		t.Errorf("%d suppressions, want only the one number", n)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE channel = 'sms' AND to_addr = $1 AND status = 'queued'`, phone); n != 0 {
		t.Errorf("%d SMS still queued to the suppressed number", n)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE channel = 'sms' AND to_addr = $1 AND status = 'cancelled' AND error = 'address suppressed'`, phone); n == 0 {
		t.Error("the queued SMS was not cancelled")
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE channel = 'email' AND to_addr = $1 AND status = 'queued'`, u.email); n != u.emails {
		t.Errorf("the person's queued emails went %d -> %d; email is untouched by an SMS error", u.emails, n)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE channel = 'sms' AND to_addr = $1 AND status = 'queued'`, u.otherPhone); n != u.otherSMS {
		t.Errorf("someone else's queued SMS went %d -> %d", u.otherSMS, n)
	}
	if n := f.count(`SELECT count(*) FROM deliveries WHERE channel = 'email' AND to_addr = $1 AND status = 'queued'`, u.otherEmail); n != u.otherEmails {
		t.Errorf("someone else's queued emails went %d -> %d", u.otherEmails, n)
	}
	if n := f.count(`SELECT count(*) FROM events WHERE kind = 'suppressed' AND data->>'reason' = $1`, "provider "+code); n != 1 {
		t.Errorf("%d suppression events, want 1", n)
	}
}
