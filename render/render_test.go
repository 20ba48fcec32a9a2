package render

import (
	"regexp"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/smsseg"
	"github.com/rekindle/rekindle/templates"
)

func shipped(t testing.TB) (*Renderer, map[string]*programs.Program) {
	t.Helper()
	r, err := New(templates.FS, Config{SMSBrand: "Rekindle", PostalAddress: "1 Example Street, Springfield",
		Support: "- A counselling service near you\n- A helpline in your country", HelpContact: "help@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	progs, err := programs.LoadAll(programs.Embedded(), ".")
	if err != nil {
		t.Fatal(err)
	}
	return r, progs
}

var (
	htmlTag   = regexp.MustCompile(`<[a-zA-Z/!][^>]*>`)
	imgTag    = regexp.MustCompile(`<img\b[^>]*>`)
	htmlLang  = regexp.MustCompile(`<html[^>]*\blang="[a-z]{2}`)
	titleElem = regexp.MustCompile(`<title>[^<]+</title>`)
)

// Every step of every track renders in each of its channels with no blank
// where a variable should be, and the email is well-formed for people and
// screen readers.
func TestEveryShippedStepRenders(t *testing.T) {
	r, progs := shipped(t)
	for _, p := range progs {
		comp, err := r.Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		for _, tr := range p.Tracks {
			for _, s := range tr.Steps {
				v := programs.SampleVars(p)
				v.FirstName = "" // the fallback must read naturally
				for _, ch := range s.Channels {
					switch ch {
					case "email":
						var links *CheckinLinks
						if s.Checkin != nil {
							links = &CheckinLinks{}
							for _, a := range s.Checkin.Answers {
								links.Answers = append(links.Answers, AnswerLink{Label: a.Value, URL: "https://x.test/checkin/t?a=" + a.Value})
							}
						}
						m, err := comp.Email(s, v, links)
						if err != nil {
							t.Fatalf("%s: %v", s.Key, err)
						}
						if m.Subject == "" || strings.Contains(m.Subject+m.Text, "<no value>") || strings.Contains(m.HTML, "<no value>") {
							t.Errorf("%s: blank or missing value in email", s.Key)
						}
						if strings.Count(m.HTML, "<html") != 1 || !htmlLang.MatchString(m.HTML) || !titleElem.MatchString(m.HTML) {
							t.Errorf("%s: the HTML needs one <html lang> and a <title>", s.Key)
						}
						for _, img := range imgTag.FindAllString(m.HTML, -1) {
							if !strings.Contains(img, "alt=") {
								t.Errorf("%s: an image without alt text: %s", s.Key, img)
							}
						}
						if tag := htmlTag.FindString(m.Text); tag != "" {
							t.Errorf("%s: the text part holds HTML: %s", s.Key, tag)
						}
						if !strings.Contains(m.HTML, "1 Example Street") || !strings.Contains(m.Text, v.UnsubscribeURL) {
							t.Errorf("%s: footer lacks the postal address or unsubscribe link", s.Key)
						}
						if links != nil && !strings.Contains(m.HTML, "https://x.test/checkin/t?a=") {
							t.Errorf("%s: check-in email lacks its answer links", s.Key)
						}
					case "sms":
						text, err := comp.SMS(s, v, 1)
						if err != nil {
							t.Fatalf("%s: %v", s.Key, err)
						}
						if !strings.HasPrefix(text, "Rekindle: ") || strings.Contains(text, "<no value>") {
							t.Errorf("%s: sms %q", s.Key, text)
						}
						if info := smsseg.Count(text); info.Segments > 2 || info.Encoding != "GSM-7" {
							t.Errorf("%s: sms is %d segments of %s", s.Key, info.Segments, info.Encoding)
						}
					}
				}
			}
		}
	}
}

func TestSupportResourcesRenderAsAList(t *testing.T) {
	r, progs := shipped(t)
	comp, _ := r.Compile(progs["rekindle"])
	m, err := comp.Email(progs["rekindle"].Step("support"), programs.SampleVars(progs["rekindle"]), nil)
	if err != nil {
		t.Fatal(err)
	}
	v := programs.SampleVars(progs["rekindle"])
	if !strings.Contains(m.HTML, "<li>") || !strings.Contains(m.Text, strings.Split(v.Support, "\n")[0]) {
		t.Fatalf("the deployment's support resources are missing or not a list:\n%s", m.HTML)
	}
}

func TestStopHint(t *testing.T) {
	r, _ := shipped(t)
	if got := r.DecorateSMS("Hello.", true); got != "Rekindle: Hello. Reply STOP to opt out." {
		t.Fatalf("first SMS: %q", got)
	}
	if got := r.DecorateSMS("Reply STOP to stop.", true); strings.Count(got, "STOP") != 1 {
		t.Fatalf("the hint doubled: %q", got)
	}
	for n, want := range map[int]bool{0: true, 1: false, 3: false, 4: true, 8: true} {
		if NeedsStopHint(n) != want {
			t.Fatalf("NeedsStopHint(%d) != %v", n, want)
		}
	}
}
