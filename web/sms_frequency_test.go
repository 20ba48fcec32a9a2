package web

import (
	"context"
	"encoding/xml"
	"os"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/programs"
)

const shippedSMSFrequency = "usually 4 to 6 texts a week, at most 9"

// withProgram loads the basic test program again as a new version, changed
// by edit, so that sign-ups and replies from here on use it.
func (f *fixture) withProgram(edit func(p *programs.Program)) {
	f.t.Helper()
	p, err := programs.Load(os.DirFS("../programs/testdata"), "basic")
	if err != nil {
		f.t.Fatal(err)
	}
	edit(p)
	p.Version += "-edited"
	p.Hash += "-edited"
	if err := f.e.LoadPrograms(context.Background(), map[string]*programs.Program{"basic": p}); err != nil {
		f.t.Fatal(err)
	}
}

// twimlMessage is the text of the reply a person gets, as they read it.
func twimlMessage(t *testing.T, out string) string {
	t.Helper()
	var r struct {
		Message string `xml:"Message"`
	}
	if err := xml.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("TwiML %q: %v", out, err)
	}
	return r.Message
}

// gsmSeptets counts a text in the GSM-7 alphabet (the extension characters
// take two septets); ok is false when the text needs UCS-2 instead.
func gsmSeptets(s string) (n int, ok bool) {
	const basic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	for _, r := range s {
		switch {
		case strings.ContainsRune(basic, r):
			n++
		case strings.ContainsRune("^{}\\[~]|€\f", r):
			n += 2
		default:
			return n, false
		}
	}
	return n, true
}

// checkHelp asserts what carriers ask of a HELP reply, and that it fits
// the two GSM-7 segments it has always taken.
func checkHelp(t *testing.T, msg, title string) {
	t.Helper()
	for _, want := range []string{title + ":", "Msg & data rates may apply", "Help: help@rekindle.test.", "STOP to opt out"} {
		if !strings.Contains(msg, want) {
			t.Errorf("HELP reply lacks %q: %q", want, msg)
		}
	}
	if n, ok := gsmSeptets(msg); !ok || n > 2*153 {
		t.Errorf("HELP reply is %d septets (GSM-7: %v), want GSM-7 in at most two segments: %q", n, ok, msg)
	}
}

// The HELP reply says how often the program texts, in texts alone: not
// the program's general frequency, which is about emails too.
func TestHelpSaysHowOftenTheProgramTexts(t *testing.T) {
	f := newFixture(t)
	f.withProgram(func(p *programs.Program) {
		p.Frequency = "about three emails a week for eight weeks; with texts, " + shippedSMSFrequency
		p.SMSFrequency = shippedSMSFrequency
	})
	f.enroll("help@example.org", "+447700900301")
	msg := twimlMessage(t, f.sms("+447700900301", "HELP"))
	if !strings.Contains(msg, ". Usually 4 to 6 texts a week, at most 9. ") {
		t.Errorf("HELP reply does not say how often the program texts, as a sentence: %q", msg)
	}
	if strings.Contains(msg, "email") || strings.Contains(msg, "5 msgs") {
		t.Errorf("HELP reply speaks of emails or an old number: %q", msg)
	}
	checkHelp(t, msg, "Basic")
}

// A program that does not say how often it texts, and a number we don't
// know, get a reply that promises no number of texts.
func TestHelpWithoutSMSFrequencyPromisesNoNumber(t *testing.T) {
	f := newFixture(t)
	f.withProgram(func(p *programs.Program) {
		p.Frequency = "about three emails a week"
		p.SMSFrequency = ""
	})
	f.enroll("nofreq@example.org", "+447700900302")
	for phone, title := range map[string]string{"+447700900302": "Basic", "+447700900399": "Rekindle"} {
		msg := twimlMessage(t, f.sms(phone, "help"))
		if !strings.Contains(msg, ". A few texts a week. ") {
			t.Errorf("%s: HELP reply: %q", phone, msg)
		}
		if strings.ContainsAny(msg, "0123456789") || strings.Contains(msg, "email") {
			t.Errorf("%s: HELP reply promises a number or speaks of emails: %q", phone, msg)
		}
		checkHelp(t, msg, title)
	}
}

// The SMS consent beside the box, and stored with the consent, says how
// often the program texts, and truly what the texts are: short nudges and
// check-ins, with the full lessons by email only (a sign-up by text alone
// gets no lessons).
func TestSMSConsentSaysHowOftenTheProgramTexts(t *testing.T) {
	f := newFixture(t)
	f.withProgram(func(p *programs.Program) { p.SMSFrequency = shippedSMSFrequency })
	const want = "Text me short Basic nudges and check-ins at the number above (usually 4 to 6 texts a week, at most 9). The full lessons come by email only."
	code, page := f.do("GET", "/subscribe/basic", "", "")
	if code != 200 || !strings.Contains(page, want) || strings.Contains(page, "up to 5") {
		t.Fatalf("sign-up page: %d; want the consent %q in:\n%s", code, want, mainOf(page))
	}
	if code, out := api(f, `{"program":"basic","first_name":"Ann","email":"ann@example.org","phone":"07400 123456","timezone":"Europe/London","consent_email":true,"consent_sms":true}`); code != 202 {
		t.Fatalf("sign-up: %d %s", code, out)
	}
	var text string
	if err := f.e.Store.DB.Get(&text, `SELECT consent_text FROM consents WHERE channel = 'sms' AND action = 'granted'`); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(text, want+" Msg & data rates may apply.") {
		t.Fatalf("stored SMS consent: %q", text)
	}
}

func TestSMSConsentWithoutSMSFrequencyPromisesNoNumber(t *testing.T) {
	f := newFixture(t)
	f.withProgram(func(p *programs.Program) { p.Frequency, p.SMSFrequency = "about three emails a week", "" })
	const want = "Text me short Basic nudges and check-ins at the number above (a few texts a week). The full lessons come by email only."
	if code, page := f.do("GET", "/subscribe/basic", "", ""); code != 200 || !strings.Contains(page, want) {
		t.Fatalf("sign-up page: %d; want the consent %q in:\n%s", code, want, mainOf(page))
	}
}

// mainOf is the part of a page that differs from page to page.
func mainOf(page string) string {
	if _, m, ok := strings.Cut(page, "<main"); ok {
		m, _, _ = strings.Cut(m, "</main>")
		return "<main" + m + "</main>"
	}
	return page
}
