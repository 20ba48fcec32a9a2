package faketwilio

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/url"
	"sort"
)

// Sign is the X-Twilio-Signature Twilio sends with a form POST to url:
// HMAC-SHA1, keyed by the auth token, over the URL followed by each
// parameter's name and value in name order. Tests sign webhooks with it as
// Twilio would; rekindle checks them with twilio-go's RequestValidator.
func Sign(authToken, u string, form url.Values) string {
	keys := make([]string, 0, len(form))
	for k := range form {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	s := u
	for _, k := range keys {
		s += k + form.Get(k)
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(s))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
