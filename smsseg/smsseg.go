// Package smsseg counts how an SMS text will be encoded and into how many
// segments a carrier splits it.
//
// A text that uses only characters of the GSM 03.38 default alphabet (basic
// set plus extension table) is sent as GSM-7: a basic character costs one
// septet, an extension-table character (^ { } \ [ ] ~ | € and form feed)
// costs two, because it is sent as ESC followed by the character. One segment
// holds 160 septets; a concatenated message spends 7 septets of each segment
// on the concatenation header, leaving 153.
//
// Any other character forces the whole text into UCS-2, where every UTF-16
// code unit costs one unit (a character outside the Basic Multilingual Plane,
// such as most emoji, costs two). One segment holds 70 units; concatenated
// segments hold 67.
//
// Phones and carriers never split an escape pair or a surrogate pair across
// segments, so a segment may end one unit short; Count does the same.
package smsseg

import (
	"strings"
	"unicode/utf16"
)

// Encodings reported in Info.Encoding.
const (
	GSM7 = "GSM-7"
	UCS2 = "UCS-2"
)

// Segment sizes, in septets (GSM-7) or UTF-16 code units (UCS-2).
const (
	GSM7Single = 160 // one-segment GSM-7 message
	GSM7Multi  = 153 // per segment of a concatenated GSM-7 message
	UCS2Single = 70  // one-segment UCS-2 message
	UCS2Multi  = 67  // per segment of a concatenated UCS-2 message
)

// Info describes how a text is sent.
type Info struct {
	// Encoding is GSM7 or UCS2.
	Encoding string
	// Units is the encoded length: septets for GSM-7 (extension-table
	// characters count 2), UTF-16 code units for UCS-2.
	Units int
	// Segments is the number of SMS segments; 0 for an empty text.
	Segments int
	// NonGSM lists the distinct characters that forced UCS-2, in order of
	// first appearance. It is nil for a GSM-7 text.
	NonGSM []rune
}

// gsmBasic is the GSM 03.38 default alphabet (basic character set), minus
// the ESC code 0x1B, which is not a character a text can contain. The
// alphabets are constant strings, not maps, so the package needs no init.
const gsmBasic = "@£$¥èéùìòÇ\nØø\rÅå" +
	"Δ_ΦΓΛΩΠΨΣΘΞÆæßÉ" +
	" !\"#¤%&'()*+,-./" +
	"0123456789:;<=>?" +
	"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§" +
	"¿abcdefghijklmnopqrstuvwxyzäöñüà"

// gsmExtension is the GSM 03.38 default alphabet extension table (form feed,
// ^ { } \ [ ~ ] | €); each is sent as ESC + code and costs two septets.
const gsmExtension = "\f^{}\\[~]|€"

// IsGSM reports whether r can be sent in GSM-7 (basic set or extension table).
func IsGSM(r rune) bool { return septets(r) > 0 }

// septets is what r costs in GSM-7: 1 for the basic set, 2 for the extension
// table, 0 if r is not in the alphabet.
func septets(r rune) int {
	switch {
	case strings.ContainsRune(gsmBasic, r):
		return 1
	case strings.ContainsRune(gsmExtension, r):
		return 2
	}
	return 0
}

// Count reports the encoding, length and segment count of s. Invalid UTF-8
// bytes are counted as U+FFFD, which forces UCS-2.
func Count(s string) Info {
	var nonGSM []rune
	seen := map[rune]bool{}
	for _, r := range s {
		if !IsGSM(r) && !seen[r] {
			seen[r] = true
			nonGSM = append(nonGSM, r)
		}
	}
	if len(nonGSM) == 0 {
		units, segs := split(s, septets, GSM7Single, GSM7Multi)
		return Info{Encoding: GSM7, Units: units, Segments: segs}
	}
	units, segs := split(s, utf16.RuneLen, UCS2Single, UCS2Multi)
	return Info{Encoding: UCS2, Units: units, Segments: segs, NonGSM: nonGSM}
}

// split counts the units of s (each rune costing width(r)) and the segments
// it needs, never splitting one rune's units across two segments.
func split(s string, width func(rune) int, single, multi int) (units, segments int) {
	for _, r := range s {
		units += width(r)
	}
	switch {
	case units == 0:
		return 0, 0
	case units <= single:
		return units, 1
	}
	segments, used := 1, 0
	for _, r := range s {
		w := width(r)
		if used+w > multi {
			segments++
			used = 0
		}
		used += w
	}
	return units, segments
}
