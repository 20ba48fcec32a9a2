package faketwilio_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/faketwilio"
)

const account = "AC0123456789abcdef0123456789abcdef"

func post(t *testing.T, base string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", base+"/2010-04-01/Accounts/"+account+"/Messages.json", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(account, "token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return resp.StatusCode, body
}

func form(kv ...string) url.Values {
	v := url.Values{}
	for i := 0; i < len(kv); i += 2 {
		v.Set(kv[i], kv[i+1])
	}
	return v
}

func TestAcceptsAndRecords(t *testing.T) {
	srv := faketwilio.New()
	defer srv.Close()
	status, body := post(t, srv.URL(), form("To", "+15551234567", "From", "+15005550006", "Body", "hi",
		"StatusCallback", "https://cb.example/s"))
	if status != 201 || body["status"] != "queued" || body["to"] != "+15551234567" || body["num_segments"] != "1" {
		t.Fatalf("%d %v", status, body)
	}
	sid, _ := body["sid"].(string)
	if !faketwilio.IsSID(sid, "SM") {
		t.Errorf("sid %q", sid)
	}
	m := srv.Messages()[0]
	if m.SID != sid || m.AccountSID != account || m.Username != account || m.Password != "token" ||
		m.StatusCallback != "https://cb.example/s" || m.Body != "hi" {
		t.Errorf("recorded %+v", m)
	}

	_, body = post(t, srv.URL(), form("To", "+15551234567", "MessagingServiceSid", "MG0123", "Body", "hi"))
	if body["status"] != "accepted" || body["from"] != nil {
		t.Errorf("messaging service reply %v", body)
	}
}

func TestValidation(t *testing.T) {
	srv := faketwilio.New()
	defer srv.Close()
	for _, tc := range []struct {
		form url.Values
		code float64
	}{
		{form("From", "+15005550006", "Body", "x"), 21604},
		{form("To", "12345", "From", "+15005550006", "Body", "x"), 21211},
		{form("To", "+15551234567", "Body", "x"), 21603},
		{form("To", "+15551234567", "From", "+15005550006"), 21602},
		{form("To", "+15551234567", "From", "+15005550006", "Body", strings.Repeat("x", 1601)), 21617},
	} {
		status, body := post(t, srv.URL(), tc.form)
		if status != 400 || body["code"] != tc.code || body["status"] != float64(400) ||
			body["more_info"] != fmt.Sprintf("https://www.twilio.com/docs/errors/%d", int(tc.code)) {
			t.Errorf("%v: %d %v", tc.form, status, body)
		}
	}
	if len(srv.Messages()) != 0 {
		t.Error("invalid message recorded")
	}
	// No credentials.
	resp, err := http.PostForm(srv.URL()+"/2010-04-01/Accounts/"+account+"/Messages.json", form("To", "+15551234567"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 {
		t.Errorf("no auth: %d", resp.StatusCode)
	}
}

func TestFaultsAndControlAPI(t *testing.T) {
	srv, err := faketwilio.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	good := form("To", "+15551234567", "From", "+15005550006", "Body", "x")

	// Faults over HTTP, as a separate process would set them.
	resp, err := http.Post(srv.URL()+"/_fake/faults", "application/json",
		strings.NewReader(`{"n":2,"status":500,"code":20500,"message":"Internal Server Error"}`))
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("%v %v", resp, err)
	}
	srv.Inject(1, faketwilio.Fault{Status: 502, RawBody: "<html>bad gateway</html>"})
	for range 2 {
		if status, body := post(t, srv.URL(), good); status != 500 || body["code"] != float64(20500) {
			t.Fatalf("%d %v", status, body)
		}
	}
	req, _ := http.NewRequest("POST", srv.URL()+"/2010-04-01/Accounts/"+account+"/Messages.json", strings.NewReader(good.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(account, "t")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 502 || string(raw) != "<html>bad gateway</html>" {
		t.Fatalf("%d %q", r.StatusCode, raw)
	}
	if status, _ := post(t, srv.URL(), good); status != 201 {
		t.Fatalf("after faults: %d", status)
	}

	resp, err = http.Get(srv.URL() + "/_fake/messages")
	if err != nil {
		t.Fatal(err)
	}
	var msgs []faketwilio.Message
	_ = json.NewDecoder(resp.Body).Decode(&msgs)
	resp.Body.Close()
	if len(msgs) != 1 || msgs[0].To != "+15551234567" || msgs[0].Password != "" {
		t.Errorf("messages over HTTP: %+v", msgs)
	}
	if srv.Requests() != 4 || srv.Connections() < 1 {
		t.Errorf("requests %d connections %d", srv.Requests(), srv.Connections())
	}
	resp, _ = http.Post(srv.URL()+"/_fake/reset", "", nil)
	resp.Body.Close()
	if len(srv.Messages()) != 0 || srv.Requests() != 0 {
		t.Error("reset did not reset")
	}
}

// Close does not wait for a request that hangs on purpose.
func TestCloseWakesHangingRequest(t *testing.T) {
	srv := faketwilio.New()
	srv.HangNext(1, time.Hour)
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequest("POST", srv.URL()+"/2010-04-01/Accounts/"+account+"/Messages.json", nil)
		req.SetBasicAuth(account, "t")
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
	}()
	for srv.Requests() == 0 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	srv.Close()
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Close took %v", took)
	}
	<-done
	srv.Close()
}
