package faults

import "time"

// between counts the times in ts within [from, to].
func between(ts []time.Time, from, to time.Time) int {
	n := 0
	for _, x := range ts {
		if !x.Before(from) && !x.After(to) {
			n++
		}
	}
	return n
}
