package web

import (
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rekindle/rekindle/internal/faketwilio"
	"github.com/rekindle/rekindle/internal/testdb"
	"github.com/rekindle/rekindle/token"
)

// badRequest is one malformed request and what it must get.
type badRequest struct {
	name   string
	method string
	path   string
	ctype  string // Content-Type; "form" and "json" are short for the usual ones
	body   string
	sign   url.Values        // when set: a Twilio-signed form (the body is its encoding)
	header map[string]string // extra headers (cookies)
	want   int
	field  string // what the answer must name: the field, flag or link at fault
}

// TestBadInputChangesNothing sends every endpoint malformed input: each gets
// a clear 4xx naming what is wrong, and no table gains or loses a row.
func TestBadInputChangesNothing(t *testing.T) {
	f := newFixture(t)
	sub, enr := f.enroll("bad@example.org", "+447700900401")
	f.planUntil(utc("2026-06-07T18:30:00Z")) // Sunday evening: the mood check-in is open
	var checkinTok string
	if err := f.e.Store.DB.Get(&checkinTok, `SELECT token FROM checkins WHERE enrollment_id = $1 ORDER BY opened_at DESC LIMIT 1`, enr); err != nil {
		t.Fatal(err)
	}
	signer := f.links.Signer
	now := f.clk.Now()
	sign := func(purpose, subject string, exp time.Time) string { return signer.Sign(purpose, subject, exp) }
	later := now.Add(time.Hour)
	manage := "/manage/" + sign(token.Manage, fmt.Sprintf("s%d", sub), later)

	// The sign-up form needs its CSRF pair: a cookie and the signed nonce.
	nonce := "badinput-nonce-0123456789"
	cookie := map[string]string{"Cookie": csrfCookie + "=" + nonce}
	form := func(kv ...string) string {
		v := url.Values{"csrf": {sign("csrf", nonce, later)}, "first_name": {"Bo"}, "email": {"bo@example.org"},
			"timezone": {"Europe/London"}, "consent_email": {"yes"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "<del>" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v.Encode()
	}
	api := func(fields string) string {
		return `{"program":"basic","first_name":"Ann","email":"ann@example.org","timezone":"Europe/London","consent_email":true` + fields + `}`
	}
	sms := func(kv ...string) url.Values {
		v := url.Values{"MessageSid": {"SMbad0000000000000000000000000001"}, "From": {"+447700900401"}, "To": {"+15550100000"}, "Body": {"STOP"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "<del>" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	status := func(kv ...string) url.Values {
		v := url.Values{"MessageSid": {"SM" + strings.Repeat("e", 32)}, "MessageStatus": {"failed"}, "ErrorCode": {"21610"}, "To": {"+447700900401"}}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "<del>" {
				v.Del(kv[i])
			} else {
				v.Set(kv[i], kv[i+1])
			}
		}
		return v
	}
	noise := strings.Repeat("Zq9x", 800) // 3,200 bytes that do not compress

	cases := []badRequest{
		// POST /api/v1/subscriptions
		{name: "api: not JSON content type", method: "POST", path: "/api/v1/subscriptions", ctype: "text/plain", body: api(""), want: 415, field: "application/json"},
		{name: "api: broken JSON", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: `{"program":`, want: 400, field: "not valid JSON"},
		{name: "api: a list, not an object", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: `[]`, want: 400, field: "not valid JSON"},
		{name: "api: first_name a number", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: `{"program":"basic","first_name":5}`, want: 400, field: `"field":"first_name"`},
		{name: "api: consent a string", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `true`, `"yes"`, 1), want: 400, field: `"field":"consent_email","message":"consent_email must be true or false`},
		{name: "api: unknown program", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `"basic"`, `"nope"`, 1), want: 400, field: `"field":"program"`},
		{name: "api: no first name", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `"Ann"`, `"  "`, 1), want: 400, field: `"field":"first_name"`},
		{name: "api: NUL in first name", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `"Ann"`, `"A\u0000nn"`, 1), want: 400, field: `"field":"first_name"`},
		{name: "api: control character in first name", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `"Ann"`, `"A\u0007nn"`, 1), want: 400, field: `"field":"first_name"`},
		{name: "api: markup in first name", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `"Ann"`, `"<b>Ann</b>"`, 1), want: 400, field: `"field":"first_name"`},
		{name: "api: first name not UTF-8", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `"Ann"`, "\"A\xffnn\"", 1), want: 400, field: `"field":"first_name"`},
		{name: "api: email not UTF-8", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `"ann@example.org"`, "\"ann\xc3@example.org\"", 1), want: 400, field: `"field":"email"`},
		{name: "api: first name too long", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `"Ann"`, `"`+strings.Repeat("a", 101)+`"`, 1), want: 400, field: `"field":"first_name"`},
		{name: "api: no email and no phone", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `"ann@example.org"`, `""`, 1), want: 400, field: `"field":"email"`},
		{name: "api: bad email", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `"ann@example.org"`, `"ann@@example"`, 1), want: 400, field: `"field":"email"`},
		{name: "api: email with a NUL", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `"ann@example.org"`, `"ann\u0000@example.org"`, 1), want: 400, field: `"field":"email"`},
		{name: "api: email without consent", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `true`, `false`, 1), want: 400, field: `"field":"consent_email"`},
		{name: "api: short phone", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: api(`,"phone":"12345","consent_sms":true`), want: 400, field: `"field":"phone"`},
		{name: "api: words for a phone", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: api(`,"phone":"call me maybe","consent_sms":true`), want: 400, field: `"field":"phone"`},
		{name: "api: phone without consent", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: api(`,"phone":"+447400123456"`), want: 400, field: `"field":"consent_sms"`},
		{name: "api: unknown zone", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `Europe/London`, `Mars/Olympus`, 1), want: 400, field: `"field":"timezone"`},
		{name: "api: the server's Local zone", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `Europe/London`, `Local`, 1), want: 400, field: `"field":"timezone"`},
		{name: "api: a path for a zone", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `Europe/London`, `../../../etc/passwd`, 1), want: 400, field: `"field":"timezone"`},
		{name: "api: no zone", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: strings.Replace(api(""), `"Europe/London"`, `""`, 1), want: 400, field: `"field":"timezone"`},
		{name: "api: body over 64 KiB", method: "POST", path: "/api/v1/subscriptions", ctype: "json", body: api(`,"x":"` + strings.Repeat("x", 70<<10) + `"`), want: 413, field: "too large"},

		// POST /subscribe/{program}
		{name: "form: no CSRF token", method: "POST", path: "/subscribe/basic", ctype: "form", body: form("csrf", "<del>"), header: cookie, want: 403, field: "from another site"},
		{name: "form: forged CSRF token", method: "POST", path: "/subscribe/basic", ctype: "form", body: form("csrf", sign("csrf", "another-nonce-0123456789", later)), header: cookie, want: 403, field: "from another site"},
		{name: "form: unknown program", method: "POST", path: "/subscribe/nope", ctype: "form", body: form(), header: cookie, want: 404, field: "couldn't find that program"},
		{name: "form: unreadable body", method: "POST", path: "/subscribe/basic", ctype: "form", body: "first_name=%zz", header: cookie, want: 400, field: "couldn't read the form"},
		{name: "form: no first name", method: "POST", path: "/subscribe/basic", ctype: "form", body: form("first_name", ""), header: cookie, want: 400, field: `id="first_name-error"`},
		{name: "form: NUL in first name", method: "POST", path: "/subscribe/basic", ctype: "form", body: form("first_name", "B\x00o"), header: cookie, want: 400, field: `id="first_name-error"`},
		{name: "form: first name not UTF-8", method: "POST", path: "/subscribe/basic", ctype: "form", body: form("first_name", "B\xffo"), header: cookie, want: 400, field: `id="first_name-error"`},
		{name: "form: bad email", method: "POST", path: "/subscribe/basic", ctype: "form", body: form("email", "bo at example.org"), header: cookie, want: 400, field: `id="email-error"`},
		{name: "form: email not UTF-8", method: "POST", path: "/subscribe/basic", ctype: "form", body: form("email", "b\xff@example.org"), header: cookie, want: 400, field: `id="email-error"`},
		{name: "form: email without consent", method: "POST", path: "/subscribe/basic", ctype: "form", body: form("consent_email", "<del>"), header: cookie, want: 400, field: "tick the box"},
		{name: "form: bad phone", method: "POST", path: "/subscribe/basic", ctype: "form", body: form("phone", "not a phone", "consent_sms", "yes"), header: cookie, want: 400, field: `id="phone-error"`},
		{name: "form: unknown zone", method: "POST", path: "/subscribe/basic", ctype: "form", body: form("timezone", "Nowhere/Land"), header: cookie, want: 400, field: `id="timezone-error"`},
		{name: "form: zone with a NUL", method: "POST", path: "/subscribe/basic", ctype: "form", body: form("timezone", "Europe/London\x00"), header: cookie, want: 400, field: `id="timezone-error"`},
		// The honeypot is a bot's mistake: it gets the usual page and nothing happens.
		{name: "form: honeypot filled", method: "POST", path: "/subscribe/basic", ctype: "form", body: form("website", "http://spam.example"), header: cookie, want: 200, field: "please check your messages"},

		// /confirm/{token}
		{name: "confirm: garbage token", method: "POST", path: "/confirm/not-a-token", want: 400, field: "link isn't valid"},
		{name: "confirm: GET garbage token", method: "GET", path: "/confirm/not-a-token", want: 400, field: "link isn't valid"},
		{name: "confirm: token not UTF-8", method: "POST", path: "/confirm/%ff%fe.zz.zz", want: 400, field: "link isn't valid"},
		{name: "confirm: token with a NUL", method: "POST", path: "/confirm/e1%00.zz.zz", want: 400, field: "link isn't valid"},
		{name: "confirm: a manage token", method: "POST", path: "/confirm/" + sign(token.Manage, fmt.Sprintf("e%d", enr), later), want: 400, field: "link isn't valid"},
		{name: "confirm: expired", method: "POST", path: "/confirm/" + sign(token.Confirm, fmt.Sprintf("e%d", enr), now.Add(-time.Minute)), want: 410, field: "expired"},
		{name: "confirm: names no sign-up", method: "POST", path: "/confirm/" + sign(token.Confirm, "s1", later), want: 400, field: "doesn't name a sign-up"},
		{name: "confirm: negative id", method: "POST", path: "/confirm/" + sign(token.Confirm, "e-5", later), want: 400, field: "doesn't name a sign-up"},
		{name: "confirm: no such sign-up", method: "POST", path: "/confirm/" + sign(token.Confirm, "e999999", later), want: 404, field: "couldn't find this sign-up"},

		// /checkin/{token}
		{name: "checkin: unknown token", method: "POST", path: "/checkin/0123456789abcdef0123456789abcdef", ctype: "form", body: "a=1", want: 404, field: "couldn't find this check-in"},
		{name: "checkin: GET unknown token", method: "GET", path: "/checkin/nope?a=1", want: 404, field: "couldn't find this check-in"},
		{name: "checkin: token not UTF-8", method: "POST", path: "/checkin/%ff%fe", ctype: "form", body: "a=1", want: 404, field: "couldn't find this check-in"},
		{name: "checkin: GET token with a NUL", method: "GET", path: "/checkin/ab%00cd?a=1", want: 404, field: "couldn't find this check-in"},
		{name: "checkin: very long token", method: "POST", path: "/checkin/" + noise, ctype: "form", body: "a=1", want: 404, field: "couldn't find this check-in"},
		{name: "checkin: no answer", method: "POST", path: "/checkin/" + checkinTok, ctype: "form", body: "a=", want: 400, field: "choose an answer"},
		{name: "checkin: answer not offered", method: "POST", path: "/checkin/" + checkinTok, ctype: "form", body: "a=banana", want: 400, field: "isn't one of the choices"},
		{name: "checkin: answer with a NUL", method: "POST", path: "/checkin/" + checkinTok, ctype: "form", body: "a=1%00", want: 400, field: "isn't one of the choices"},
		{name: "checkin: answer not UTF-8", method: "POST", path: "/checkin/" + checkinTok, ctype: "form", body: "a=%ff", want: 400, field: "isn't one of the choices"},
		{name: "checkin: unreadable body", method: "POST", path: "/checkin/" + checkinTok, ctype: "form", body: "a=%zz", want: 400, field: "choose an answer"},

		// /unsubscribe/{token}
		{name: "unsubscribe: forged token", method: "POST", path: "/unsubscribe/s1.email.zzz.forged", ctype: "form", body: "List-Unsubscribe=One-Click", want: 400, field: "link isn't valid"},
		{name: "unsubscribe: GET forged token", method: "GET", path: "/unsubscribe/s1.email.zzz.forged", want: 400, field: "link isn't valid"},
		{name: "unsubscribe: a manage token", method: "POST", path: "/unsubscribe/" + sign(token.Manage, fmt.Sprintf("s%d.email", sub), later), want: 400, field: "link isn't valid"},
		{name: "unsubscribe: expired", method: "POST", path: "/unsubscribe/" + sign(token.Unsubscribe, fmt.Sprintf("s%d.email", sub), now.Add(-time.Second)), want: 410, field: "expired"},
		{name: "unsubscribe: unknown channel", method: "POST", path: "/unsubscribe/" + sign(token.Unsubscribe, fmt.Sprintf("s%d.fax", sub), later), want: 400, field: "doesn't name anything"},
		{name: "unsubscribe: no subscriber id", method: "POST", path: "/unsubscribe/" + sign(token.Unsubscribe, "s.email", later), want: 400, field: "doesn't name anything"},
		{name: "unsubscribe: token not UTF-8", method: "POST", path: "/unsubscribe/%ff.zz.zz", want: 400, field: "link isn't valid"},
		{name: "unsubscribe: nobody by that id", method: "POST", path: "/unsubscribe/" + sign(token.Unsubscribe, "s999999.email", later), want: 200, field: "no messages to send you"},

		// /manage/{token}
		{name: "manage: forged token", method: "POST", path: "/manage/s1.zz.forged", ctype: "form", body: "action=leave", want: 400, field: "link isn't valid"},
		{name: "manage: GET forged token", method: "GET", path: "/manage/s1.zz.forged", want: 400, field: "link isn't valid"},
		{name: "manage: a confirm token", method: "POST", path: "/manage/" + sign(token.Confirm, fmt.Sprintf("s%d", sub), later), ctype: "form", body: "action=leave", want: 400, field: "link isn't valid"},
		{name: "manage: names no subscription", method: "GET", path: "/manage/" + sign(token.Manage, "e1", later), want: 400, field: "doesn't name a subscription"},
		{name: "manage: enrollment not a number", method: "POST", path: manage, ctype: "form", body: "enrollment=abc&action=leave", want: 404, field: "couldn't find that program"},
		{name: "manage: someone else's enrollment", method: "POST", path: manage, ctype: "form", body: "enrollment=999999&action=leave", want: 404, field: "couldn't find that program"},
		{name: "manage: unknown action", method: "POST", path: manage, ctype: "form", body: fmt.Sprintf("enrollment=%d&action=explode", enr), want: 400, field: "choose what to do"},
		{name: "manage: no action", method: "POST", path: manage, ctype: "form", body: fmt.Sprintf("enrollment=%d", enr), want: 400, field: "choose what to do"},
		{name: "manage: unreadable body", method: "POST", path: manage, ctype: "form", body: "enrollment=%zz&action=leave", want: 404, field: "couldn't find that program"},

		// POST /webhooks/twilio/sms
		{name: "sms: unsigned", method: "POST", path: "/webhooks/twilio/sms", ctype: "form", body: sms().Encode(), want: 403, field: "forbidden"},
		{name: "sms: no MessageSid", method: "POST", path: "/webhooks/twilio/sms", sign: sms("MessageSid", "<del>"), want: 400, field: "MessageSid"},
		{name: "sms: no From", method: "POST", path: "/webhooks/twilio/sms", sign: sms("From", "<del>"), want: 400, field: "From"},
		{name: "sms: Body not UTF-8", method: "POST", path: "/webhooks/twilio/sms", sign: sms("Body", "ST\xffOP"), want: 400, field: "Body"},
		{name: "sms: Body with a NUL", method: "POST", path: "/webhooks/twilio/sms", sign: sms("Body", "STOP\x00"), want: 400, field: "Body"},
		{name: "sms: From not UTF-8", method: "POST", path: "/webhooks/twilio/sms", sign: sms("From", "+44\xff"), want: 400, field: "From"},
		{name: "sms: MessageSid with a NUL", method: "POST", path: "/webhooks/twilio/sms", sign: sms("MessageSid", "SM\x00"), want: 400, field: "MessageSid"},
		{name: "sms: MessageSid of 3,200 bytes", method: "POST", path: "/webhooks/twilio/sms", sign: sms("MessageSid", noise), want: 400, field: "MessageSid"},
		{name: "sms: From of 3,200 bytes", method: "POST", path: "/webhooks/twilio/sms", sign: sms("From", noise), want: 400, field: "From"},
		{name: "sms: unreadable body", method: "POST", path: "/webhooks/twilio/sms", ctype: "form", body: "Body=%zz", want: 400, field: "form"},
	}
	cases = append(cases, []badRequest{
		{name: "status: unsigned", method: "POST", path: statusPath, ctype: "form", body: status().Encode(), want: 403, field: "forbidden"},
		{name: "status: no MessageSid", method: "POST", path: statusPath, sign: status("MessageSid", "<del>"), want: 400, field: "MessageSid"},
		{name: "status: no MessageStatus", method: "POST", path: statusPath, sign: status("MessageStatus", "<del>"), want: 400, field: "MessageStatus"},
		{name: "status: ErrorCode not a number", method: "POST", path: statusPath, sign: status("ErrorCode", "21x10"), want: 400, field: "ErrorCode"},
		{name: "status: negative ErrorCode", method: "POST", path: statusPath, sign: status("ErrorCode", "-3"), want: 400, field: "ErrorCode"},
		{name: "status: MessageSid not UTF-8", method: "POST", path: statusPath, sign: status("MessageSid", "SM\xff"), want: 400, field: "MessageSid"},
		{name: "status: ErrorCode with a NUL", method: "POST", path: statusPath, sign: status("ErrorCode", "216\x0010"), want: 400, field: "ErrorCode"},
		{name: "status: unreadable body", method: "POST", path: statusPath, ctype: "form", body: "MessageSid=%zz", want: 400, field: "form"},
	}...)

	h := f.srv.Config.Handler
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := testdb.RowCounts(t, f.e.Store.DB)
			body, ctype := c.body, c.ctype
			switch ctype {
			case "form":
				ctype = "application/x-www-form-urlencoded"
			case "json":
				ctype = "application/json"
			}
			if c.sign != nil {
				body, ctype = c.sign.Encode(), "application/x-www-form-urlencoded"
			}
			req := httptest.NewRequest(c.method, c.path, strings.NewReader(body))
			// Each case from its own address: the sign-up limit is per IP.
			req.RemoteAddr = fmt.Sprintf("192.0.2.%d:4000", i%250+1)
			if ctype != "" {
				req.Header.Set("Content-Type", ctype)
			}
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			if c.sign != nil {
				req.Header.Set("X-Twilio-Signature", faketwilio.Sign(authToken, base+c.path, c.sign))
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			raw := rec.Body.String()
			out := visible(raw)
			if rec.Code != c.want {
				t.Errorf("status %d, want %d: %.300s", rec.Code, c.want, out)
			}
			if !strings.Contains(strings.ToLower(out), strings.ToLower(c.field)) && !strings.Contains(raw, c.field) {
				t.Errorf("the answer does not name %q: %.400s", c.field, out)
			}
			testdb.SameRows(t, c.name, before, testdb.RowCounts(t, f.e.Store.DB))
		})
	}

	t.Run("sign-up limit per address", func(t *testing.T) {
		before := testdb.RowCounts(t, f.e.Store.DB)
		post := func(body string) *httptest.ResponseRecorder {
			req := httptest.NewRequest("POST", "/api/v1/subscriptions", strings.NewReader(body))
			req.RemoteAddr = "198.51.100.7:4000"
			req.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			return rec
		}
		for range 10 { // the burst, spent on refused sign-ups
			if rec := post(strings.Replace(api(""), `Europe/London`, `Mars/Olympus`, 1)); rec.Code != 400 {
				t.Fatalf("a bad sign-up within the burst: %d", rec.Code)
			}
		}
		rec := post(api(""))
		if rec.Code != http.StatusTooManyRequests || rec.Header().Get("Retry-After") == "" || !strings.Contains(rec.Body.String(), "try again") {
			t.Errorf("past the limit: %d %q %s", rec.Code, rec.Header().Get("Retry-After"), rec.Body.String())
		}
		testdb.SameRows(t, "rate-limited sign-up", before, testdb.RowCounts(t, f.e.Store.DB))
	})
}

