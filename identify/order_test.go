package identify

import (
	"fmt"
	"slices"
	"testing"

	"pgregory.net/rapid"

	"github.com/irego/irego/payload"
)

// canonicalOrder makes items' content texts only for the items it must
// compare by content, and compares siblings by their own texts; the order
// must be the one that full texts, made for every item, give.
func TestCanonicalOrderIsTheOrderOfFullTexts(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 12).Draw(t, "n")
		items := make([]payload.Item, n)
		parent := make([]int, n)
		after := make([][]int, n)
		ok := make([]bool, n)
		var strength []int
		if rapid.Bool().Draw(t, "strength") {
			strength = make([]int, n)
		}
		for i := range items {
			// Few classes and values, so that texts tie often.
			items[i] = payload.Item{
				ClassName: rapid.SampledFrom([]string{"a", "b"}).Draw(t, "class"),
				Values:    map[string]any{"name": rapid.SampledFrom([]string{"x", "y", "xy"}).Draw(t, "name")},
			}
			parent[i] = -1
			if i > 0 && rapid.Bool().Draw(t, "hasParent") {
				parent[i] = rapid.IntRange(0, i-1).Draw(t, "parent")
			}
			if rapid.IntRange(0, 3).Draw(t, "refs") == 0 {
				after[i] = append(after[i], rapid.IntRange(0, n-1).Draw(t, "after")) // cycles allowed
			}
			ok[i] = rapid.IntRange(0, 5).Draw(t, "ok") > 0
			if strength != nil {
				strength[i] = rapid.IntRange(0, 1).Draw(t, "strength")
			}
		}
		order, levels := canonicalOrder(items, parent, after, ok, strength)
		wantOrder, wantLevels := orderByFullTexts(items, parent, after, ok, strength)
		if !slices.Equal(order, wantOrder) || fmt.Sprint(levels) != fmt.Sprint(wantLevels) {
			t.Fatalf("order %v levels %v, want %v %v", order, levels, wantOrder, wantLevels)
		}
	})
}

// orderByFullTexts is canonicalOrder as it was written first: every item's
// full text made up front.
func orderByFullTexts(items []payload.Item, parent []int, after [][]int, ok []bool, strength []int) (order []int, levels [][]int) {
	n := len(items)
	depth := make([]int, n)
	key := make([]string, n)
	var walk func(i int) string
	walk = func(i int) string {
		if key[i] != "" {
			return key[i]
		}
		k := itemKey(&items[i])
		if p := parent[i]; p >= 0 {
			pk := walk(p)
			depth[i] = depth[p] + 1
			k = pk + "\x01" + k
		}
		key[i] = k
		for _, a := range after[i] {
			if a >= 0 && a < n && key[a] == "" && a != i {
				walk(a)
			}
			if key[a] != "" && depth[a]+1 > depth[i] && !reaches(parent, after, a, i) {
				depth[i] = depth[a] + 1
			}
		}
		return k
	}
	for i := range items {
		if ok[i] {
			walk(i)
			order = append(order, i)
		}
	}
	sortByDepth(order, depth, strength, func(a, b int) (bool, bool) { return key[a] < key[b], key[a] != key[b] })
	return order, splitLevels(order, depth)
}
