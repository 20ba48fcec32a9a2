package web

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"

	"github.com/rekindle/rekindle/clock"
	"github.com/rekindle/rekindle/internal/faketwilio"
	"github.com/rekindle/rekindle/internal/fuzzpad"
	"github.com/rekindle/rekindle/scheduler"
)

// fuzzServer is the web server over one real database, built once per fuzz
// target (each fuzz worker process builds its own), not once per input.
type fuzzServer struct {
	e   *scheduler.Engine
	clk *clock.Manual
	s   *server
	h   http.Handler
}

func newFuzzServer(tb testing.TB) *fuzzServer {
	tb.Helper()
	d, clk := testDeps(tb)
	h, err := New(d)
	if err != nil {
		tb.Fatal(err)
	}
	// validate needs the server itself; New's defaults are what it sees.
	return &fuzzServer{e: d.Engine, clk: clk, s: &server{Deps: d}, h: h}
}

func (fs *fuzzServer) count(tb testing.TB, q string, args ...any) int {
	tb.Helper()
	var n int
	if err := fs.e.Store.DB.Get(&n, q, args...); err != nil {
		tb.Fatal(err)
	}
	return n
}

// lowerSome lower-cases the letters of an upper-case keyword picked by mask.
func lowerSome(s string, mask uint64) string {
	b := []byte(s)
	for i := range b {
		if mask&(1<<(i%64)) != 0 && b[i] >= 'A' && b[i] <= 'Z' {
			b[i] += 'a' - 'A'
		}
	}
	return string(b)
}

