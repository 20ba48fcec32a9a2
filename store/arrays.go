package store

import (
	"database/sql/driver"
	"strings"
)

// textArray is a text[] parameter. Unlike pq.Array it measures the whole
// literal first and writes it into one exactly sized buffer: the planner's
// arrays carry every rendered body of a batch (megabytes), and growing a
// buffer by doubling copied each of them several times over.
type textArray []string

// Value renders the array literal, quoting every element.
func (a textArray) Value() (driver.Value, error) {
	if a == nil {
		return nil, nil
	}
	size := 2 + len(a) // braces and separators
	for _, s := range a {
		size += 2 + len(s) + escapes(s)
	}
	b := make([]byte, 0, size)
	b = append(b, '{')
	for i, s := range a {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '"')
		for {
			j := indexEscape(s)
			if j < 0 {
				b = append(b, s...)
				break
			}
			b = append(b, s[:j]...)
			b = append(b, '\\', s[j])
			s = s[j+1:]
		}
		b = append(b, '"')
	}
	return append(b, '}'), nil
}

// escapes counts the bytes that need a backslash inside a quoted element.
func escapes(s string) int { return strings.Count(s, `"`) + strings.Count(s, `\`) }

func indexEscape(s string) int { return strings.IndexAny(s, `"\`) }