// visible is what a person reads of an answer: for a page, its title and
// body text without markup.
func visible(s string) string {
	if i := strings.Index(s, "</head>"); i >= 0 {
		title := ""
		if a, b := strings.Index(s, "<title>"), strings.Index(s, "</title>"); a >= 0 && b > a {
			title = s[a+len("<title>"):b] + ": "
		}
		s = title + s[i:]
		s = tags.ReplaceAllString(s, " ")
	}
	return strings.Join(strings.Fields(html.UnescapeString(s)), " ")
}

var tags = regexp.MustCompile(`<[^>]*>`)

// TestUserAgentNotUTF8: header bytes need not be UTF-8; a sign-up from
// such a client is taken, with the User-Agent stored cleaned, not a 500.
func TestUserAgentNotUTF8(t *testing.T) {
	f := newFixture(t)
	req := httptest.NewRequest("POST", "/api/v1/subscriptions", strings.NewReader(
		`{"program":"basic","first_name":"Ann","email":"ua@example.org","timezone":"Europe/London","consent_email":true}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Mozilla/5.0 (\xff\xfe)")
	rec := httptest.NewRecorder()
	f.srv.Config.Handler.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("sign-up with a non-UTF-8 User-Agent: %d %s", rec.Code, rec.Body.String())
	}
	if n := f.count(`SELECT count(*) FROM consents WHERE user_agent = $1`, "Mozilla/5.0 (\uFFFD)"); n != 1 {
		t.Fatalf("consents with the cleaned User-Agent: %d, want 1", n)
	}
}
