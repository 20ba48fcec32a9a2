package logging

import (
	"bytes"
	"strings"
	"testing"
)

// Key spellings an engineer may reach for: the deny list must catch them
// all (an acronym before the word, a digit before it, the short forms).
func TestDeniedKeySpellings(t *testing.T) {
	for _, k := range []string{"SMTPPassword", "APIToken", "oauth2Token", "passwd", "db_passwd", "cookie", "Set-Cookie", "sessionCookie"} {
		if !DeniedKey(k) {
			t.Errorf("DeniedKey(%q) = false, want true", k)
		}
	}
}

// Everything under a denied group stays out, however it gets there: attrs
// added with With, and groups nested inside it.
func TestDeniedGroupHidesWithAndNestedGroups(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "text", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.WithGroup("secret").With("value", "LEAK-with").Info("a")
	log.WithGroup("body").WithGroup("part").Info("b", "line", "LEAK-nested")
	log.WithGroup("body").WithGroup("part").With("line", "LEAK-nested-with").Info("c")
	if out := buf.String(); strings.Contains(out, "LEAK") {
		t.Errorf("a denied group leaked:\n%s", out)
	}
}

// Raw bytes (a provider's response body, an SMTP reply) are masked like
// strings.
func TestRedactMasksByteSlices(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "text", "info")
	if err != nil {
		t.Fatal(err)
	}
	log.Info("reply", "raw", []byte("550 <jane@example.org> unknown, call +1 212 555 4567"))
	out := buf.String()
	if strings.Contains(out, "jane@") || strings.Contains(out, "555 4567") || !strings.Contains(out, "j***@example.org") {
		t.Errorf("bytes not masked:\n%s", out)
	}
}

// Phone numbers as people write them: with two separators in a row, without
// a space after the area code, and the shortest international form.
func TestMaskTextPhoneSpellings(t *testing.T) {
	for in, want := range map[string]string{
		"to +1 (212) 555-4567 now":  "to +1******4567 now",
		"to (212)555-4567 now":      "to 2*****4567 now",
		"to +1234567 now":           "to +1**4567 now",
		"to +44 20 7946 0958 today": "to +4*******0958 today",
	} {
		if got := MaskText(in); got != want {
			t.Errorf("MaskText(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}
