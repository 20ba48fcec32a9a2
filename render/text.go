package render

import (
	"regexp"
	"strings"
)

var (
	mdLink     = regexp.MustCompile(`\[([^\]]+)\]\(([^)\s]+)\)`)
	mdEmphasis = regexp.MustCompile(`(\*\*|__|\*|_)([^*_\n]+)(\*\*|__|\*|_)`)
	mdHeading  = regexp.MustCompile(`(?m)^#{1,6}\s+(.*)$`)
)

// markdownToText makes the plain-text alternative from the lesson's Markdown
// source: Markdown is already meant to read as text, so only links, emphasis
// and heading marks are rewritten.
func markdownToText(md string) string {
	s := mdLink.ReplaceAllString(md, "$1 ($2)")
	s = mdHeading.ReplaceAllStringFunc(s, func(h string) string {
		title := strings.TrimSpace(strings.TrimLeft(h, "#"))
		return strings.ToUpper(title[:1]) + title[1:]
	})
	s = mdEmphasis.ReplaceAllString(s, "$2")
	return s
}
