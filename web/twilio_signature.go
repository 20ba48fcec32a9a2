package web

import (
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/twilio/twilio-go/client"
)

// twilioParams parses a Twilio webhook's form and checks its
// X-Twilio-Signature against BaseURL + path (Twilio signs the public URL it
// called, which a proxy in front of us may not pass on). It returns the
// form's first values, or answers 400/403 itself and returns ok false: a
// forged or unsigned request changes nothing.
func (s *server) twilioParams(w http.ResponseWriter, r *http.Request) (params map[string]string, result string, ok bool) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return nil, "bad_request", false
	}
	params = map[string]string{}
	for k, v := range r.PostForm {
		if len(v) > 0 {
			params[k] = v[0]
		}
	}
	u := s.BaseURL + r.URL.Path
	if r.URL.RawQuery != "" {
		u += "?" + r.URL.RawQuery
	}
	sig := r.Header.Get("X-Twilio-Signature")
	v := client.NewRequestValidator(s.TwilioAuthToken)
	// No token means Twilio is not set up here (email only): a signature
	// under an empty HMAC key is one anybody can compute, so it proves
	// nothing and every webhook is refused.
	if s.TwilioAuthToken == "" || sig == "" || !v.Validate(u, params, sig) {
		s.Log.Warn("web: twilio webhook with a missing or wrong signature", "path", r.URL.Path, "ip", s.clientIP(r))
		http.Error(w, "forbidden", http.StatusForbidden)
		return nil, "forbidden", false
	}
	// Twilio sends UTF-8; anything else (or a NUL) cannot be stored and
	// would fail in the database as a 5xx that Twilio retries for nothing.
	for k, v := range params {
		if !utf8.ValidString(k) || !utf8.ValidString(v) || strings.ContainsRune(v, 0) {
			http.Error(w, fmt.Sprintf("%q must be UTF-8 text without NUL characters", k), http.StatusBadRequest)
			return nil, "bad_request", false
		}
	}
	return params, "", true
}
