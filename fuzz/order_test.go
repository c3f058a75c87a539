package fuzz

import (
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"pgregory.net/rapid"
)

// Property 2. A payload and the same payload with its items permuted
// (relation indexes remapped), its relations permuted and maybe its
// related entries reversed, each applied to a fresh store (after the same
// seed payload, when drawn), give the same graph up to sys_ids, and each
// item, related item and relation the same outcome (operation and codes).
// chaosValues mode makes items merge and clash through secondary
// identifiers, so tie-breaks are exercised too.
func TestPropItemOrderDoesNotMatter(t *testing.T) {
	inMemory(t, func(t *rapid.T, a *engine.Engine) {
		mode := rapid.SampledFrom(allModes).Draw(t, "mode")
		o := drawOptions(t, nil)
		seed := seedPayload(t, mode)
		p := validPayload(t, mode)
		perm := rapid.Permutation(identity(len(p.Items))).Draw(t, "permutation")
		relPerm := rapid.Permutation(identity(len(p.Relations))).Draw(t, "relation permutation")
		q := permuted(p, perm, relPerm)
		if rapid.Bool().Draw(t, "reverse related") {
			reverseRelated(q)
		}
		b := openMem(t)
		ra, rb := applyAfter(t, a, seed, p, o), applyAfter(t, b, seed, q, o)
		for k, old := range perm {
			if x, y := outcome(&ra.Items[old]), outcome(&rb.Items[k]); x != y {
				t.Fatalf("item %d (now %d): %s, permuted: %s\npayload:  %s\npermuted: %s", old, k, x, y, jsonOf(p), jsonOf(q))
			}
		}
		for k, old := range relPerm {
			if x, y := relationOutcome(&ra.Relations[old]), relationOutcome(&rb.Relations[k]); x != y {
				t.Fatalf("relation %d (now %d): %s, permuted: %s\npayload:  %s\npermuted: %s", old, k, x, y, jsonOf(p), jsonOf(q))
			}
		}
		checkStore(t, a)
		checkStore(t, b)
		sameGraph(t, "graph of the payload against that of the permuted payload", storedGraph(t, a), storedGraph(t, b))
	})
}

// seedPayload draws nothing or a valid payload to apply first, so that
// items also match CIs already stored.
func seedPayload(t *rapid.T, mode valueMode) *payload.Payload {
	if !rapid.Bool().Draw(t, "seed") {
		return nil
	}
	return validPayload(t, mode)
}

// applyAfter applies seed (when not nil), then p, and returns p's result.
func applyAfter(t *rapid.T, e *engine.Engine, seed, p *payload.Payload, o engine.ApplyOptions) *engine.Result {
	if seed != nil {
		apply(t, e, seed, o)
	}
	return apply(t, e, p, o)
}

func relationOutcome(rr *engine.RelationResult) string {
	return rr.Operation + " [" + codesOf(rr.Errors) + "]"
}

// Property 3. A payload split into its independent parts (connected
// components of its relations, merged where independent items share an
// identifying value, so that items of one CI stay together), applied part
// by part in a drawn order, gives the same graph as the payload applied
// whole, and every item and relation the same outcome. Options commit
// partially: without partial commits one failing part fails the whole.
// In chaosValues mode nothing is seeded, since a stored CI could tie
// items of two parts together through values neither shares.
func TestPropSplitIntoIndependentParts(t *testing.T) {
	inMemory(t, func(t *rapid.T, whole *engine.Engine) {
		mode := rapid.SampledFrom(allModes).Draw(t, "mode")
		o := drawOptions(t, partialCommits)
		var seed *payload.Payload
		if mode != chaosValues {
			seed = seedPayload(t, mode)
		}
		p := validPayload(t, mode)
		parts := rapid.Permutation(independentParts(p)).Draw(t, "part order")
		split := openMem(t)
		rw := applyAfter(t, whole, seed, p, o)
		if seed != nil {
			apply(t, split, seed, o)
		}
		for _, part := range parts {
			q, rels := subPayload(p, part)
			rs := apply(t, split, q, o)
			for k, i := range part {
				if x, y := outcome(&rw.Items[i]), outcome(&rs.Items[k]); x != y {
					t.Fatalf("item %d: %s whole, %s in its part\npayload: %s\npart:    %s", i, x, y, jsonOf(p), jsonOf(q))
				}
			}
			for k, old := range rels {
				if x, y := relationOutcome(&rw.Relations[old]), relationOutcome(&rs.Relations[k]); x != y {
					t.Fatalf("relation %d: %s whole, %s in its part\npayload: %s\npart:    %s", old, x, y, jsonOf(p), jsonOf(q))
				}
			}
		}
		checkStore(t, split)
		sameGraph(t, "graph of the payload applied whole against applied in parts", storedGraph(t, whole), storedGraph(t, split))
	})
}

// independentParts groups the items of p into parts no identification
// crosses: items joined by a relation, and independent items sharing the
// value of an identifying attribute, are in one part.
func independentParts(p *payload.Payload) [][]int {
	up := identity(len(p.Items))
	var find func(int) int
	find = func(i int) int {
		if up[i] != i {
			up[i] = find(up[i])
		}
		return up[i]
	}
	for _, r := range p.Relations {
		up[find(r.Parent)] = find(r.Child)
	}
	owner := map[string]int{}
	for i, it := range p.Items {
		c, ok := defaultRules.Class(it.ClassName)
		if !ok || c.Rule == nil || !c.Rule.Independent() {
			continue
		}
		for _, a := range identify.IdentifyingAttributes(defaultRules, it.ClassName) {
			if v := it.Values[a]; v != nil {
				key := c.Rule.Name + "\x00" + a + "\x00" + payload.Canonical(v)
				if j, taken := owner[key]; taken {
					up[find(i)] = find(j)
				} else {
					owner[key] = i
				}
			}
		}
	}
	var parts [][]int
	at := map[int]int{}
	for i := range p.Items {
		root := find(i)
		k, ok := at[root]
		if !ok {
			k = len(parts)
			at[root] = k
			parts = append(parts, nil)
		}
		parts[k] = append(parts[k], i)
	}
	return parts
}
