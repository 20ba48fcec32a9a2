package web

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

// Behind a trusted reverse proxy each visitor has their own sign-up budget
// and their own address in the consent record; a client cannot choose its
// address by writing X-Forwarded-For itself. Without the setting the header
// is ignored: every request is the connection's.
func TestSignupLimitAndConsentPerForwardedClient(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []netip.Prefix
		// want per request: status and the consent IP recorded for a 202
		want []string
	}{
		{"behind a trusted proxy", []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")},
			[]string{"202 203.0.113.7", "202 198.51.100.9", "429", "429"}},
		{"no proxy trusted", nil,
			[]string{"202 127.0.0.1", "429", "429", "429"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, _ := testDeps(t)
			d.TrustedProxies, d.SignupBurst, d.SignupRate = tc.trusted, 1, 0.0001
			h, err := New(d)
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(h)
			t.Cleanup(srv.Close)
			forwarded := []string{
				"203.0.113.7",
				"198.51.100.9",
				"203.0.113.7",           // the first visitor again: over budget
				"10.9.9.9, 203.0.113.7", // ... whatever they put in front
			}
			for i, xff := range forwarded {
				body := fmt.Sprintf(`{"program":"basic","first_name":"V","email":"v%d@example.org","timezone":"Europe/London","consent_email":true}`, i)
				req, _ := http.NewRequest("POST", srv.URL+"/api/v1/subscriptions", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", xff)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				got := fmt.Sprint(resp.StatusCode)
				if resp.StatusCode == http.StatusAccepted {
					var ip string
					if err := d.Engine.Store.DB.Get(&ip, `SELECT c.ip FROM consents c JOIN subscribers s ON s.id = c.subscriber_id
						WHERE s.email = $1`, fmt.Sprintf("v%d@example.org", i)); err != nil {
						t.Fatal(err)
					}
					got += " " + ip
				}
				if got != tc.want[i] {
					t.Errorf("request %d (X-Forwarded-For %q): %s, want %s", i, xff, got, tc.want[i])
				}
			}
		})
	}
}
