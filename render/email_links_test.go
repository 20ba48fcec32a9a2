package render

import (
	"strings"
	"testing"

	"github.com/rekindle/rekindle/programs"
)

// Each answer button links to its answer's value (what the branch rules
// match), and reads as its label, or as the value when it has none.
func TestLinksForUseValuesAndLabels(t *testing.T) {
	c := &programs.Checkin{Question: "How was today?", Answers: []programs.Answer{
		{Value: "3", Label: "Good"},
		{Value: "1"},
	}}
	got := LinksFor(c, func(v string) string { return "https://r.example/checkin/tok?a=" + v })
	if got.Question != "How was today?" || len(got.Answers) != 2 {
		t.Fatalf("links %+v", got)
	}
	if a := got.Answers[0]; a.Label != "Good" || a.URL != "https://r.example/checkin/tok?a=3" {
		t.Errorf("labelled answer: %+v", a)
	}
	if a := got.Answers[1]; a.Label != "1" || a.URL != "https://r.example/checkin/tok?a=1" {
		t.Errorf("unlabelled answer: %+v", a)
	}
	if LinksFor(nil, nil) != nil {
		t.Error("links for a step that asks nothing")
	}
}

// Every email a person gets carries the way to manage their program, in
// both parts; a check-in email asks the step's question even when the links
// came without it; the text part ends in exactly one newline.
func TestEmailCarriesManageLinkAndCheckinQuestion(t *testing.T) {
	r, progs := shipped(t)
	p := progs["rekindle"]
	comp, err := r.Compile(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range p.Tracks {
		for _, s := range tr.Steps {
			if s.Checkin == nil || s.Checkin.Question == "" || !strings.Contains(strings.Join(s.Channels, ","), "email") {
				continue
			}
			v := programs.SampleVars(p)
			v.ManageURL = "https://r.example/manage/MANAGE-TOKEN"
			links := LinksFor(s.Checkin, func(v string) string { return "https://r.example/checkin/t?a=" + v })
			links.Question = ""
			m, err := comp.Email(s, v, links)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(m.HTML, v.ManageURL) || !strings.Contains(m.Text, v.ManageURL) {
				t.Errorf("%s: no manage link in the email", s.Key)
			}
			q := s.Checkin.Question
			if !strings.Contains(m.Text, q) {
				t.Errorf("%s: the text part does not ask %q", s.Key, q)
			}
			if !strings.HasSuffix(m.Text, "\n") || strings.HasSuffix(m.Text, "\n\n") || strings.TrimLeft(m.Text, " \n") != m.Text {
				t.Errorf("%s: text part not trimmed to one final newline: %q...%q", s.Key, m.Text[:min(20, len(m.Text))], m.Text[max(0, len(m.Text)-20):])
			}
			return
		}
	}
	t.Fatal("setup: no email check-in step with a question in the shipped program")
}

// A person's values never leave a message blank: no name reads "there",
// and no support text or help contact of their own means the deployment's.
func TestWithDefaultsFillsFromTheDeployment(t *testing.T) {
	r, _ := shipped(t)
	v := r.withDefaults(programs.Vars{FirstName: "  "})
	if v.FirstName != "there" || v.Support != r.cfg.Support || v.HelpContact != "help@example.org" {
		t.Errorf("defaults: name %q support %q help %q", v.FirstName, v.Support, v.HelpContact)
	}
	v = r.withDefaults(programs.Vars{FirstName: "Sam", Support: "own", HelpContact: "own@example.org"})
	if v.FirstName != "Sam" || v.Support != "own" || v.HelpContact != "own@example.org" {
		t.Errorf("own values replaced: %+v", v)
	}
}
