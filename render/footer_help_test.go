package render

import (
	"strings"
	"testing"

	"github.com/rekindle/rekindle/programs"
	"github.com/rekindle/rekindle/templates"
)

// The email footer gives the deployment's support contact
// (REKINDLE_SUPPORT_CONTACT), in the HTML and the text part, so someone
// who needs a person knows where to write; without one it says nothing.
func TestEmailFooterGivesTheSupportContact(t *testing.T) {
	r, progs := shipped(t) // HelpContact: help@example.org
	p := progs["rekindle"]
	comp, err := r.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	v := programs.SampleVars(p)
	v.HelpContact = "" // the deployment's own
	m, err := comp.Email(p.Step("lesson-01"), v, nil)
	if err != nil {
		t.Fatal(err)
	}
	const want = "Questions, or need a hand? You can reach us at help@example.org."
	if !strings.Contains(m.HTML, "<p>"+want+"</p>") {
		t.Errorf("the HTML footer lacks %q:\n%s", want, m.HTML[strings.Index(m.HTML, `class="footer"`):])
	}
	if !strings.Contains(m.Text, "\n"+want+"\n") {
		t.Errorf("the text footer lacks %q:\n%s", want, m.Text)
	}

	bare, err := New(templates.FS, Config{SMSBrand: "Rekindle"})
	if err != nil {
		t.Fatal(err)
	}
	comp, err = bare.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	if m, err = comp.Email(p.Step("lesson-01"), v, nil); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.HTML, "reach us at") || strings.Contains(m.Text, "reach us at") {
		t.Errorf("with no support contact the footer still offers one")
	}
}
