package identify

import (
	"github.com/irego/irego/payload"
)

// References (referenceItems) and display values fill attributes before
// identification, so they can be criterion attributes.

// place is where an internal_id lives: a top-level item, or one of its
// lookup or related records.
type place struct {
	item int
	sub  *payload.SubRef
}

// prepare copies the payload when identification will fill values into it
// (so the caller's payload never changes), applies display values, and
// indexes the references.
func (pl *planner) prepare() {
	fills := len(pl.p.References) > 0
	for i := range pl.p.Items {
		fills = fills || len(pl.p.Items[i].DisplayValues) > 0
	}
	if !fills {
		return
	}
	pl.p = pl.p.Clone()
	for i := range pl.p.Items {
		it := &pl.p.Items[i]
		// A display value stands for the reference when no sys_id is given.
		for k, v := range it.DisplayValues {
			if Blank(it.Values[k]) {
				it.Values[k] = v
			}
		}
	}
	if len(pl.p.References) == 0 {
		return
	}
	places := map[string]place{}
	for i := range pl.p.Items {
		it := &pl.p.Items[i]
		if it.InternalID != "" {
			places[it.InternalID] = place{item: i}
		}
		for j, l := range it.Lookup {
			if l.InternalID != "" {
				places[l.InternalID] = place{i, &payload.SubRef{Lookup: true, Index: j}}
			}
		}
		for j, r := range it.Related {
			if r.InternalID != "" {
				places[r.InternalID] = place{i, &payload.SubRef{Index: j}}
			}
		}
	}
	pl.refs = map[int][]reference{}
	pl.refDeps = make([][]int, len(pl.p.Items))
	for k, r := range pl.p.References {
		from, to := places[r.Referenced], places[r.ReferencedBy]
		ref := reference{index: k, field: r.Field, from: from, to: to}
		pl.refs[to.item] = append(pl.refs[to.item], ref)
		if to.sub == nil && from.sub == nil && from.item != to.item {
			pl.refDeps[to.item] = append(pl.refDeps[to.item], from.item)
		}
	}
}

type reference struct {
	index    int
	field    string
	from, to place
}

// fillReferences writes into values the sys_ids of the items that the
// references to (item, sub) name, when those are identified.
func (pl *planner) fillReferences(item int, sub *payload.SubRef, values map[string]any) []Issue {
	var warnings []Issue
	for _, r := range pl.refs[item] {
		if !payload.SameSub(r.to.sub, sub) {
			continue
		}
		t := pl.targetAt(r.from)
		if t == nil {
			warnings = append(warnings, issue(InvalidInputData,
				"referenceItems[%d]: the referenced item %s is not identified (it has errors, or is identified later); %s left as sent",
				r.index, describeEnd(r.from), r.field))
			continue
		}
		values[r.field] = t.SysID
	}
	return warnings
}

// targetAt is the target an item or one of its records resolved to, if any.
func (pl *planner) targetAt(p place) *Target {
	if pl.endFailed(p) {
		return nil
	}
	return pl.endTarget(p.item, p.sub)
}
