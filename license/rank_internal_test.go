package license

import (
	"math"
	"slices"
	"testing"
)

// TestRankOrdersLargestFirst: keys ranked by value sort largest first.
func TestRankOrdersLargestFirst(t *testing.T) {
	values := []float64{math.Inf(1), 1e12, 2240, 280.5, 4, 1, 0.25, 0, -0.5, -3, math.Inf(-1)}
	for i := 1; i < len(values); i++ {
		if rank(values[i-1]) >= rank(values[i]) {
			t.Errorf("rank(%g)=%x does not sort before rank(%g)=%x", values[i-1], rank(values[i-1]), values[i], rank(values[i]))
		}
	}
	if !slices.IsSorted([]uint64{rank(3), rank(2), rank(1)}) {
		t.Error("ranks of 3, 2, 1 not ascending")
	}
}
