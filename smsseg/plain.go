package smsseg

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// noDecomposition are letters with a plain GSM-7 form that Unicode does not
// give as a base letter plus marks (a stroke is part of the letter), and the
// curly quotes phones put in names such as O’Brien.
var noDecomposition = map[rune]string{
	'ł': "l", 'Ł': "L", 'đ': "d", 'Đ': "D", 'ı': "i", 'ħ': "h", 'Ħ': "H",
	'œ': "oe", 'Œ': "OE", 'þ': "th", 'Þ': "Th", 'ð': "d",
	'’': "'", '‘': "'", 'ʼ': "'", '“': "\"", '”': "\"",
}

// Plain returns s with each character that GSM-7 cannot send replaced by
// its plain GSM-7 form where it has one ("Zoë" is "Zoe", "Łukasz" is
// "Lukasz"): one such character in a name would send every text to that
// person as UCS-2, in two or three times the segments. A character GSM-7
// has is kept as it is ("José", "Jürgen"), and so is one with no plain
// form ("Мария", "陈"): a name is better sent whole than guessed at.
func Plain(s string) string {
	if Count(s).Encoding == GSM7 {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if IsGSM(r) {
			b.WriteRune(r)
		} else if p, ok := plainRune(r); ok {
			b.WriteString(p)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// plainRune is r's GSM-7 form: its letters without their accents (the
// combining marks of its canonical decomposition), when those are GSM-7.
func plainRune(r rune) (string, bool) {
	if p, ok := noDecomposition[r]; ok {
		return p, true
	}
	var b strings.Builder
	for _, d := range norm.NFD.String(string(r)) {
		if unicode.Is(unicode.Mn, d) {
			continue
		}
		if !IsGSM(d) {
			return "", false
		}
		b.WriteRune(d)
	}
	return b.String(), b.Len() > 0
}
