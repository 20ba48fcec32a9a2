package channel

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/faketwilio"
)

const (
	testAccountSID = "AC0123456789abcdef0123456789abcdef"
	testAuthToken  = "0123456789abcdef0123456789abcdef"
)

func startFakeTwilio(t testing.TB) *faketwilio.Server {
	t.Helper()
	srv := faketwilio.New()
	t.Cleanup(srv.Close)
	return srv
}

func testTwilioConfig(srv *faketwilio.Server) TwilioConfig {
	return TwilioConfig{
		AccountSID:        testAccountSID,
		AuthToken:         testAuthToken,
		From:              "+15005550006",
		APIURL:            srv.URL(),
		StatusCallbackURL: "https://rekindle.example.org/hooks/twilio/status",
		Timeout:           5 * time.Second,
	}
}

func newTwilioSender(t testing.TB, cfg TwilioConfig) Sender {
	t.Helper()
	ch, err := NewTwilio(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ch.NewSender()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func testSMS(id int64) Message {
	return Message{DeliveryID: id, Channel: SMS, To: "+15551234567", Text: "Your code is 1234. Reply STOP to opt out."}
}

func TestTwilioSendsThroughRealClient(t *testing.T) {
	srv := startFakeTwilio(t)
	srv.RequireAuth(testAccountSID, testAuthToken)
	s := newTwilioSender(t, testTwilioConfig(srv))
	res, err := s.Send(context.Background(), testSMS(1))
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages recorded", len(msgs))
	}
	got := msgs[0]
	if got.To != "+15551234567" || got.From != "+15005550006" || got.Body != testSMS(1).Text ||
		got.StatusCallback != "https://rekindle.example.org/hooks/twilio/status" || got.MessagingServiceSID != "" {
		t.Errorf("recorded %+v", got)
	}
	if got.AccountSID != testAccountSID || got.Username != testAccountSID || got.Password != testAuthToken {
		t.Errorf("account %q, basic auth %q/%q", got.AccountSID, got.Username, got.Password)
	}
	if res.ProviderID != got.SID || !faketwilio.IsSID(res.ProviderID, "SM") {
		t.Errorf("ProviderID %q, recorded SID %q", res.ProviderID, got.SID)
	}
	if !strings.Contains(res.Detail, "queued") {
		t.Errorf("Detail %q", res.Detail)
	}
	// The connection is kept for the next sends, error replies included.
	srv.FailNext(1, 400, 21211, "Invalid 'To' Phone Number")
	for i := range 5 {
		_, err := s.Send(context.Background(), testSMS(int64(i+2)))
		if (err != nil) != (i == 0) {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	if n := srv.Connections(); n != 1 {
		t.Errorf("%d connections for 6 sends, want 1", n)
	}
}

func TestTwilioMessagingServiceAndAPIKey(t *testing.T) {
	srv := startFakeTwilio(t)
	srv.RequireAuth("SK0123456789abcdef0123456789abcdef", "keysecret123")
	cfg := testTwilioConfig(srv)
	cfg.From = ""
	cfg.AuthToken = ""
	cfg.APIKey, cfg.APISecret = "SK0123456789abcdef0123456789abcdef", "keysecret123"
	cfg.MessagingServiceSID = "MG0123456789abcdef0123456789abcdef"
	cfg.StatusCallbackURL = ""
	s := newTwilioSender(t, cfg)
	res, err := s.Send(context.Background(), testSMS(1))
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()[0]
	if got.MessagingServiceSID != cfg.MessagingServiceSID || got.From != "" || got.AccountSID != testAccountSID {
		t.Errorf("recorded %+v", got)
	}
	if _, ok := got.Form["StatusCallback"]; ok {
		t.Error("StatusCallback sent though not configured")
	}
	if _, ok := got.Form["From"]; ok {
		t.Error("From sent though not configured")
	}
	if !strings.Contains(res.Detail, "accepted") {
		t.Errorf("Detail %q", res.Detail)
	}
}

func wantTwilioError(t *testing.T, err error, permanent bool, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want %v/%s", permanent, code)
	}
	p, c := Classify(err)
	if p != permanent || c != code {
		t.Fatalf("Classify(%v) = %v, %q; want %v, %q", err, p, c, permanent, code)
	}
	if !strings.HasPrefix(errors.Unwrap(err).Error(), "twilio: ") {
		t.Errorf("error %q lacks the twilio: prefix", errors.Unwrap(err))
	}
}

func TestTwilioInvalidNumberIsPermanentAndSuppresses(t *testing.T) {
	srv := startFakeTwilio(t)
	s := newTwilioSender(t, testTwilioConfig(srv))
	srv.FailNext(1, 400, 21211, "Invalid 'To' Phone Number: +15551234567")
	_, err := s.Send(context.Background(), testSMS(1))
	wantTwilioError(t, err, true, "21211")
	if !TwilioCodeSuppresses(21211) || !ShouldSuppress(err) {
		t.Error("21211 should suppress")
	}
	if strings.Contains(err.Error(), "+15551234567") || !strings.Contains(err.Error(), "+1******4567") {
		t.Errorf("number not masked: %v", err)
	}
	// The fake's own validation gives the same answer for a bad number.
	m := testSMS(2)
	m.To = "0800 not a number"
	_, err = s.Send(context.Background(), m)
	wantTwilioError(t, err, true, "21211")
	if len(srv.Messages()) != 0 {
		t.Error("message recorded")
	}
}

func TestTwilioBadRequestIsPermanentWithoutSuppression(t *testing.T) {
	srv := startFakeTwilio(t)
	s := newTwilioSender(t, testTwilioConfig(srv))
	m := testSMS(1)
	m.Text = ""
	_, err := s.Send(context.Background(), m)
	wantTwilioError(t, err, true, "21602")
	if ShouldSuppress(err) {
		t.Error("an empty body is our fault, not the number's")
	}
}

func TestTwilio500TwiceThenSuccess(t *testing.T) {
	srv := startFakeTwilio(t)
	s := newTwilioSender(t, testTwilioConfig(srv))
	srv.FailNext(2, 500, 20500, "Internal Server Error")
	for i := range 2 {
		_, err := s.Send(context.Background(), testSMS(1))
		wantTwilioError(t, err, false, "20500")
		if i == 0 && ShouldSuppress(err) {
			t.Error("500 suppresses")
		}
	}
	res, err := s.Send(context.Background(), testSMS(1))
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.Messages()
	if len(msgs) != 1 || msgs[0].SID != res.ProviderID || srv.Requests() != 3 {
		t.Fatalf("messages %d, requests %d", len(msgs), srv.Requests())
	}
}

func TestTwilio500WithoutJSONIsRetryable(t *testing.T) {
	srv := startFakeTwilio(t)
	s := newTwilioSender(t, testTwilioConfig(srv))
	srv.Inject(1, faketwilio.Fault{Status: 502, RawBody: "<html><body>Bad Gateway</body></html>"})
	_, err := s.Send(context.Background(), testSMS(1))
	wantTwilioError(t, err, false, "502")
}

// A success reply whose body cannot be read (a proxy's page, a truncated
// body) may mean the SMS went out: the delivery is retried, never failed,
// and no number is suppressed for it. A 4xx page without Twilio's JSON
// (code 0) is retried for the same reason.
func TestTwilioUnreadableRepliesAreRetried(t *testing.T) {
	srv := startFakeTwilio(t)
	s := newTwilioSender(t, testTwilioConfig(srv))
	srv.Inject(1, faketwilio.Fault{Status: 201, RawBody: "<html>Created</html>"})
	_, err := s.Send(context.Background(), testSMS(1))
	wantTwilioError(t, err, false, "response")
	srv.Inject(1, faketwilio.Fault{Status: 400, RawBody: "<html>Bad Request</html>"})
	_, err = s.Send(context.Background(), testSMS(2))
	wantTwilioError(t, err, false, "400")
	if ShouldSuppress(err) {
		t.Error("a 400 page without a Twilio code suppresses the number")
	}
}

func TestTwilio429IsRetryable(t *testing.T) {
	srv := startFakeTwilio(t)
	s := newTwilioSender(t, testTwilioConfig(srv))
	srv.FailNext(1, 429, 20429, "Too Many Requests")
	_, err := s.Send(context.Background(), testSMS(1))
	wantTwilioError(t, err, false, "20429")
	srv.FailNext(1, 429, 0, "Too Many Requests")
	_, err = s.Send(context.Background(), testSMS(1))
	wantTwilioError(t, err, false, "429")
}

func TestTwilioBadCredentialsAreRetryable(t *testing.T) {
	srv := startFakeTwilio(t)
	srv.RequireAuth(testAccountSID, "anothertoken")
	s := newTwilioSender(t, testTwilioConfig(srv))
	_, err := s.Send(context.Background(), testSMS(1))
	// Our credentials: every delivery would fail, none may be suppressed.
	wantTwilioError(t, err, false, "20003")
}

func TestTwilioHangTimesOut(t *testing.T) {
	srv := startFakeTwilio(t)
	cfg := testTwilioConfig(srv)
	cfg.Timeout = 300 * time.Millisecond
	s := newTwilioSender(t, cfg)
	srv.HangNext(1, 10*time.Second)
	start := time.Now()
	_, err := s.Send(context.Background(), testSMS(1))
	wantTwilioError(t, err, false, "timeout")
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Send took %v with a 300ms timeout", elapsed)
	}
	if _, err := s.Send(context.Background(), testSMS(2)); err != nil {
		t.Fatalf("send after the timeout: %v", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages, want 1", n)
	}
}

func TestTwilioContextCancel(t *testing.T) {
	srv := startFakeTwilio(t)
	s := newTwilioSender(t, testTwilioConfig(srv)) // 5s timeout
	srv.HangNext(1, 10*time.Second)
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	_, err := s.Send(ctx, testSMS(1))
	wantTwilioError(t, err, false, "canceled")
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("Send took %v after cancel", elapsed)
	}
}

func TestTwilioNetworkError(t *testing.T) {
	srv := startFakeTwilio(t)
	cfg := testTwilioConfig(srv)
	srv.Close()
	s := newTwilioSender(t, cfg)
	_, err := s.Send(context.Background(), testSMS(1))
	wantTwilioError(t, err, false, "network")
}

func TestTwilioAPIURLWithPath(t *testing.T) {
	srv := startFakeTwilio(t)
	cfg := testTwilioConfig(srv)
	cfg.APIURL = srv.URL() + "/prefix/"
	s := newTwilioSender(t, cfg)
	_, err := s.Send(context.Background(), testSMS(1))
	// The fake does not serve under /prefix: 404 with code 20404 (our URL).
	wantTwilioError(t, err, false, "20404")
}

func TestTwilioClassification(t *testing.T) {
	cases := []struct {
		status, code int
		permanent    bool
		suppress     bool
		wantCode     string
	}{
		{400, 21211, true, true, "21211"},
		{400, 21214, true, true, "21214"},
		{400, 21610, true, true, "21610"},
		{400, 21614, true, true, "21614"},
		{400, 21217, true, true, "21217"},
		{400, 21602, true, false, "21602"},
		{400, 21617, true, false, "21617"},
		{400, 21219, true, false, "21219"},
		{400, 21612, true, false, "21612"},
		{400, 21408, false, false, "21408"},
		{400, 21606, false, false, "21606"},
		{401, 20003, false, false, "20003"},
		{404, 20404, false, false, "20404"},
		{429, 20429, false, false, "20429"},
		{500, 20500, false, false, "20500"},
		{503, 0, false, false, "503"},
		{418, 0, false, false, "418"},
	}
	for _, tc := range cases {
		err := classifyTwilioAPI(tc.status, tc.code, errors.New("x"))
		p, c := Classify(err)
		if p != tc.permanent || c != tc.wantCode || ShouldSuppress(err) != tc.suppress {
			t.Errorf("%d/%d: permanent %v code %q suppress %v", tc.status, tc.code, p, c, ShouldSuppress(err))
		}
	}
	for _, code := range []int{30003, 30004, 30007, 21408, 21612, 21219} {
		if TwilioCodeSuppresses(code) {
			t.Errorf("%d suppresses", code)
		}
	}
	for _, code := range []int{30005, 30006} {
		if !TwilioCodeSuppresses(code) {
			t.Errorf("%d does not suppress", code)
		}
	}
}

// Failures of our own account, sender or configuration hit every delivery
// alike: failing them at once would fail (and, for some, suppress) the whole
// list before an operator could fix the cause. Whatever HTTP status Twilio
// pairs them with, they are retried.
func TestTwilioAccountAndSenderCodesAreRetried(t *testing.T) {
	for code := range twilioRetryCodes {
		for _, status := range []int{400, 403} {
			err := classifyTwilioAPI(status, code, errors.New("x"))
			if p, c := Classify(err); p || c != strconv.Itoa(code) || ShouldSuppress(err) {
				t.Errorf("%d/%d: permanent %v code %q suppress %v", status, code, p, c, ShouldSuppress(err))
			}
		}
	}
	// The list the operator relies on, spelled out so that dropping one is
	// seen here and not in production.
	for _, code := range []int{20003, 20005, 20008, 20404, 20429, 21212, 21606, 21611, 21659, 21660, 21701, 21703, 21408, 30001, 30002} {
		if !twilioRetryCodes[code] {
			t.Errorf("%d is not retried", code)
		}
	}
}

// 401, 403, 404 and 429 are about our credentials, URL or rate, and 5xx
// about Twilio: retried whatever Twilio code comes with them, including a
// code this table does not know yet (99999 here) and one that would
// otherwise suppress the number.
func TestTwilioStatusDecidesBeforeTheCode(t *testing.T) {
	for _, status := range []int{401, 403, 404, 429, 500, 502, 503} {
		for _, code := range []int{99999, 21211} {
			err := classifyTwilioAPI(status, code, errors.New("x"))
			if p, _ := Classify(err); p || ShouldSuppress(err) {
				t.Errorf("%d/%d: permanent %v suppress %v", status, code, p, ShouldSuppress(err))
			}
		}
	}
}

// An operator who sets no timeout gets the 10s default, not a zero timeout
// that would fail every send before it starts.
func TestTwilioDefaultTimeoutSends(t *testing.T) {
	srv := startFakeTwilio(t)
	cfg := testTwilioConfig(srv)
	cfg.Timeout = 0
	ch, err := NewTwilio(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := ch.(*twilioChannel).cfg.Timeout; got != 10*time.Second {
		t.Errorf("default Timeout %v, want 10s", got)
	}
	s := newTwilioSender(t, cfg)
	if _, err := s.Send(context.Background(), testSMS(1)); err != nil {
		t.Fatalf("send with the default timeout: %v", err)
	}
}

func TestNewTwilioValidates(t *testing.T) {
	good := TwilioConfig{AccountSID: testAccountSID, AuthToken: testAuthToken, From: "+15005550006"}
	ch, err := NewTwilio(good, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ch.Kind() != SMS || ch.Name() != "twilio" {
		t.Errorf("Kind %q Name %q", ch.Kind(), ch.Name())
	}
	cases := []struct {
		field string
		mod   func(*TwilioConfig)
	}{
		{"AccountSID", func(c *TwilioConfig) { c.AccountSID = "" }},
		{"AccountSID", func(c *TwilioConfig) { c.AccountSID = "XX123" }},
		{"AuthToken", func(c *TwilioConfig) { c.AuthToken = "" }},
		{"AuthToken", func(c *TwilioConfig) { c.AuthToken = "with space" }},
		{"APISecret", func(c *TwilioConfig) { c.APIKey = "SKabc" }},
		{"APIKey and APISecret must be set together", func(c *TwilioConfig) { c.APISecret = "secret" }},
		{"From or MessagingServiceSID", func(c *TwilioConfig) { c.From = "" }},
		{"MessagingServiceSID", func(c *TwilioConfig) { c.MessagingServiceSID = "nope" }},
		{"APIURL", func(c *TwilioConfig) { c.APIURL = "ftp://x" }},
		{"StatusCallbackURL", func(c *TwilioConfig) { c.StatusCallbackURL = "/relative" }},
		{"StatusCallbackURL", func(c *TwilioConfig) { c.StatusCallbackURL = "https:///hooks/twilio/status" }},
		{"APIURL", func(c *TwilioConfig) { c.APIURL = "https://api.twilio.com?x=1" }},
		{"Timeout", func(c *TwilioConfig) { c.Timeout = -time.Second }},
	}
	for _, tc := range cases {
		cfg := good
		tc.mod(&cfg)
		_, err := NewTwilio(cfg, nil)
		if err == nil || !strings.Contains(err.Error(), tc.field) || !strings.HasPrefix(err.Error(), "twilio: config: ") {
			t.Errorf("%s: error %v", tc.field, err)
		}
	}
}
