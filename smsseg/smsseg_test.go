package smsseg

import (
	"slices"
	"strings"
	"testing"
)

func TestCount(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		encoding string
		units    int
		segments int
		nonGSM   []rune
	}{
		{"empty", "", GSM7, 0, 0, nil},
		{"short", "Rekindle: today's lesson is in your inbox.", GSM7, 42, 1, nil},
		{"160 GSM-7", strings.Repeat("a", 160), GSM7, 160, 1, nil},
		{"161 GSM-7", strings.Repeat("a", 161), GSM7, 161, 2, nil},
		{"306 GSM-7", strings.Repeat("a", 306), GSM7, 306, 2, nil},
		{"307 GSM-7", strings.Repeat("a", 307), GSM7, 307, 3, nil},
		{"euro counts 2", "€", GSM7, 2, 1, nil},
		{"whole extension table", "^{}\\[~]|€\f", GSM7, 20, 1, nil},
		{"80 euros fill one segment", strings.Repeat("€", 80), GSM7, 160, 1, nil},
		{"159 plus euro is two", strings.Repeat("a", 159) + "€", GSM7, 161, 2, nil},
		// 152 septets, then an escape pair that would straddle the
		// boundary: it moves whole to segment 2 (152 | 2+151 = 153 | 1).
		{"escape pair not split", strings.Repeat("a", 152) + "€" + strings.Repeat("a", 152), GSM7, 306, 3, nil},
		{"escape pair fits exactly", strings.Repeat("a", 151) + "€" + strings.Repeat("a", 153), GSM7, 306, 2, nil},
		{"basic set accents and greek", "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà", GSM7, 42, 1, nil},
		{"CRLF", "a\r\nb", GSM7, 4, 1, nil},
		{"one emoji", "🙂", UCS2, 2, 1, []rune{'🙂'}},
		{"70 UCS-2", strings.Repeat("ж", 70), UCS2, 70, 1, []rune{'ж'}},
		{"71 UCS-2", strings.Repeat("ж", 71), UCS2, 71, 2, []rune{'ж'}},
		{"134 UCS-2", strings.Repeat("ж", 134), UCS2, 134, 2, []rune{'ж'}},
		{"135 UCS-2", strings.Repeat("ж", 135), UCS2, 135, 3, []rune{'ж'}},
		// 66 units, then a surrogate pair that would straddle the boundary.
		{"surrogate pair not split", "—" + strings.Repeat("a", 65) + "🙂" + strings.Repeat("a", 66), UCS2, 134, 3, []rune{'—', '🙂'}},
		{"surrogate pair fits exactly", "—" + strings.Repeat("a", 64) + "🙂" + strings.Repeat("a", 67), UCS2, 134, 2, []rune{'—', '🙂'}},
		{"curly quote", "It’s okay", UCS2, 9, 1, []rune{'’'}},
		{"em dash", "Rest — then write", UCS2, 17, 1, []rune{'—'}},
		{"distinct in order", "“Hi” — it’s “fine”", UCS2, 18, 1, []rune{'“', '”', '—', '’'}},
		{"lower c cedilla is not GSM", "ç", UCS2, 1, 1, []rune{'ç'}},
		{"euro in UCS-2 counts 1", "€ ж", UCS2, 3, 1, []rune{'ж'}},
		{"tab is not GSM", "a\tb", UCS2, 3, 1, []rune{'\t'}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Count(tt.in)
			if got.Encoding != tt.encoding || got.Units != tt.units || got.Segments != tt.segments {
				t.Errorf("Count(%q) = %s, %d units, %d segments; want %s, %d, %d",
					tt.in, got.Encoding, got.Units, got.Segments, tt.encoding, tt.units, tt.segments)
			}
			if !slices.Equal(got.NonGSM, tt.nonGSM) {
				t.Errorf("Count(%q).NonGSM = %q, want %q", tt.in, got.NonGSM, tt.nonGSM)
			}
		})
	}
}

func TestAlphabetSize(t *testing.T) {
	// 128 codes in the basic set, one of them ESC; 10 in the extension table.
	basic, ext := []rune(gsmBasic), []rune(gsmExtension)
	if len(basic) != 127 {
		t.Errorf("basic set has %d characters, want 127", len(basic))
	}
	if len(ext) != 10 {
		t.Errorf("extension table has %d characters, want 10", len(ext))
	}
	seen := map[rune]bool{}
	for _, r := range append(basic, ext...) {
		if seen[r] {
			t.Errorf("%q is listed twice", r)
		}
		seen[r] = true
	}
}

func TestIsGSM(t *testing.T) {
	for _, r := range "Aa0 @\n€^" {
		if !IsGSM(r) {
			t.Errorf("IsGSM(%q) = false", r)
		}
	}
	for _, r := range "’“—…🙂\x1b`" {
		if IsGSM(r) {
			t.Errorf("IsGSM(%q) = true", r)
		}
	}
}

// Plain keeps names whole in GSM-7 where it can: accents GSM-7 lacks go,
// those it has stay, and a name with no plain form is left as written.
func TestPlain(t *testing.T) {
	for in, want := range map[string]string{
		"Zoë":           "Zoe",
		"Zoe":           "Zoe",
		"Łukasz":        "Lukasz",
		"Michał Wałęsa": "Michal Walesa",
		// Every letter whose plain form Unicode does not give, and the curly
		// quotes phones type.
		"đĐıħĦœŒþÞð ‘a’ ʼb “c”": "dDihHoeOEthThd 'a' 'b \"c\"",
		"Nguyễn Thị":    "Nguyen Thi",
		"Ana-María":     "Ana-Maria",
		"José Jürgen":   "José Jürgen", // é and ü are GSM-7
		"O’Brien":       "O'Brien",
		"Мария":         "Мария",
		"Zoë and Мария": "Zoe and Мария",
		"":              "",
	} {
		if got := Plain(in); got != want {
			t.Errorf("Plain(%q) = %q, want %q", in, got, want)
		}
	}
	if info := Count(Plain("Zoë")); info.Encoding != GSM7 {
		t.Errorf("Plain(\"Zoë\") is %s", info.Encoding)
	}
}
