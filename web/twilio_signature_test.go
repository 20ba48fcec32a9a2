package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/internal/faketwilio"
)

// A deployment without Twilio (email only) has no auth token. Its webhooks
// must still refuse everything: an HMAC with an empty key is one anybody
// can compute, so a "valid" signature under it proves nothing. Both hooks
// are posted a request signed exactly as Twilio would sign it with an
// empty token: a STOP from an enrolled number, and a permanent failure
// report; each is refused 403 and nothing is stored or changed.
func TestEmptyTwilioAuthTokenRefusesEmptyKeySignatures(t *testing.T) {
	d, _ := testDeps(t)
	d.TwilioAuthToken = ""
	h, err := New(d)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	f := &fixture{t: t, e: d.Engine, links: d.Links, srv: srv}
	f.enroll("nokey@example.org", "+447700900208")
	before := f.state()

	post := func(path string, form url.Values) (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", faketwilio.Sign("", base+path, form))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	stop := url.Values{"MessageSid": {"SMemptykey1"}, "From": {"+447700900208"}, "To": {"+15550100000"}, "Body": {"STOP"}, "AccountSid": {"ACtest"}}
	if code, body := post("/webhooks/twilio/sms", stop); code != http.StatusForbidden {
		t.Errorf("inbound STOP signed with an empty key: status %d, want 403 (%s)", code, body)
	}
	failed := callbackForm(sentSMS{sid: "SM" + strings.Repeat("e", 32), phone: "+447700900208"}, "failed", "21610")
	if code, body := post(statusPath, failed); code != http.StatusForbidden {
		t.Errorf("status callback signed with an empty key: status %d, want 403 (%s)", code, body)
	}

	sameState(t, "webhooks signed with an empty key", before, f.state())
	if n := f.count(`SELECT count(*) FROM status_callbacks`); n != 0 {
		t.Errorf("%d status callbacks kept, want none", n)
	}
	if n := f.count(`SELECT count(*) FROM subscribers WHERE phone = '+447700900208' AND sms_status = 'confirmed'`); n != 1 {
		t.Error("the number's texts are no longer confirmed")
	}
}
