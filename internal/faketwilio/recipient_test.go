package faketwilio_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/internal/faketwilio"
)

// Faults for one number hit only that number, ahead of the shared queue;
// an outage answers everything until it ends; attempts are counted per
// number whatever the answer.
func TestRecipientFaultsOutageAndAttempts(t *testing.T) {
	srv, err := faketwilio.Serve("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	to := func(n string) map[string][]string {
		return form("To", n, "From", "+15005550006", "Body", "x")
	}
	const bad, other = "+15550001111", "+15550002222"

	srv.InjectTo(bad, 2, faketwilio.Fault{Status: 400, Code: 21211, Message: "Invalid 'To' Phone Number"})
	srv.FailNext(1, 429, 20429, "Too Many Requests")
	steps := []struct {
		to         string
		wantStatus int
	}{
		{other, 429}, // the shared queue, not the number's faults
		{bad, 400},
		{other, 201},
		{bad, 400},
		{bad, 201},
	}
	for i, st := range steps {
		if status, body := post(t, srv.URL(), to(st.to)); status != st.wantStatus {
			t.Fatalf("step %d (%s): %d %v, want %d", i, st.to, status, body, st.wantStatus)
		}
	}

	// The same over the control API, as another process would drive it.
	resp, err := http.Post(srv.URL()+"/_fake/faults", "application/json", strings.NewReader(`{"to":"`+bad+`","status":500,"code":20500}`))
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("%v %v", resp, err)
	}
	resp, err = http.Post(srv.URL()+"/_fake/outage", "application/json", strings.NewReader(`{"status":503}`))
	if err != nil || resp.StatusCode != 204 {
		t.Fatalf("%v %v", resp, err)
	}
	for _, n := range []string{other, other} {
		if status, _ := post(t, srv.URL(), to(n)); status != 503 {
			t.Fatalf("during the outage: %d, want 503", status)
		}
	}
	if status, _ := post(t, srv.URL(), to(bad)); status != 500 {
		t.Fatalf("a number's fault during an outage: %d, want it first (500)", status)
	}
	req, _ := http.NewRequest("DELETE", srv.URL()+"/_fake/outage", nil)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("end outage: %v %v", resp, err)
	}
	if status, _ := post(t, srv.URL(), to(other)); status != 201 {
		t.Fatalf("after the outage: %d", status)
	}

	if srv.AttemptsTo(bad) != 4 || srv.AttemptsTo(other) != 5 || srv.AttemptsTo("+15559999999") != 0 {
		t.Errorf("attempts: bad %d, other %d", srv.AttemptsTo(bad), srv.AttemptsTo(other))
	}
	resp, err = http.Get(srv.URL() + "/_fake/attempts?to=" + strings.ReplaceAll(bad, "+", "%2B"))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]int
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got["attempts"] != 4 {
		t.Errorf("attempts over HTTP: %v", got)
	}
	if n := len(srv.Messages()); n != 3 {
		t.Errorf("%d messages accepted, want 3", n)
	}
	srv.InjectTo(bad, 1, faketwilio.Fault{Status: 500})
	srv.SetOutage(faketwilio.Fault{Status: 503})
	srv.Reset()
	if status, _ := post(t, srv.URL(), to(bad)); status != 201 || srv.AttemptsTo(bad) != 1 {
		t.Errorf("after Reset: %d, %d attempts", status, srv.AttemptsTo(bad))
	}
}
