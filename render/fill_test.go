package render

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rekindle/rekindle/programs"
)

func checkinURL(token, value string) string {
	return "https://x.test/checkin/" + token + "?a=" + value + "&src=email"
}

// people are the names and links the fast path must fill in exactly as
// html/template would have written them.
var people = []Personal{
	{FirstName: "Sam", ManageURL: "https://x.test/manage/s1.abc.DEF-_", UnsubscribeURL: "https://x.test/unsubscribe/s1.email.abc.DEF", CheckinToken: "00ff"},
	{FirstName: "", ManageURL: "https://x.test/manage/s2", UnsubscribeURL: "https://x.test/unsubscribe/s2", CheckinToken: "abcd"},
	{FirstName: `Ada "Al" <Lovelace> & O'Neil+1`, ManageURL: "https://x.test/m?a=1&b=2", UnsubscribeURL: "https://x.test/u?x='y'", CheckinToken: "1234"},
	{FirstName: "Zoë Ørsted 李", ManageURL: "https://x.test/manage/s9", UnsubscribeURL: "https://x.test/unsubscribe/s9", CheckinToken: "beef"},
	{FirstName: "  ", ManageURL: "https://x.test/manage/s10", UnsubscribeURL: "https://x.test/unsubscribe/s10", CheckinToken: "cafe"},
	{FirstName: " Sam\t", ManageURL: "https://x.test/manage/s11", UnsubscribeURL: "https://x.test/unsubscribe/s11", CheckinToken: "f00d"},
}

// Every shipped step, on each of its channels and on several program days,
// comes out of a skeleton byte for byte as html/template renders it for
// each person, and no shipped step needs the slow path.
func TestFastMatchesTemplatesForEveryShippedStep(t *testing.T) {
	r, progs := shipped(t)
	for _, p := range progs {
		comp, err := r.Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		f := comp.Fast(checkinURL)
		for _, tr := range p.Tracks {
			for _, s := range tr.Steps {
				for _, day := range []int{1, 9, 40} {
					v := programs.Vars{ProgramTitle: p.Title, Day: day, Week: (day-1)/7 + 1, Phase: p.PhaseTitle(s.Phase)}
					for _, who := range people {
						for _, ch := range s.Channels {
							compareFast(t, f, s, ch, v, who)
						}
					}
				}
			}
		}
		for k, sk := range f.skels {
			if sk.slow {
				t.Errorf("%s %s day %d: the skeleton was refused; this step renders in full every time", k.step.Key, k.channel, k.day)
			}
		}
	}
}

func compareFast(t *testing.T, f *Fast, s *programs.Step, ch string, v programs.Vars, who Personal) {
	t.Helper()
	slowV := v
	slowV.FirstName, slowV.ManageURL, slowV.UnsubscribeURL = who.FirstName, who.ManageURL, who.UnsubscribeURL
	switch ch {
	case "email":
		want := templateEmail(t, f, s, v, who)
		got, err := f.Email(s, v, who)
		if err != nil {
			t.Fatalf("%s: %v", s.Key, err)
		}
		if got != want {
			t.Fatalf("%s for %q: the skeleton's email differs from the template's\n%s", s.Key, who.FirstName, firstDiff(got.Subject+got.Preheader+got.Text+got.HTML, want.Subject+want.Preheader+want.Text+want.HTML))
		}
	case "sms":
		for _, hint := range []bool{true, false} {
			n := 1
			if hint {
				n = 0
			}
			want, err := f.c.SMS(s, slowV, n)
			if err != nil {
				t.Fatalf("%s: %v", s.Key, err)
			}
			got, err := f.SMS(s, v, who, hint)
			if err != nil {
				t.Fatalf("%s: %v", s.Key, err)
			}
			if got != want {
				t.Fatalf("%s for %q: SMS %q, want %q", s.Key, who.FirstName, got, want)
			}
		}
	}
}

// templateEmail is the email html/template renders for who: what the
// skeletons must give byte for byte.
func templateEmail(t *testing.T, f *Fast, s *programs.Step, v programs.Vars, who Personal) Email {
	t.Helper()
	v.FirstName, v.ManageURL, v.UnsubscribeURL = who.FirstName, who.ManageURL, who.UnsubscribeURL
	want, err := f.c.Email(s, v, LinksFor(s.Checkin, func(value string) string { return checkinURL(who.CheckinToken, value) }))
	if err != nil {
		t.Fatalf("%s: %v", s.Key, err)
	}
	return want
}

func firstDiff(a, b string) string {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			lo := max(i-60, 0)
			return fmt.Sprintf("got  ...%q\nwant ...%q", a[lo:min(i+60, len(a))], b[lo:min(i+60, len(b))])
		}
	}
	return fmt.Sprintf("lengths %d and %d", len(a), len(b))
}

