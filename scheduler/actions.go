package scheduler

import (
	"fmt"
	"slices"
	"strings"
)

// A branch or command reports what it did as short actions ("send support",
// "switch moving-on", "extend 7d (1 of 2)"), kept in events and logs. They
// are written here and read back here, so the replies that say what an
// answer did (web) never parse a format they do not own.

const extendLimitAction = "extend limit reached"

func extendAction(days, n, max int) string { return fmt.Sprintf("extend %dd (%d of %d)", days, n, max) }

func switchAction(track string) string { return "switch " + track }

// SwitchedTo is the track the actions switched to, or "".
func SwitchedTo(acts []string) string {
	for _, a := range acts {
		if t, ok := strings.CutPrefix(a, "switch "); ok {
			return t
		}
	}
	return ""
}

// ExtendedBy is how many days the actions held the program back, or 0.
func ExtendedBy(acts []string) int {
	for _, a := range acts {
		var days, n, max int
		if _, err := fmt.Sscanf(a, "extend %dd (%d of %d)", &days, &n, &max); err == nil {
			return days
		}
	}
	return 0
}

// ExtendLimitReached reports whether an extend branch found no extra time
// left to give.
func ExtendLimitReached(acts []string) bool { return slices.Contains(acts, extendLimitAction) }