// FuzzReplyWord: the keywords of a text (STOP and the other CTIA words,
// START, HELP) are recognised whatever their case, the whitespace around them
// and a ".", "!" or "?"; Twilio's OptOutType wins (but YES stays YES); anything else is never
// read as an opt-out unless it is one of the opt-out words.
func FuzzReplyWord(f *testing.F) {
	keywords := append(append(append([]string{}, stopWords...), startWords...), helpWords...)
	for i := range keywords {
		f.Add("", "", uint8(i), uint64(0), " ")
		f.Add("", "", uint8(i), uint64(0xaaaa|1<<63), "\t\u00a0\r\n")
	}
	for _, s := range []string{"stop", "  Stop ", "STOP.", "stop!", "stop please", "don't stop", "ſtop", "s t o p", "\u200bstop", "\xff", "pause 3 days"} {
		f.Add(s, "", uint8(0), uint64(0), " ")
	}
	f.Add("hello", "stop", uint8(0), uint64(0), " ")
	f.Add("hello", " Help ", uint8(0), uint64(0), " ")

	f.Fuzz(func(t *testing.T, body, optOut string, pick uint8, mask uint64, pad string) {
		ws := fuzzpad.Spaces(pad)
		w := replyWord(body, optOut)
		if w != strings.ToUpper(w) {
			t.Fatalf("%q read as %q: not upper case", body, w)
		}
		if o := strings.ToUpper(strings.TrimSpace(optOut)); o == "STOP" || o == "START" || o == "HELP" {
			// YES, one of Twilio's opt-in words, stays YES (handleSMS
			// reads it as START from a number that opted out).
			if o == "START" && strings.ToUpper(scheduler.NormalizeReply(body)) == "YES" {
				o = "YES"
			}
			if w != o {
				t.Fatalf("Twilio said %q but %q was read as %q", optOut, body, w)
			}
		} else if pw := replyWord(ws+body+ws, optOut); pw != w {
			t.Fatalf("%q read as %q, padded with %q as %q", body, w, ws, pw)
		}
		if contains(stopWords, w) && !contains(stopWords, strings.ToUpper(strings.TrimSpace(optOut))) {
			core := strings.Trim(strings.Join(strings.Fields(body), " "), ".!? ")
			if !strings.EqualFold(core, w) {
				t.Fatalf("%q was read as the opt-out %q", body, w)
			}
		}

		kw := keywords[int(pick)%len(keywords)]
		variant := lowerSome(kw, mask)
		switch mask >> 62 {
		case 1:
			variant += "."
		case 2:
			variant += "!"
		}
		variant = ws + variant + ws
		if got := replyWord(variant, ""); got != kw {
			t.Fatalf("%q (%s) read as %q", variant, kw, got)
		}
	})
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// storable is text PostgreSQL takes as it is.
func storable(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// FuzzSignupValidate runs the sign-up checks (form and API share them) on
// fuzzed fields. They must not panic; what they accept is storable, the
// phone is E.164 and the time zone is a real IANA zone; what they refuse
// names a field of the form.
func FuzzSignupValidate(f *testing.F) {
	fs := newFuzzServer(f)
	f.Add("Ann", "ann@example.org", "07400 123456", "Europe/London", true, true)
	f.Add("Ann", "Ann@Example.org", "+1 202 555 0143", "America/New_York", true, true)
	f.Add("Ann", "", "+447400123456", "UTC", false, true)
	f.Add("Ann", "ann@example.org", "12345", "Europe/London", true, true)
	f.Add("Ann", "ann@example.org", "", "Local", true, false)
	f.Add("Ann", "ann@example.org", "", "../../etc/passwd", true, false)
	f.Add("Ann", "ann@example.org", "", "Mars/Olympus", true, false)
	f.Add("\x00", "ann@example.org", "", "Europe/London", true, false)
	f.Add("\xff\xfe", "ann@example.org", "", "Europe/London", true, false)
	f.Add("Ann", "\"a b\"@example.org", "", "Europe/London", true, false)
	f.Add("Ann", "ann@example.org", "tel:+44-7400-123456;ext=1", "Europe/London", true, true)
	f.Add("Ann", "ann@example.org", "+44 7400 123456 ext. 9", "Europe/London", true, true)
	f.Add("Ann", "ann@example.org", "０７４００ １２３４５６", "Europe/London", true, true)
	f.Add("A\u202eB", "ann@example.org", "", "Europe/London", true, false)
	req := httptest.NewRequest("POST", "/api/v1/subscriptions", nil)
	fields := map[string]bool{"program": true, "first_name": true, "email": true, "phone": true, "timezone": true, "consent_email": true, "consent_sms": true}

	f.Fuzz(func(t *testing.T, name, email, phone, tz string, ce, cs bool) {
		in := signup{Program: "basic", FirstName: name, Email: email, Phone: phone, Timezone: tz, ConsentEmail: ce, ConsentSMS: cs}
		got, errs := fs.s.validate(in, req, "api")
		if len(errs) > 0 {
			seen := map[string]bool{}
			for _, fe := range errs {
				if !fields[fe.Field] || strings.TrimSpace(fe.Message) == "" || seen[fe.Field] {
					t.Fatalf("refused without naming a form field, or naming one twice: %+v", errs)
				}
				seen[fe.Field] = true
			}
			return
		}
		for _, v := range []string{got.FirstName, got.Email, got.Phone, got.Timezone} {
			if !storable(v) {
				t.Fatalf("accepted text PostgreSQL cannot store: %q", v)
			}
		}
		if got.Email == "" && got.Phone == "" {
			t.Fatal("accepted a sign-up with no way to reach the person")
		}
		if got.Phone != "" {
			if !e164.MatchString(got.Phone) {
				t.Fatalf("phone %q accepted as %q: not E.164", phone, got.Phone)
			}
			n, err := phonenumbers.Parse(got.Phone, "")
			if err != nil || !phonenumbers.IsValidNumber(n) || phonenumbers.Format(n, phonenumbers.E164) != got.Phone {
				t.Fatalf("stored phone %q does not parse back to itself (%v)", got.Phone, err)
			}
		}
		if got.Email != "" && (got.Email != strings.ToLower(got.Email) || !strings.EqualFold(got.Email, strings.TrimSpace(email)) || strings.ContainsAny(got.Email, " \t\r\n<>")) {
			t.Fatalf("email %q accepted as %q", email, got.Email)
		}
		loc, err := scheduler.LoadZone(got.Timezone)
		if err != nil || loc.String() != got.Timezone {
			t.Fatalf("time zone %q accepted but does not load: %v", got.Timezone, err)
		}
		if strings.ContainsAny(got.FirstName, "<>\r\n") {
			t.Fatalf("first name %q accepted", got.FirstName)
		}
	})
}

// FuzzTwilioSMSWebhook posts correctly signed inbound texts with fuzzed
// fields to the real handler over a real database. Whatever the fields: no
// panic, no 5xx, a 200 is well-formed TwiML, a 400 names the field, and a
// text read as STOP leaves the number suppressed with nothing queued to it.
func FuzzTwilioSMSWebhook(f *testing.F) {
	fs := newFuzzServer(f)
	ctx := context.Background()
	known := []string{"+447700900301", "+447700900302"}
	for i, ph := range known {
		if _, _, err := fs.e.Enroll(ctx, scheduler.EnrollRequest{Program: "basic", FirstName: "Sam", Email: fmt.Sprintf("fuzz%d@example.org", i),
			Phone: ph, Timezone: "Europe/London", Source: "operator", Pending: i == 1}); err != nil {
			f.Fatal(err)
		}
	}
	// Plan to Sunday evening: the mood check-in is open, SMS are queued.
	for end := utc("2026-06-07T18:30:00Z"); !fs.clk.Now().After(end); fs.clk.Advance(time.Hour) {
		for {
			n, _, err := fs.e.PlanOnce(ctx)
			if err != nil {
				f.Fatal(err)
			}
			if n == 0 {
				break
			}
		}
	}
	for _, body := range []string{"STOP", " stop! ", "START", "HELP", "YES", "1", "2", "pause 3 days", "PAUSE 999 DAYS", "resume", "moved on", "banana", "", "\x00", "\xff", strings.Repeat("x", 2000)} {
		f.Add(uint8(0x40), "", body, "SM1", "", "", "")
	}
	f.Add(uint8(1), "", "yes", "SM2", "", "", "")
	f.Add(uint8(2), "", "stop", "SM3", "", "", "")
	f.Add(uint8(3), "whatsapp:+15550100000", "hi", "SM4", "", "", "")
	f.Add(uint8(3), "", "hi", "SM5", "", "", "")
	f.Add(uint8(3|0x40), "\xff", "STOP", "SM6", "", "", "")
	f.Add(uint8(0xc0), "", "hello", "", "", "", "")
	f.Add(uint8(0x40), "", "hello", "SM\x00", "", "", "")
	f.Add(uint8(0), "", "hello", strings.Repeat("S", 3000), "", "", "")
	f.Add(uint8(0), "", "whatever", "SM7", "STOP", "", "")
	f.Add(uint8(0), "", "whatever", "SM8", "start", "", "")
	f.Add(uint8(0), "", "4", "SM9", "", "NumMedia", "1")
	f.Add(uint8(0), "", "4", "SM10", "", "Body", "second")

	n := 0
	f.Fuzz(func(t *testing.T, who uint8, fromIn, body, sid, optOut, extraKey, extraVal string) {
		n++
		if who&0x40 == 0 { // mostly text Twilio could send, so the handling itself is fuzzed
			for _, p := range []*string{&fromIn, &body, &sid, &optOut, &extraKey, &extraVal} {
				*p = strings.ToValidUTF8(strings.ReplaceAll(*p, "\x00", ""), "\uFFFD")
			}
		}
		from := fromIn
		switch who % 4 {
		case 0, 1:
			from = known[who%4]
		case 2:
			from = fmt.Sprintf("+4477009%05d", n%100000)
		}
		if sid != "" || who&0x80 == 0 { // mostly a real, fresh SID: a replay is not handled again
			sid = fmt.Sprintf("SM%.40s-%d-%d", sid, os.Getpid(), n)
		}
		form := url.Values{"MessageSid": {sid}, "From": {from}, "To": {"+15550100000"}, "Body": {body}, "AccountSid": {"ACtest"}}
		if optOut != "" {
			form.Set("OptOutType", optOut)
		}
		if extraKey != "" {
			form.Add(extraKey, extraVal)
		}
		req := httptest.NewRequest("POST", "/webhooks/twilio/sms", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", faketwilio.Sign(authToken, base+"/webhooks/twilio/sms", form))
		rec := httptest.NewRecorder()
		fs.h.ServeHTTP(rec, req)
		code, out := rec.Code, rec.Body.String()

		switch {
		case code >= 500:
			t.Fatalf("from %q body %q sid %q: %d %s", from, body, sid, code, out)
		case code == 400:
			named := strings.Contains(out, "MessageSid") || strings.Contains(out, "From") || strings.Contains(out, "form")
			for k := range form {
				named = named || strings.Contains(out, fmt.Sprintf("%q", k))
			}
			if !named {
				t.Fatalf("a 400 that names no field: %s", out)
			}
			return
		case code != 200:
			t.Fatalf("a correctly signed text: %d %s", code, out)
		}
		var resp struct {
			XMLName xml.Name `xml:"Response"`
			Message []string `xml:"Message"`
		}
		if err := xml.Unmarshal([]byte(out), &resp); err != nil || len(resp.Message) > 1 {
			t.Fatalf("not TwiML: %v: %s", err, out)
		}
		if contains(stopWords, replyWord(body, form.Get("OptOutType"))) {
			if fs.count(t, `SELECT count(*) FROM suppressions WHERE channel = 'sms' AND address = $1`, from) != 1 {
				t.Fatalf("%q from %s: the number is not suppressed", body, from)
			}
			if q := fs.count(t, `SELECT count(*) FROM deliveries WHERE channel = 'sms' AND to_addr = $1 AND status IN ('queued', 'sending')`, from); q != 0 {
				t.Fatalf("%q from %s: %d texts still queued", body, from, q)
			}
		}
	})
}
