package render

import (
	"testing"

	"github.com/rekindle/rekindle/programs"
)

// Whatever name, token and links a person has, the skeleton gives what the
// templates give: every character an escaper touches, invalid UTF-8, markers
// of the skeleton's own form, and the empty name's fallback.
func FuzzFastMatchesTemplates(f *testing.F) {
	for _, s := range []string{"Sam", "", "  ", `<b>"O'Neil" & co+</b>`, "zRkSlot0Qz", "zRkSlot9Qz", "Chris\x00topher", "\xff\xfe", "李", "STOP", " Sam ", "Sam\n"} {
		f.Add(s, "0123456789abcdef", "s1.a.b")
	}
	r, progs := shipped(f)
	p := progs["rekindle"]
	comp, err := r.Compile(p)
	if err != nil {
		f.Fatal(err)
	}
	fast := comp.Fast(checkinURL)
	var steps []*programs.Step
	for _, tr := range p.Tracks {
		steps = append(steps, tr.Steps[0], tr.Steps[len(tr.Steps)-1])
	}
	f.Add("Sam", "beef", "s1.a.b?x=1&y=%zz")
	f.Add("Sam", "beef", "s1 'quoted' (paren)")
	f.Fuzz(func(t *testing.T, name, token, link string) {
		who := Personal{FirstName: name, ManageURL: "https://x.test/manage/" + link, UnsubscribeURL: "https://x.test/unsubscribe/" + link, CheckinToken: token}
		for _, s := range steps {
			v := programs.Vars{ProgramTitle: p.Title, Day: 3, Week: 1, Phase: p.PhaseTitle(s.Phase)}
			for _, ch := range s.Channels {
				compareFast(t, fast, s, ch, v, who)
			}
		}
	})
}
