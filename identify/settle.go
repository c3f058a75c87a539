package identify

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/relations"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// settle merges a target's inputs, reconciles them with the stored record
// and decides the operation and the identity keys.
func (pl *planner) settle(t *Target) error {
	if len(t.Errors) > 0 {
		return nil
	}
	merged := map[string]any{}
	from := map[string]int{}
	criteria := map[string]bool{}
	nulls := map[string]bool{} // attributes reported as null
	for _, e := range t.entries() {
		if e.IsLookup() {
			continue
		}
		for _, a := range e.Attributes {
			criteria[a] = true
		}
	}
	var class *rules.Class
	for _, in := range t.incoming { // canonical order: the result does not depend on input order
		for _, k := range sortedKeys(in.values) {
			v := in.values[k]
			if v == nil || k == "sys_id" {
				nulls[k] = nulls[k] || v == nil
				continue
			}
			if Blank(v) && t.Existing != nil && !Blank(t.Existing.Values[k]) {
				nulls[k] = true // empty is null, as in ServiceNow: it clears only under update_with_null
				continue
			}
			if old, ok := merged[k]; ok && criteria[k] && Blank(v) != Blank(old) {
				// An empty identifying value is no value: it cannot
				// disagree, and whichever item comes first, the value wins.
				if Blank(v) {
					continue
				}
				merged[k], from[k] = v, in.index
				continue
			}
			if old, ok := merged[k]; ok && payload.Canonical(old) != payload.Canonical(v) {
				if criteria[k] {
					// Which value identifies the CI would depend on the
					// order of the items: refuse rather than guess.
					t.Errors = appendOnce(t.Errors, issue(DuplicatePayloadRecords,
						"items %d and %d identify the same CI but disagree on its identifying attribute %s (%q, %q); send one value",
						from[k], in.index, k, payload.Canonical(old), payload.Canonical(v)))
					continue
				}
				t.Warnings = append(t.Warnings, issue(DuplicatePayloadRecords,
					"items %d and %d identify the same CI but disagree on %s (%q, %q); kept %q",
					from[k], in.index, k, payload.Canonical(old), payload.Canonical(v), payload.Canonical(v)))
			}
			merged[k], from[k] = v, in.index
		}
		class = mostSpecific(class, in.class)
	}
	if len(t.Errors) > 0 {
		return nil
	}
	t.Class = class
	if t.Existing != nil {
		if stored, _ := pl.rs.Class(t.Existing.Class); stored != nil && stored != class {
			pl.reclassify(t, stored, class) // an upgrade, downgrade or switch
			if len(t.Errors) > 0 {
				return nil
			}
		}
	}
	if err := pl.reconcile(t, merged, nullsOnly(nulls, merged)); err != nil {
		return err
	}
	if t.Existing == nil {
		t.Op = OpInsert
		if !t.IsRelated && !t.Class.InsertAllowed(pl.opts.Source) {
			t.Errors = append(t.Errors, issue(InsertNotAllowedForSource,
				"%s (%s): insert into [%s] is blocked for data source [%s] by a data source rule; another source must create it first",
				t.where(), t.Class.Name, t.Class.Name, pl.opts.Source))
		}
		if missing := missingRequired(t.Class, t.Values); len(missing) > 0 {
			t.Errors = append(t.Errors, issue(RequiredAttributeEmpty,
				"%s (%s): missing mandatory field [%s] in table [%s]", t.where(), t.Class.Name, strings.Join(missing, ", "), t.Class.Name))
		}
	} else if t.Op == "" {
		t.Op = OpNoChange
		if !sameValues(t.Existing.Values, t.Values) || t.Existing.Retired {
			t.Op = OpUpdate // a retired CI reported again comes back
		}
	}
	t.IdentityKeys = identityKeys(t, pl.rs)
	return nil
}

