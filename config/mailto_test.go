package config

import (
	"errors"
	"strings"
	"testing"
)

func TestUnsubscribeMailtoConfig(t *testing.T) {
	c, src, err := Load(env(nil), nil)
	if err != nil || c.UnsubMailto != "" || src["REKINDLE_UNSUBSCRIBE_MAILTO"] != "default" {
		t.Fatalf("unset: %q (%s), %v; want empty by default", c.UnsubMailto, src["REKINDLE_UNSUBSCRIBE_MAILTO"], err)
	}
	c, _, err = Load(env(map[string]string{"REKINDLE_UNSUBSCRIBE_MAILTO": "unsubscribe@lessons.example.org"}), nil)
	if err != nil || c.UnsubMailto != "unsubscribe@lessons.example.org" {
		t.Fatalf("a plain address: %q, %v", c.UnsubMailto, err)
	}
	for _, bad := range []string{"Rekindle <unsubscribe@example.org>", "mailto:unsubscribe@example.org", "unsubscribe", "a@b@example.org", " x@example.org"} {
		_, _, err := Load(env(map[string]string{"REKINDLE_UNSUBSCRIBE_MAILTO": bad}), nil)
		var ce *Error
		if !errors.As(err, &ce) || ce.Name != "REKINDLE_UNSUBSCRIBE_MAILTO" || !strings.Contains(err.Error(), "REKINDLE_UNSUBSCRIBE_MAILTO") {
			t.Errorf("%q: got %v, want an error naming REKINDLE_UNSUBSCRIBE_MAILTO", bad, err)
		}
	}
}
