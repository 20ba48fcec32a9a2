// Package fuzzpad shapes fuzzed strings into the padding a person might type
// around a word, for the fuzz tests of SMS keywords and answers.
package fuzzpad

import (
	"strings"
	"unicode"
)

// Spaces keeps the whitespace runes of s (a fuzzed padding), or one space.
func Spaces(s string) string {
	out := strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return r
		}
		return -1
	}, s)
	if out == "" {
		return " "
	}
	return out
}
