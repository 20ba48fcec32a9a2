package web

import (
	"regexp"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/render"
	"github.com/rekindle/rekindle/smsseg"
)

// stopTo is STOP offered with what it does ("STOP to ...").
var stopTo = regexp.MustCompile(`STOP to [a-z]+(?: [a-z]+)?`)

// checkStopWords fails when text offers STOP with words other than the
// hint our texts carry ("Reply STOP to opt out."): one keyword, one
// meaning, said the same way everywhere.
func checkStopWords(t *testing.T, what, text string) {
	t.Helper()
	want := strings.TrimSuffix(strings.TrimPrefix(render.StopHint, "Reply "), ".")
	for _, m := range stopTo.FindAllString(text, -1) {
		if !strings.HasPrefix(m, want) {
			t.Errorf("%s says %q, where our texts' hint says %q:\n%s", what, m, want, text)
		}
	}
}

// Every text names STOP in the words of the hint our texts carry, "STOP to
// opt out": the replies to a person's own texts, the sign-up's consent
// (which a text-only person agrees to) and the shipped program's texts.
// Each reply stays within its segments.
func TestStopIsOfferedInTheHintsWords(t *testing.T) {
	f := newFixture(t)
	f.enroll("stopwords@example.org", "+447700900241")
	for _, c := range []struct{ who, from, body string }{
		{"a number we don't know", "+447700900298", "hello"},
		{"START from a number we don't know", "+447700900297", "START"},
		{"YES when confirmed", "+447700900241", "YES"},
		{"a written reply", "+447700900241", "I think I'd listen more"},
		{"START while texts run", "+447700900241", "START"},
	} {
		out := twimlMessage(t, f.sms(c.from, c.body))
		if !strings.Contains(out, "STOP") {
			t.Errorf("%s: %q names no STOP", c.who, out)
		}
		checkStopWords(t, c.who, out)
		if seg := smsseg.Count(out); seg.Encoding != smsseg.GSM7 || seg.Segments > 2 {
			t.Errorf("%s: %q is %+v, want at most two GSM-7 segments", c.who, out, seg)
		}
	}
	p, err := programs.Load(programs.Embedded(), "rekindle")
	if err != nil {
		t.Fatal(err)
	}
	checkStopWords(t, "the texts consent", consentText(p, "sms"))
	for path, c := range p.Content {
		checkStopWords(t, path, c.SMS)
		checkStopWords(t, path, c.Body)
	}
}
