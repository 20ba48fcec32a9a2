package cli

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nyaruka/phonenumbers"
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// FuzzContact runs the --email/--phone normaliser every person command uses.
// It must not panic; an accepted phone is E.164 and parses back to itself;
// an accepted email is lower-case text PostgreSQL can store; a refusal names
// the flag.
func FuzzContact(f *testing.F) {
	for _, c := range [][3]string{
		{"ana@example.org", "+351912345678", "US"},
		{"Ana@Example.org", "07400 123456", "GB"},
		{"", "(202) 555-0143", "US"},
		{"not-an-address", "", "US"},
		{"", "12345", "US"},
		{"", "+44 7400 123456 ext. 9", "GB"},
		{"", "tel:+1-202-555-0143", ""},
		{"", "０７４００ １２３４５６", "GB"},
		{"a@b", "", "US"},
		{"\"a b\"@example.org", "", "US"},
		{"a\x00@example.org", "", "US"},
		{"b\xff@example.org", "", "US"},
		{"", "+1 202 555 0143", "ZZ"},
		{"", "+800 1234 5678", "US"},
	} {
		f.Add(c[0], c[1], c[2])
	}
	f.Fuzz(func(t *testing.T, email, phone, region string) {
		e, p, err := contact(email, phone, region)
		if err != nil {
			if e != "" || p != "" {
				t.Fatal("an error and a value")
			}
			if !strings.Contains(err.Error(), "--email") && !strings.Contains(err.Error(), "--phone") {
				t.Fatalf("the error names no flag: %v", err)
			}
			return
		}
		if (email == "") != (e == "") || (phone == "") != (p == "") {
			t.Fatalf("%q/%q normalised to %q/%q", email, phone, e, p)
		}
		if e != "" && (e != strings.ToLower(e) || !utf8.ValidString(e) || !strings.EqualFold(e, email) || strings.ContainsAny(e, "\x00 \t\r\n<>")) {
			t.Fatalf("email %q accepted as %q", email, e)
		}
		if p != "" {
			if !e164.MatchString(p) {
				t.Fatalf("phone %q accepted as %q: not E.164", phone, p)
			}
			n, err := phonenumbers.Parse(p, "")
			if err != nil || !phonenumbers.IsValidNumber(n) || phonenumbers.Format(n, phonenumbers.E164) != p {
				t.Fatalf("phone %q does not parse back to itself (%v)", p, err)
			}
		}
	})
}
