package render

import (
	"strings"
	"testing"
	texttemplate "text/template"

	"github.com/rekindle/rekindle/programs"
)

// A text that uses "stop" as an ordinary word says nothing about opting
// out: the person still reads "Reply STOP to opt out." on it. A text that
// already tells them how does not get the hint twice.
func TestStopHintOnlyYieldsToARealInstruction(t *testing.T) {
	r, _ := shipped(t)
	for _, text := range []string{
		"Stop by the park on your way home and notice one green thing.",
		"If you can't stop thinking about them tonight, that's okay.",
		"Do you want them back, or want the hurt to stop?",
		"STOP and breathe for a moment before you answer.",
		"Nothing can stop you from taking one small step today.",
		"Don't let one text stop you.",
		"Don't stop now, you're further along than you think.",
		"Think of today as a stop on the way, not the end of the road.",
		"Text a friend or stop by somewhere that makes you smile.",
		"Reply HELP or stop worrying about the perfect answer.",
		"If their reply stops you in your tracks, take a breath.",
	} {
		got := r.DecorateSMS(text, true)
		if want := "Rekindle: " + text + " " + StopHint; got != want {
			t.Errorf("ordinary \"stop\":\n got %q\nwant %q", got, want)
		}
	}
	for _, text := range []string{
		"Reply STOP to end.",
		"Reply HELP for help, PAUSE for a break, STOP to stop.",
		"Text STOP at any time to opt out.",
		"You can reply with STOP whenever you like.",
		"Reply \"STOP\" to opt out.",
		"Need a break? Reply PAUSE or STOP.",
		"You can text HELP or STOP at any time.",
		"Reply HELP, PAUSE or STOP whenever you need to.",
		"reply stop to opt out.",
		"Text stop at any time and we'll stop texting you.",
		"Reply Stop to end these texts.",
		"Just reply \"stop\" if you've had enough.",
	} {
		got := r.DecorateSMS(text, true)
		if want := "Rekindle: " + text; got != want {
			t.Errorf("a text that already says how to opt out:\n got %q\nwant %q", got, want)
		}
	}
}

// The shipped lesson whose text ends "want the hurt to stop?" carries the
// hint when it is the person's first text (or a fourth).
func TestShippedTextWithOrdinaryStopGetsTheHint(t *testing.T) {
	r, progs := shipped(t)
	p := progs["rekindle"]
	comp, err := r.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, tr := range p.Tracks {
		for _, s := range tr.Steps {
			if s.ContentRef != "lessons/18-who-you-are-becoming.md" || !strings.Contains(strings.Join(s.Channels, ","), "sms") {
				continue
			}
			found = true
			v := programs.Vars{FirstName: "Sam", ProgramTitle: p.Title, Day: 1, Week: 1, Phase: p.PhaseTitle(s.Phase)}
			got, err := comp.SMS(s, v, 0)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(got, "hurt to stop?") || !strings.HasSuffix(got, " "+StopHint) {
				t.Errorf("%s: first text has no STOP hint: %q", s.Key, got)
			}
			if got, _ := comp.SMS(s, v, 1); strings.HasSuffix(got, StopHint) {
				t.Errorf("%s: second text carries the hint: %q", s.Key, got)
			}
		}
	}
	if !found {
		t.Fatal("setup: no SMS step uses lessons/18-who-you-are-becoming.md")
	}
}

// stepWithSMS compiles the shipped program and gives one of its SMS steps
// the SMS text tmpl, so a test controls exactly what the step says.
func stepWithSMS(t *testing.T, tmpl string) (*Compiled, *programs.Step) {
	t.Helper()
	r, progs := shipped(t)
	comp, err := r.Compile(progs["rekindle"])
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range comp.Program.Tracks {
		for _, s := range tr.Steps {
			if !strings.Contains(strings.Join(s.Channels, ","), "sms") {
				continue
			}
			cc := *comp.content[s.ContentRef]
			cc.sms = texttemplate.Must(texttemplate.New("sms").Parse(tmpl))
			comp.content[s.ContentRef] = &cc
			return comp, s
		}
	}
	t.Fatal("setup: no SMS step in the shipped program")
	return nil, nil
}

// A step whose own text already tells the person how to opt out does not
// get the hint a second time on the texts that would carry it.
func TestStepThatSaysReplySTOPGetsNoSecondHint(t *testing.T) {
	comp, s := stepWithSMS(t, "Hi {{.FirstName}}, one small step today. Reply STOP to end these texts.")
	got, err := comp.SMS(s, programs.Vars{FirstName: "Sam"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Rekindle: Hi Sam, one small step today. Reply STOP to end these texts."; got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

// What the person typed as their name is not an opt-out instruction: a
// sign-up named "Reply STOP" still gets the hint on their first text.
func TestNameThatLooksLikeAnInstructionDoesNotDropTheHint(t *testing.T) {
	comp, s := stepWithSMS(t, "A note for {{.FirstName}}: write one line about today.")
	got, err := comp.SMS(s, programs.Vars{FirstName: "Reply STOP"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(got, " "+StopHint) {
		t.Errorf("first text without the STOP hint: %q", got)
	}
}
