package programs

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Problem is one thing wrong with a program, located in its file.
type Problem struct {
	File   string
	Line   int
	Field  string
	Reason string
}

func (p Problem) String() string {
	return oneLine(fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Field, p.Reason))
}

// oneLine escapes control characters and invalid UTF-8, which a problem can
// quote from a broken file: each problem stays on its own line.
func oneLine(s string) string {
	if utf8.ValidString(s) && !strings.ContainsFunc(s, unicode.IsControl) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unicode.IsControl(r):
			q := strconv.QuoteRune(r)
			b.WriteString(q[1 : len(q)-1])
		default:
			b.WriteRune(r)
		}
		i += size
	}
	return b.String()
}

// ValidationError lists every problem found in one load. Nothing from a load
// that returned it may be used.
type ValidationError struct {
	Problems []Problem
}

func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}
