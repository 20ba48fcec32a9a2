package programs

import (
	"fmt"
	"strings"
)

// Problem is one thing wrong with a program, located in its file.
type Problem struct {
	File   string
	Line   int
	Field  string
	Reason string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", p.File, p.Line, p.Field, p.Reason)
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
