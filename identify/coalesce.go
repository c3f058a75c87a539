package identify

import (
	"iter"
	"slices"
	"sort"
	"strings"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
)

// coalesce merges the new CIs of one level of the payload that another CI
// of the payload turns out to identify, until none does.
//
// Items are identified one at a time, so an early item can miss a CI that a
// later item makes findable: {serial s1}, then {name c1}, then {name c1,
// serial s1} gives two new computers named c1, and the same payload applied
// again finds both by name. Searched again with everything its items
// reported, the second one finds the first; merging it is what identifying
// the items in any order reaches once stable, so a second apply of the
// payload meets the CIs the first one made.
func (pl *planner) coalesce(level []int) error {
	for {
		merged := false
		for _, t := range pl.newTargetsOf(level) {
			u, e, err := pl.findOther(t)
			if err != nil {
				return err
			}
			if u == nil {
				continue
			}
			if u.fresh && u.seq > t.seq {
				t, u = u, t // keep the CI made first: its sys_id was handed out first
			}
			pl.merge(t, u, e)
			merged = true
			break // the level's targets changed: look again from the start
		}
		if !merged {
			return nil
		}
	}
}

// newTargetsOf returns the new CIs the items of level are bound to, in the
// order the items were identified.
func (pl *planner) newTargetsOf(level []int) []*Target {
	var out []*Target
	for _, i := range level {
		t := pl.plan.Items[i].Target
		if t == nil || !t.fresh || t.IsRelated {
			continue
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// filledEntries yields the entries of rule, lookups aside, that values
// fill, in priority order, with their identity keys under scope.
func filledEntries(rule *rules.Rule, values map[string]any, scope string) iter.Seq2[*rules.Entry, []byte] {
	return func(yield func(*rules.Entry, []byte) bool) {
		for _, e := range rule.Entries {
			if e.IsLookup() {
				continue
			}
			if key := entryKey(e, values, scope); key != nil && !yield(e, key) {
				return
			}
		}
	}
}

// findOther searches new CI t again with the values of all its items: the
// first entry that finds another CI which none of those values contradict
// names it.
func (pl *planner) findOther(t *Target) (*Target, *rules.Entry, error) {
	rule := t.Class.Rule
	if !identifiersAgree(rule, t) {
		return nil, nil, nil // it fails whatever it joins
	}
	values := (&candidate{t: t}).values()
	s := search{entries: rule.Entries, rule: rule, values: values, scope: t.Scope}
	for e, key := range filledEntries(rule, values, t.Scope) {
		if len(t.incoming) == 1 && !slices.ContainsFunc(pl.claimed[string(key)], func(x *Target) bool { return x != t }) {
			continue // its one item's search saw what the store holds: nothing it may match
		}
		cands, err := pl.keyCandidates(key, s)
		if err != nil {
			return nil, nil, err
		}
		others := cands[:0]
		for _, c := range cands {
			if c.sysID != t.SysID {
				others = append(others, c)
			}
		}
		for _, c := range pl.admissible(e, s, others) {
			if c.t == nil || identifiersAgree(rule, t, c.t) {
				return pl.bind(c), e, nil
			}
		}
	}
	return nil, nil, nil
}

// identifiersAgree reports whether the items of targets ts give each
// identifying attribute of rule at most one value. Where they do not, the
// merged CI would fail (see settle): merging would only drag the items of a
// CI that can be written into that failure.
func identifiersAgree(rule *rules.Rule, ts ...*Target) bool {
	seen := map[string]string{}
	for _, e := range rule.Entries {
		if e.IsLookup() {
			continue
		}
		for _, a := range e.Attributes {
			for _, t := range ts {
				for _, in := range t.incoming {
					v := in.values[a]
					if Blank(v) {
						continue
					}
					text := payload.Canonical(v)
					if old, ok := seen[a]; ok && old != text {
						return false
					}
					seen[a] = text
				}
			}
		}
	}
	return true
}

// merge moves the items of new CI t into u, which e found for them, and
// forgets t.
func (pl *planner) merge(t, u *Target, e *rules.Entry) {
	for _, in := range t.incoming {
		pl.join(u, in.index, in.class, in.values)
		ip := pl.plan.Items[in.index]
		ip.Target = u
		ip.Attempts = append(ip.Attempts, Attempt{AttemptResult: Matched, Attributes: e.Attributes,
			HybridEntryCiAttributes: orEmpty(e.HybridAttributes), IdentifierName: t.Class.Rule.Name,
			SearchOnTable: t.Class.Rule.AppliesTo, Values: pick(in.values, e.Attributes), Candidate: u.SysID,
			Info: "matched a CI that other items of this payload made findable"})
	}
	byRank := func(a, b int) bool { return pl.rank[a] < pl.rank[b] }
	sort.SliceStable(u.group, func(a, b int) bool { return byRank(u.group[a], u.group[b]) })
	sort.SliceStable(u.Inputs, func(a, b int) bool { return byRank(u.Inputs[a], u.Inputs[b]) })
	sort.SliceStable(u.incoming, func(a, b int) bool { return byRank(u.incoming[a].index, u.incoming[b].index) })
	if u.Entry == nil && u.Existing != nil {
		u.Entry = e
	}
	if u.parent == nil {
		u.parent = t.parent
	}
	for k, ts := range pl.claimed {
		if !slices.Contains(ts, t) {
			continue
		}
		var keep []*Target
		for _, x := range ts {
			if x == t {
				x = u
			}
			if !slices.Contains(keep, x) {
				keep = append(keep, x)
			}
		}
		pl.claimed[k] = keep
	}
	delete(pl.bySysID, t.SysID)
	for k, x := range pl.plan.Targets {
		if x == t {
			pl.plan.Targets = append(pl.plan.Targets[:k], pl.plan.Targets[k+1:]...)
			break
		}
	}
	pl.mergedInto[t.SysID] = u.SysID
	pl.rename(t.SysID, u.SysID)
}

// rename makes what identification said so far name CI to instead of from.
func (pl *planner) rename(from, to string) {
	issues := func(list []Issue) {
		for k := range list {
			list[k].Message = strings.ReplaceAll(list[k].Message, from, to)
		}
	}
	for _, ip := range pl.plan.Items {
		for k := range ip.Attempts {
			a := &ip.Attempts[k]
			a.Info, a.Candidate = strings.ReplaceAll(a.Info, from, to), strings.ReplaceAll(a.Candidate, from, to)
		}
		issues(ip.Errors)
		issues(ip.Warnings)
	}
	for _, t := range pl.plan.Targets {
		issues(t.Errors)
		issues(t.Warnings)
		issues(t.Info)
	}
}

// foreseeDuplicates records the groups of CIs that the payload's items
// will find together once it is written: {name c1}, {name c1, serial s1}
// and {name c1, serial s2} make two computers named c1, and the first item
// applied again finds both. Recording the group now opens the
// de-duplication task with the apply that makes the duplicates, not with
// the next one.
func (pl *planner) foreseeDuplicates() error {
	for i, ip := range pl.plan.Items {
		t := ip.Target
		if t == nil || t.IsRelated || len(t.Errors) > 0 || t.Class.Rule == nil {
			continue
		}
		rule, values := t.Class.Rule, pl.p.Items[i].Values
		s := search{entries: rule.Entries, rule: rule, values: values, scope: t.Scope}
		for e, key := range filledEntries(rule, values, t.Scope) {
			if len(pl.claimed[string(key)]) < 2 {
				break // the item's CI alone claims it: the walk saw all there is
			}
			cands, err := pl.keyCandidates(key, s)
			if err != nil {
				return err
			}
			cands = pl.admissible(e, s, cands)
			if len(cands) > 1 && !pl.foreseen(cands) {
				pl.plan.Duplicates = append(pl.plan.Duplicates, Duplicate{Entry: e, SysIDs: candidateIDs(cands), Values: pick(values, e.Attributes)})
			}
			break
		}
	}
	return nil
}

// foreseen reports whether a recorded group names the same CIs as cands.
func (pl *planner) foreseen(cands []candidate) bool {
	ids := candidateIDs(cands)
	slices.Sort(ids)
	for _, d := range pl.plan.Duplicates {
		if len(d.SysIDs) == len(ids) {
			have := slices.Clone(d.SysIDs)
			slices.Sort(have)
			if slices.Equal(have, ids) {
				return true
			}
		}
	}
	return false
}
