package web

import "net/url"

// signupValues is a sign-up form filled in as a person would: a first name,
// a time zone, and each address given with its consent box ticked.
func signupValues(name, email, phone string) url.Values {
	v := url.Values{"first_name": {name}, "timezone": {"Europe/London"}}
	if email != "" {
		v.Set("email", email)
		v.Set("consent_email", "yes")
	}
	if phone != "" {
		v.Set("phone", phone)
		v.Set("consent_sms", "yes")
	}
	return v
}
