package render

import (
	"strings"
	"testing"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/smsseg"
)

// A name GSM-7 cannot send as written ("Zoë") is sent in its plain form
// ("Zoe"), so every text of every shipped step to Zoë is GSM-7 and as many
// segments as the same text to Zoe, by the skeleton path the planner uses
// and the full render the confirmations use. Her emails keep her name as
// she wrote it.
func TestAccentedNameKeepsTextsGSM7(t *testing.T) {
	r, progs := shipped(t)
	named := 0
	for _, p := range progs {
		comp, err := r.Compile(p)
		if err != nil {
			t.Fatal(err)
		}
		fast := comp.Fast(func(token, value string) string { return "https://x.test/checkin/" + token + "?a=" + value })
		for _, tr := range p.Tracks {
			for _, s := range tr.Steps {
				if !strings.Contains(strings.Join(s.Channels, ","), "sms") {
					continue
				}
				texts := map[string][2]string{}
				for _, name := range []string{"Zoë", "Zoe"} {
					v := programs.SampleVars(p)
					v.FirstName = name
					person := Personal{FirstName: name, ManageURL: v.ManageURL, UnsubscribeURL: v.UnsubscribeURL, CheckinToken: "0123456789abcdef"}
					viaFast, err := fast.SMS(s, v, person, true)
					if err != nil {
						t.Fatalf("%s: %v", s.Key, err)
					}
					full, err := comp.SMS(s, v, 0)
					if err != nil {
						t.Fatalf("%s: %v", s.Key, err)
					}
					texts[name] = [2]string{viaFast, full}
				}
				for i, path := range []string{"skeleton", "full render"} {
					zoe, plain := texts["Zoë"][i], texts["Zoe"][i]
					if strings.Contains(plain, "Zoe") {
						named++
					}
					got, want := smsseg.Count(zoe), smsseg.Count(plain)
					if got.Encoding != smsseg.GSM7 || got.Segments != want.Segments {
						t.Errorf("%s (%s): to Zoë %s in %d segments, to Zoe %s in %d:\n%s", s.Key, path, got.Encoding, got.Segments, want.Encoding, want.Segments, zoe)
					}
				}
			}
		}
	}
	if named == 0 {
		t.Fatal("no shipped text carries the name; the test shows nothing")
	}

	comp, _ := r.Compile(progs["rekindle"])
	v := programs.SampleVars(progs["rekindle"])
	v.FirstName = "Zoë"
	m, err := comp.Email(progs["rekindle"].Step("complete"), v, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "Zoë") {
		t.Errorf("the email lost the name as written:\n%s", m.Text)
	}
}