// nullsOnly returns, sorted, the attributes reported as null by every
// input that reports them.
func nullsOnly(nulls map[string]bool, merged map[string]any) []string {
	var out []string
	for k := range nulls {
		if _, ok := merged[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// where names the target's inputs for messages.
func (t *Target) where() string {
	if t.IsRelated && len(t.Related) > 0 {
		r := t.Related[0]
		return fmt.Sprintf("item %d related %d", r.MainIndex, r.SubIndex)
	}
	if len(t.group) > 0 {
		return fmt.Sprintf("item %d", t.group[0])
	}
	return "CI " + t.SysID
}

// entries returns the identifier entries that index t.
func (t *Target) entries() []*rules.Entry {
	if t.IsRelated && t.parent != nil {
		if re := t.parent.Class.Rule.RelatedFor(t.Class); re != nil {
			return re.Entries
		}
		return nil
	}
	if t.Class.Rule == nil {
		return nil
	}
	return t.Class.Rule.Entries
}

func identityKeys(t *Target, rs *rules.RuleSet) [][]byte {
	var keys [][]byte
	for _, e := range t.entries() {
		if e.IsLookup() {
			continue // a lookup entry's values are those of the CI's lookup records
		}
		if k := entryKey(e, t.Values, t.Scope); k != nil {
			keys = append(keys, k)
		}
	}
	if t.IsRelated && t.parent != nil && t.parent.Class.Rule != nil {
		// A lookup record is also indexed across all CIs, by every lookup
		// entry of its CI's rule that searches its class.
		for _, e := range t.parent.Class.Rule.Entries {
			if e.IsLookup() && t.Class.IsA(e.SearchOn) {
				if k := entryKey(e, t.Values, ""); k != nil {
					keys = append(keys, k)
				}
			}
		}
	}
	if !t.IsRelated && t.Scope != "" {
		keys = append(keys, dependentLookupKeys(t, rs)...)
	}
	return keys
}

// dependentLookupKeys are the lookup keys of a dependent CI that a lookup
// entry of a class it may depend on searches for: a network adapter owned
// by a computer is found by the Hardware Rule's MAC address entry whether
// it came as a lookup record or as a CI (in ServiceNow both are rows of one
// table), as an imported CMDB holds its adapters.
func dependentLookupKeys(t *Target, rs *rules.RuleSet) [][]byte {
	if t.Class.Rule == nil {
		return nil
	}
	var keys [][]byte
	for _, d := range t.Class.Rule.DependsOn {
		dc, ok := rs.Class(d.Class)
		if !ok || dc.Rule == nil {
			continue
		}
		for _, e := range dc.Rule.Entries {
			if !e.IsLookup() || !t.Class.IsA(e.SearchOn) {
				continue
			}
			if k := entryKey(e, t.Values, ""); k != nil && !slices.ContainsFunc(keys, func(x []byte) bool { return bytes.Equal(x, k) }) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// UniqueIdentity reports whether identity key k belongs to a unique entry
// of rs: no two CIs may hold it. (A lookup entry's keys index lookup
// records across CIs and are never unique.)
func UniqueIdentity(rs *rules.RuleSet, k []byte) bool {
	e, ok := rs.Entry(store.EntryIDOfIdentity(k))
	return ok && e.Unique && !e.IsLookup()
}

func mostSpecific(a, b *rules.Class) *rules.Class {
	switch {
	case a == nil:
		return b
	case b.IsA(a.Name):
		return b
	case a.IsA(b.Name):
		return a
	case b.Name > a.Name: // unrelated classes: an order-free choice
		return b
	}
	return a
}

func missingRequired(c *rules.Class, values map[string]any) []string {
	var out []string
	for _, a := range c.Required {
		if v, ok := values[a]; !ok || v == nil || v == "" {
			out = append(out, a)
		}
	}
	return out
}

func sameValues(a, b map[string]any) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		w, ok := b[k]
		if !ok || payload.Canonical(v) != payload.Canonical(w) || (v == nil) != (w == nil) {
			return false
		}
	}
	return true
}

// checkKeys makes sure no identity key would belong to two CIs: neither two
// targets of this payload, nor a target and a stored CI the payload does not
// move off that key. A CI may take a key another CI of the payload gives
// up, so long as that one is written: the checks repeat, with the
// abandonment of dependents, until no target fails anew.
func (pl *planner) checkKeys() error {
	for {
		before := pl.targetErrors()
		if err := pl.checkKeysOnce(); err != nil {
			return err
		}
		pl.abandonDependents()
		if pl.targetErrors() == before {
			return nil
		}
	}
}

func (pl *planner) targetErrors() int {
	n := 0
	for _, t := range pl.plan.Targets {
		n += len(t.Errors)
	}
	return n
}

func (pl *planner) checkKeysOnce() error {
	// The unique identity keys of the targets, sorted with their owners
	// (a stable sort keeps the owners of one key in target order); most
	// keys have one.
	type owned struct {
		key []byte
		t   *Target
	}
	var all []owned
	for _, t := range pl.plan.Targets {
		if len(t.Errors) > 0 {
			continue
		}
		for _, k := range t.IdentityKeys {
			if UniqueIdentity(pl.rs, k) { // other entries' values may be shared
				all = append(all, owned{k, t})
			}
		}
	}
	slices.SortStableFunc(all, func(a, b owned) int { return bytes.Compare(a.key, b.key) })
	for i := 0; i < len(all); {
		k := all[i].key
		j := i + 1
		for j < len(all) && bytes.Equal(all[j].key, k) {
			j++
		}
		group := all[i:j]
		i = j
		if len(group) > 1 {
			ts := make([]*Target, len(group))
			for g, o := range group {
				ts[g] = o.t
			}
			for _, t := range ts {
				t.Errors = appendOnce(t.Errors, issue(MultiMatch,
					"%s (%s): its identifying values %s are also those of %s in this payload, which identifies a different CI",
					t.where(), t.Class.Name, describeKeyValues(t, k), others(ts, t)))
			}
			continue
		}
		t := group[0].t
		if pl.underNewCI(k) {
			continue
		}
		ids, err := store.IdentityHolders(pl.r, k)
		if err != nil {
			return err
		}
		for _, id := range ids {
			if id == t.SysID {
				continue
			}
			if u := pl.bySysID[id]; u != nil && len(u.Errors) == 0 && !hasKey(u.IdentityKeys, k) {
				continue // that CI gives the key up in this same payload
			}
			as := "a new CI" // its sys_id would name nothing: nothing is created
			if t.Existing != nil {
				as = "CI " + t.SysID
			}
			t.Errors = appendOnce(t.Errors, issue(MultiMatch,
				"%s (%s): identified as %s, but its values %s already identify CI %s, and no two CIs may share them (a unique identifier entry)",
				t.where(), t.Class.Name, as, describeKeyValues(t, k), id))
			break
		}
	}
	return nil
}

func hasKey(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if string(x) == string(k) {
			return true
		}
	}
	return false
}

func others(ts []*Target, self *Target) string {
	var out []string
	for _, t := range ts {
		if t != self {
			out = append(out, t.where())
		}
	}
	sort.Strings(out)
	return strings.Join(out, ", ")
}

// describeKeyValues renders the attribute values behind key k of t.
func describeKeyValues(t *Target, k []byte) string {
	for _, e := range t.entries() {
		if key := entryKey(e, t.Values, t.Scope); string(key) == string(k) {
			var parts []string
			for _, a := range e.Attributes {
				parts = append(parts, fmt.Sprintf("%s=%q", a, payload.Canonical(t.Values[a])))
			}
			return "[" + strings.Join(parts, ", ") + "]"
		}
	}
	return "(identity key)"
}

// planRelations binds every input relation to its two targets.
func (pl *planner) planRelations() error {
	seen := map[string]*RelationPlan{}
	for k, rel := range pl.p.Relations {
		rp := pl.plan.Relations[k]
		if len(rp.Errors) > 0 {
			continue
		}
		rp.Parent, rp.Child = pl.endTarget(rel.Parent, rel.ParentSub), pl.endTarget(rel.Child, rel.ChildSub)
		if rp.Parent == nil || rp.Child == nil {
			continue // reported by cascade
		}
		if rp.Parent == rp.Child {
			rp.Errors = append(rp.Errors, issue(InvalidInputData,
				"relation %d (%s): items %d and %d identify the same CI %s; a CI cannot be related to itself", k, rel.Type, rel.Parent, rel.Child, rp.Parent.SysID))
			continue
		}
		key := rp.Parent.SysID + "\x00" + rel.Type + "\x00" + rp.Child.SysID
		if first := seen[key]; first != nil {
			rp.Edge, rp.Op, rp.Duplicate = first.Edge, first.Op, true
			continue
		}
		seen[key] = rp
		if rp.Parent.Existing != nil && rp.Child.Existing != nil {
			e, err := relations.Find(pl.r, rp.Parent.SysID, rel.Type, rp.Child.SysID)
			if err == nil {
				rp.Edge, rp.Op = e, OpNoChange
				continue
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		rp.Edge = &store.Edge{SysID: pl.opts.NewSysID(), Type: rel.Type, Parent: rp.Parent.SysID, Child: rp.Child.SysID, Source: pl.opts.Source}
		rp.Op = OpInsert
	}
	return nil
}

// endTarget is the target of a relation end: an item, or one of its
// lookup or related records.
func (pl *planner) endTarget(item int, sub *payload.SubRef) *Target {
	if sub == nil {
		return pl.plan.Items[item].Target
	}
	if rp := pl.subPlan(item, sub); rp != nil {
		return rp.Target
	}
	return nil
}

func (pl *planner) endFailed(p place) bool {
	ip := pl.plan.Items[p.item]
	if p.sub == nil || ip.Failed() {
		return ip.Failed()
	}
	rp := pl.subPlan(p.item, p.sub)
	return rp == nil || rp.Failed() // nil: the record was never identified
}

// subPlan is the outcome of items[item]'s lookup or related record sub,
// nil when it was not identified.
func (pl *planner) subPlan(item int, sub *payload.SubRef) *RelatedPlan {
	for _, rp := range pl.plan.Items[item].Related {
		if rp.SubIndex == sub.Index && rp.Lookup == sub.Lookup {
			return rp
		}
	}
	return nil
}

// describeEnd names a relation end in messages ("item 2", "item 0 lookup 1").
func describeEnd(p place) string {
	switch {
	case p.sub == nil:
		return fmt.Sprintf("item %d", p.item)
	case p.sub.Lookup:
		return fmt.Sprintf("item %d lookup %d", p.item, p.sub.Index)
	}
	return fmt.Sprintf("item %d related %d", p.item, p.sub.Index)
}

// cascade spreads failures: a CI that depends on (or hangs under) a failed
// one is abandoned, and so is a relation with a failed end. Without partial
// commits, any failure fails everything.
func (pl *planner) cascade() {
	pl.abandonDependents()
	for _, ip := range pl.plan.Items {
		for _, rp := range ip.Related {
			if rp.Target == nil && len(rp.Errors) == 0 && ip.Failed() {
				rp.Errors = append(rp.Errors, issue(Abandoned, "item %d related %d: abandoned, since item %d has errors", rp.MainIndex, rp.SubIndex, rp.MainIndex))
			}
		}
	}
	for k, rel := range pl.p.Relations {
		rp := pl.plan.Relations[k]
		if len(rp.Errors) > 0 {
			continue
		}
		for _, end := range []place{{rel.Parent, rel.ParentSub}, {rel.Child, rel.ChildSub}} {
			if pl.endFailed(end) {
				rp.Errors = append(rp.Errors, issue(Abandoned,
					"relation %d (%s): abandoned, since %s has errors", k, rel.Type, describeEnd(end)))
				break
			}
		}
	}
	if pl.opts.PartialCommits || !pl.plan.HasError() {
		return
	}
	first := pl.plan.firstError()
	for _, t := range pl.plan.Targets {
		if len(t.Errors) == 0 {
			t.Errors = append(t.Errors, issue(Abandoned, "%s (%s): not committed, since %s and partial_commits is off", t.where(), t.Class.Name, first))
		}
	}
	for _, rp := range pl.plan.Relations {
		if len(rp.Errors) == 0 {
			rp.Errors = append(rp.Errors, issue(Abandoned, "relation %d (%s): not committed, since %s and partial_commits is off", rp.Index, rp.Type, first))
		}
	}
}

// abandonDependents fails every target whose parent failed.
func (pl *planner) abandonDependents() {
	for _, t := range pl.plan.Targets { // parents come before their dependents
		if p := t.parent; p != nil && len(p.Errors) > 0 && len(t.Errors) == 0 {
			t.Errors = append(t.Errors, issue(Abandoned, "%s (%s): abandoned, since the CI it depends on (%s, %s) has errors",
				t.where(), t.Class.Name, p.where(), p.Class.Name))
		}
	}
}

// HasError reports whether any item, related item or relation failed.
func (p *Plan) HasError() bool { return p.firstError() != "" }

func (p *Plan) firstError() string {
	for _, ip := range p.Items {
		if ip.Failed() {
			return fmt.Sprintf("item %d failed", ip.Index)
		}
		for _, rp := range ip.Related {
			if rp.Failed() {
				return fmt.Sprintf("item %d related %d failed", rp.MainIndex, rp.SubIndex)
			}
		}
	}
	for _, rp := range p.Relations {
		if len(rp.Errors) > 0 {
			return fmt.Sprintf("relation %d failed", rp.Index)
		}
	}
	return ""
}

// KeysFor returns the identity keys rec owns under rs. main is the record
// rec hangs under when rec is a related record, else nil.
func KeysFor(rs *rules.RuleSet, rec *store.Record, main *store.Record) [][]byte {
	c, ok := rs.Class(rec.Class)
	if !ok || !Blank(rec.Values[DuplicateOf]) {
		return nil // a CI merged into another holds no identity
	}
	t := &Target{Class: c, Values: rec.Values, Scope: rec.Scope, IsRelated: rec.Related}
	if rec.Related {
		if main == nil {
			return nil
		}
		mc, ok := rs.Class(main.Class)
		if !ok || mc.Rule == nil {
			return nil
		}
		t.parent = &Target{Class: mc}
	}
	return identityKeys(t, rs)
}
