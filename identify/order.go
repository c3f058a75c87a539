package identify

import (
	"sort"
	"strings"

	"github.com/irego/irego/payload"
)

// canonicalOrder returns the indexes of items sorted so that every item
// comes after the item it depends on, and items at the same depth are sorted
// by their content rather than their position. Processing in this order
// makes the outcome independent of how the payload lists its items.
// after[i] lists items that must come before item i besides its parent
// (the items its references name); a cycle among them is ignored. Within
// a depth, items of lower strength[i] (nil: all alike) come first. levels
// splits the order by depth: each level needs only the levels before it.
func canonicalOrder(items []payload.Item, parent []int, after [][]int, ok []bool, strength []int) (order []int, levels [][]int) {
	n := len(items)
	depth := make([]int, n)
	// own[i] is item i's content text (itemKey), made when first needed:
	// only items a depth and a strength do not order apart are compared by
	// content. An item's full key is its parent's, 0x01, then its own, so
	// two datacenters with one object_id under different accounts sort by
	// their accounts; siblings compare their own texts alone.
	own := make([]string, n)
	hasOwn := make([]bool, n)
	ownKey := func(i int) string {
		if !hasOwn[i] {
			own[i], hasOwn[i] = itemKey(&items[i]), true
		}
		return own[i]
	}
	full := make([]string, n)
	hasFull := make([]bool, n)
	var fullKey func(i int) string
	fullKey = func(i int) string {
		if !hasFull[i] {
			k := ownKey(i)
			if p := parent[i]; p >= 0 {
				k = fullKey(p) + "\x01" + k
			}
			full[i], hasFull[i] = k, true
		}
		return full[i]
	}
	keyLess := func(a, b int) (less, differ bool) {
		ka, kb := ownKey(a), ownKey(b)
		if parent[a] != parent[b] {
			ka, kb = fullKey(a), fullKey(b)
		}
		return ka < kb, ka != kb
	}
	// walked is set once an item's depth from its parent is known, and
	// before the items it must come after are walked (a cycle among them
	// stops there).
	walked := make([]bool, n)
	var walk func(i int)
	walk = func(i int) {
		if walked[i] {
			return
		}
		if p := parent[i]; p >= 0 {
			walk(p)
			depth[i] = depth[p] + 1
		}
		walked[i] = true
		if after != nil {
			for _, a := range after[i] {
				if a >= 0 && a < n && !walked[a] && a != i {
					walk(a)
				}
				if walked[a] && depth[a]+1 > depth[i] && !reaches(parent, after, a, i) {
					depth[i] = depth[a] + 1
				}
			}
		}
	}
	for i := range items {
		if ok[i] {
			walk(i)
			order = append(order, i)
		}
	}
	sortByDepth(order, depth, strength, keyLess)
	return order, splitLevels(order, depth)
}

// sortByDepth sorts order by depth, then strength (nil: all alike), then
// content (byContent says whether two items' contents differ, and which
// comes first), then position.
func sortByDepth(order, depth, strength []int, byContent func(a, b int) (less, differ bool)) {
	sort.SliceStable(order, func(a, b int) bool {
		ia, ib := order[a], order[b]
		if depth[ia] != depth[ib] {
			return depth[ia] < depth[ib]
		}
		if strength != nil && strength[ia] != strength[ib] {
			return strength[ia] < strength[ib]
		}
		if less, differ := byContent(ia, ib); differ {
			return less
		}
		return ia < ib // identical content: order cannot matter
	})
}

// splitLevels splits order, sorted by depth, into its depths.
func splitLevels(order, depth []int) (levels [][]int) {
	for k, i := range order {
		if k == 0 || depth[order[k-1]] != depth[i] {
			levels = append(levels, nil)
		}
		levels[len(levels)-1] = append(levels[len(levels)-1], i)
	}
	return levels
}

// reaches reports whether item from depends, through parents and
// references, on item to (a cycle if to also depends on from).
func reaches(parent []int, after [][]int, from, to int) bool {
	seen := map[int]bool{}
	var visit func(i int) bool
	visit = func(i int) bool {
		if i == to {
			return true
		}
		if i < 0 || seen[i] {
			return false
		}
		seen[i] = true
		if visit(parent[i]) {
			return true
		}
		if after != nil {
			for _, a := range after[i] {
				if visit(a) {
					return true
				}
			}
		}
		return false
	}
	return visit(from)
}

// itemKey is a canonical text of an item's class, values and related items.
func itemKey(it *payload.Item) string {
	var b strings.Builder
	b.WriteString(recordKey(it.ClassName, it.Values))
	rel := make([]string, 0, len(it.Related)+len(it.Lookup))
	for _, r := range it.Related {
		rel = append(rel, recordKey(r.ClassName, r.Values))
	}
	for _, l := range it.Lookup {
		rel = append(rel, "lookup\x00"+recordKey(l.ClassName, l.Values))
	}
	sort.Strings(rel)
	for _, r := range rel {
		b.WriteString("\x02")
		b.WriteString(r)
	}
	return b.String()
}

// recordKey is a canonical text of a record's class and values.
func recordKey(class string, values map[string]any) string {
	var b strings.Builder
	b.WriteString(class)
	writeValues(&b, values)
	return b.String()
}

func writeValues(b *strings.Builder, values map[string]any) {
	for _, k := range sortedKeys(values) {
		b.WriteString("\x00")
		b.WriteString(k)
		b.WriteString("=")
		if values[k] == nil {
			b.WriteString("\x03")
			continue
		}
		b.WriteString(payload.Canonical(values[k]))
	}
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