// A template that does more with a value than print it (cuts it, compares
// it, puts it in a URL) cannot be filled from a skeleton: the probe catches
// it, and that step is rendered in full, still right for everyone.
func TestFastFallsBackWhenATemplateUsesAValue(t *testing.T) {
	r, progs := shipped(t)
	for name, tweak := range map[string]func(c *programs.Content){
		"cut in the subject":  func(c *programs.Content) { c.Subject = `{{printf "%.2s" .FirstName}}, hello` },
		"compared in the SMS": func(c *programs.Content) { c.SMS = `{{if eq .FirstName "Sam"}}Hi Sam{{else}}Hello{{end}}` },
		"a URL in the body":   func(c *programs.Content) { c.Body += "\n\n[Me](https://x.test/?n={{.FirstName}})\n" },
		"kept in a variable":  func(c *programs.Content) { c.Subject = `{{$n := .FirstName}}Hello {{$n}}` },
		"cut inside with":     func(c *programs.Content) { c.Preheader = `{{with .FirstName}}{{slice . 0 1}}{{end}}.` },
	} {
		t.Run(name, func(t *testing.T) {
			f, s, v := firstStepTweaked(t, r, progs["rekindle"], tweak)
			for _, who := range append(people, Personal{FirstName: "Sam"}) {
				for _, ch := range []string{"email", "sms"} {
					compareFast(t, f, s, ch, v, who)
				}
			}
			slow := 0
			for _, sk := range f.skels {
				if sk.slow {
					slow++
				}
			}
			if slow == 0 {
				t.Fatal("no skeleton was refused, yet the template does more than print the name")
			}
		})
	}
}

// A text that starts or ends with the name is trimmed with it by the
// template's render: a name with spaces at its edges takes the full render,
// so " Sam " ends an SMS as "Sam" there too.
func TestNameWithSpacesAtItsEdgesMatchesTheTemplates(t *testing.T) {
	r, progs := shipped(t)
	f, s, v := firstStepTweaked(t, r, progs["rekindle"], func(c *programs.Content) {
		c.SMS = `Thinking of you, {{.FirstName}}`
		c.Subject = `{{.FirstName}}, a note for today`
	})
	for _, name := range []string{" Sam ", "Sam\n", "\tSam"} {
		who := people[0]
		who.FirstName = name
		for _, ch := range []string{"email", "sms"} {
			compareFast(t, f, s, ch, v, who)
		}
	}
}

// A name that happens to contain "stop" does not take the STOP hint away:
// whether a text says how to opt out is judged on the step's own words.
func TestStopHintIsNotDroppedForChristopher(t *testing.T) {
	r, progs := shipped(t)
	p := progs["rekindle"]
	comp, _ := r.Compile(p)
	f := comp.Fast(checkinURL)
	for _, tr := range p.Tracks {
		for _, s := range tr.Steps {
			if !strings.Contains(strings.Join(s.Channels, ","), "sms") {
				continue
			}
			v := programs.Vars{ProgramTitle: p.Title, Day: 1, Week: 1, Phase: p.PhaseTitle(s.Phase)}
			sam, _ := f.SMS(s, v, Personal{FirstName: "Sam"}, true)
			chris, _ := f.SMS(s, v, Personal{FirstName: "Christopher"}, true)
			slow, _ := comp.SMS(s, programs.Vars{FirstName: "Christopher", ProgramTitle: p.Title, Day: 1, Week: 1, Phase: v.Phase}, 0)
			if strings.HasSuffix(sam, StopHint) != strings.HasSuffix(chris, StopHint) || chris != slow {
				t.Fatalf("%s: Sam gets %q, Christopher %q (in full: %q)", s.Key, sam, chris, slow)
			}
			if strings.Contains(chris, "Christopher") && !strings.Contains(strings.ToUpper(strings.ReplaceAll(chris, "Christopher", "")), "STOP") {
				t.Fatalf("%s: Christopher's SMS says nothing about STOP: %q", s.Key, chris)
			}
		}
	}
}

// go test -run '^$' -bench Render ./render
func BenchmarkRenderEmail(b *testing.B) {
	r, progs := shipped(b)
	p := progs["rekindle"]
	comp, _ := r.Compile(p)
	s := p.Tracks[0].Steps[3]
	v := programs.Vars{ProgramTitle: p.Title, Day: 4, Week: 1, Phase: p.PhaseTitle(s.Phase)}
	who := people[0]
	b.Run("templates", func(b *testing.B) {
		slowV := v
		slowV.FirstName, slowV.ManageURL, slowV.UnsubscribeURL = who.FirstName, who.ManageURL, who.UnsubscribeURL
		for b.Loop() {
			if _, err := comp.Email(s, slowV, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("skeleton", func(b *testing.B) {
		f := comp.Fast(checkinURL)
		for b.Loop() {
			if _, err := f.Email(s, v, who); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("skeleton-reused-buffer", func(b *testing.B) {
		f := comp.Fast(checkinURL)
		var buf []byte
		var err error
		for b.Loop() {
			if _, buf, err = f.AppendEmail(buf[:0], s, v, who); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// firstStepTweaked compiles a copy of p whose first step's content is
// changed by tweak, and returns its skeleton renderer, that step and the
// values of its first day.
func firstStepTweaked(t *testing.T, r *Renderer, orig *programs.Program, tweak func(*programs.Content)) (*Fast, *programs.Step, programs.Vars) {
	t.Helper()
	p := *orig
	s := p.Tracks[0].Steps[0]
	p.Content = map[string]*programs.Content{}
	for k, c := range orig.Content {
		cc := *c
		if k == s.ContentRef {
			tweak(&cc)
		}
		p.Content[k] = &cc
	}
	comp, err := r.Compile(&p)
	if err != nil {
		t.Fatal(err)
	}
	return comp.Fast(checkinURL), s, programs.Vars{ProgramTitle: p.Title, Day: 1, Week: 1, Phase: p.PhaseTitle(s.Phase)}
}
