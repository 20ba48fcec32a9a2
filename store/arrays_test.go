package store

import (
	"testing"

	"github.com/lib/pq"
)

// textArray must write exactly the literal lib/pq writes for []string, which
// PostgreSQL parses back to the same strings.
func TestTextArrayMatchesPQ(t *testing.T) {
	cases := [][]string{
		{},
		{""},
		{"plain", "two words", "a,comma", "{braces}", "NULL", "null"},
		{`say "hi"`, `back\slash`, `\"both\"`, "line\nbreak\ttab", "ünïcödé ✓", `"`, `\`},
		{"<p class=\"lead\">Hello, {{.FirstName}}</p>\n<a href=\"https://x.example/u?a=1&b=2\">unsubscribe</a>"},
	}
	for _, c := range cases {
		want, err := pq.StringArray(c).Value()
		if err != nil {
			t.Fatal(err)
		}
		got, err := textArray(c).Value()
		if err != nil {
			t.Fatal(err)
		}
		if string(got.([]byte)) != want.(string) {
			t.Errorf("%q:\n got %s\nwant %s", c, got, want)
		}
	}
	if v, _ := textArray(nil).Value(); v != nil {
		t.Errorf("nil array: got %v, want NULL", v)
	}
}
