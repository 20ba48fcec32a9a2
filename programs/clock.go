package programs

import (
	"fmt"
	"strconv"
	"strings"
)

// parseClock reads "HH:MM" (24 h) as minutes after midnight.
func parseClock(s string) (int, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, fmt.Errorf("%q is not a time of day: want HH:MM", s)
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("%q is not a time of day: want HH:MM between 00:00 and 23:59", s)
	}
	return hh*60 + mm, nil
}

// ParseClock reads "HH:MM" (24 h) as minutes after midnight.
func ParseClock(s string) (int, error) { return parseClock(s) }
