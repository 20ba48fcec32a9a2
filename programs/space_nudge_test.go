package programs

import (
	"strings"
	"testing"
)

// space-nudge is sent as the reply to a "no" on the space check-in, and a
// written reply to it is not read (only keywords and check-in answers
// are). Its text must not ask a question it cannot hear the answer to; it
// invites the person to think of one thing instead.
func TestSpaceNudgeTextAsksNoQuestion(t *testing.T) {
	p, err := Load(Embedded(), "rekindle")
	if err != nil {
		t.Fatal(err)
	}
	s := p.Step("space-nudge")
	if s == nil || p.Content[s.ContentRef] == nil {
		t.Fatal("step space-nudge or its content is missing")
	}
	sms := p.Content[s.ContentRef].SMS
	if strings.Contains(sms, "?") {
		t.Errorf("space-nudge's text asks a question no one reads the answer to: %q", sms)
	}
	if !strings.Contains(sms, "Think of one thing") {
		t.Errorf("space-nudge's text %q does not invite them to think of one thing", sms)
	}
}
