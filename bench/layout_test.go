package bench

import (
	"testing"
	"time"
)

// Exactly due of n people are due, each with its own rank, for any sizes.
func TestLayoutMakesExactlyDueDue(t *testing.T) {
	for _, c := range []struct{ n, due int }{{10, 3}, {10, 10}, {1000, 1}, {1000000, 10000}, {999, 998}, {7, 0}} {
		for _, clustered := range []bool{false, true} {
			l := layout{n: c.n, due: c.due, clustered: clustered}
			seen := make([]bool, c.due)
			count, last := 0, 0
			for i := 1; i <= c.n; i++ {
				k, ok := l.dueRank(i)
				if !ok {
					continue
				}
				if k < 0 || k >= c.due || seen[k] {
					t.Fatalf("n=%d due=%d clustered=%v: person %d has rank %d twice or out of range", c.n, c.due, clustered, i, k)
				}
				seen[k] = true
				count++
				last = i
			}
			if count != c.due {
				t.Fatalf("n=%d due=%d clustered=%v: %d due", c.n, c.due, clustered, count)
			}
			// Spread: the due reach the end of the table, not just its start.
			if !clustered && c.due > 1 && last <= c.n-c.n/c.due {
				t.Fatalf("n=%d due=%d: last due person is %d, want near the end", c.n, c.due, last)
			}
		}
	}
}

func TestAddressesNamePeople(t *testing.T) {
	for _, i := range []int{1, 42, 1000000} {
		if got, ok := personOf(address(i)); !ok || got != i {
			t.Fatalf("personOf(%q) = %d, %v", address(i), got, ok)
		}
	}
	for _, a := range []string{"sam@example.org", "bx@bench.invalid", "b12"} {
		if _, ok := personOf(a); ok {
			t.Fatalf("personOf(%q) accepted an address the bench did not make", a)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 1000; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Millisecond}, {0.99, 990 * time.Millisecond}, {1, time.Second}} {
		got := h.quantile(c.q)
		if got < c.want*98/100 || got > c.want*102/100 {
			t.Errorf("p%g = %s, want %s within 2%%", c.q*100, got, c.want)
		}
	}
	var empty histogram
	if empty.quantile(0.99) != 0 {
		t.Error("an empty histogram has no p99")
	}
}
