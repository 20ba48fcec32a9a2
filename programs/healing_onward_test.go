package programs

import (
	"strings"
	"testing"
)

// healing-onward tells someone who is still not ready what the next lessons
// are about. The first two (self-reflection, your part) are about the
// relationship, so the message must not say the phase is "not about the
// relationship"; it says they look back at it, and the lessons do.
func TestHealingOnwardDescribesTheNextLessonsTruly(t *testing.T) {
	p, err := Load(Embedded(), "rekindle")
	if err != nil {
		t.Fatal(err)
	}
	body := func(key string) string {
		t.Helper()
		s := p.Step(key)
		if s == nil || p.Content[s.ContentRef] == nil {
			t.Fatalf("step %s or its content is missing", key)
		}
		return p.Content[s.ContentRef].Body
	}
	onward := body("healing-onward")
	if strings.Contains(onward, "not about the relationship") {
		t.Errorf("healing-onward says the next lessons are not about the relationship:\n%s", onward)
	}
	if !strings.Contains(onward, "The first two look back at the relationship and your part in it") {
		t.Errorf("healing-onward does not say the first lessons look back at the relationship:\n%s", onward)
	}
	for _, key := range []string{"lesson-10", "lesson-11"} {
		if s := p.Step(key); s.Phase != "self-improvement" {
			t.Errorf("%s is in phase %q; healing-onward speaks of it as the first of self-improvement", key, s.Phase)
		}
		if b := body(key); !strings.Contains(b, "relationship") {
			t.Errorf("%s does not speak of the relationship, as healing-onward says it does", key)
		}
	}
}
