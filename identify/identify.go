package identify

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Options steer one identification.
type Options struct {
	// Source is the data source the payload comes from.
	Source string
	// Deduplicate merges items of one payload that identify the same CI;
	// when false such items fail with DUPLICATE_PAYLOAD_RECORDS.
	Deduplicate bool
	// PartialCommits lets valid items commit when others fail; when false
	// one failure fails the whole payload.
	PartialCommits bool
	// NewSysID makes sys_ids for new CIs and edges. Required.
	NewSysID func() string
	// Now is the clock reconciliation judges staleness by; nil means time.Now.
	Now func() time.Time
	// OnKeyUnderNewCI, when set, is told each identity key not read
	// because it lies under a CI the payload creates.
	OnKeyUnderNewCI func(key []byte)
}

// incomingValues are one input's values, for merging into its target.
type incomingValues struct {
	index  int
	class  *rules.Class
	values map[string]any
}

// planner holds the state of one Build call.
type planner struct {
	r    store.Reader
	rs   *rules.RuleSet
	p    *payload.Payload
	opts Options
	plan *Plan

	classes []*rules.Class
	parent  []int
	// claimed maps identity keys to the target that claims them in this
	// payload; bySysID maps sys_ids to this payload's targets.
	claimed map[string][]*Target
	bySysID map[string]*Target
	// native holds, per item, the stored CI its source native key names.
	native []*store.Record
	// refs are the referenceItems by the item they fill; refDeps, per
	// item, the top-level items its references name (identified first).
	refs    map[int][]reference
	refDeps [][]int
	// stored holds the stored bytes of the records loaded, by sys_id
	// (Target.Stored).
	stored map[string][]byte
	// rank is each item's place in the order items are identified in;
	// made counts the targets made or met (Target.seq); mergedInto names
	// the CI each new CI that coalesce merged now is.
	rank       []int
	made       int
	mergedInto map[string]string
}

// Build identifies every item of p against the store view r and returns the
// plan. It writes nothing. An error is returned only when the store fails;
// faults in the payload are reported in the plan.
func Build(r store.Reader, rs *rules.RuleSet, p *payload.Payload, opts Options) (*Plan, error) {
	if opts.NewSysID == nil {
		return nil, errors.New("identify: Options.NewSysID is required")
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	p = canonicalRelations(rs, p)
	pl := &planner{r: r, rs: rs, p: p, opts: opts, plan: &Plan{},
		claimed: map[string][]*Target{}, bySysID: map[string]*Target{}, mergedInto: map[string]string{}}
	return pl.build()
}

func (pl *planner) build() (*Plan, error) {
	n := len(pl.p.Items)
	if n > 0 { // the item plans in one allocation, and the relations' in one
		items := make([]ItemPlan, n)
		pl.plan.Items = make([]*ItemPlan, n)
		for i := range items {
			items[i].Index = i
			pl.plan.Items[i] = &items[i]
		}
	}
	if m := len(pl.p.Relations); m > 0 {
		rels := make([]RelationPlan, m)
		pl.plan.Relations = make([]*RelationPlan, m)
		for i := range rels {
			rels[i] = RelationPlan{Index: i, Type: pl.p.Relations[i].Type}
			pl.plan.Relations[i] = &rels[i]
		}
	}
	pl.prepare()
	pl.validate()
	if err := pl.lookupNative(); err != nil {
		return nil, err
	}
	pl.resolveDependencies()
	ok := pl.identifiable()
	order, levels := canonicalOrder(pl.p.Items, pl.parent, pl.refDeps, ok, pl.strength())
	pl.rank = make([]int, n)
	for k, i := range order {
		pl.rank[i] = k
	}
	for _, level := range levels {
		for _, i := range level {
			if err := pl.identifyItem(i); err != nil {
				return nil, err
			}
		}
		if err := pl.coalesce(level); err != nil {
			return nil, err
		}
	}
	if err := pl.foreseeDuplicates(); err != nil {
		return nil, err
	}
	for _, t := range append([]*Target(nil), pl.plan.Targets...) {
		if err := pl.identifyRelated(t); err != nil {
			return nil, err
		}
	}
	for _, t := range pl.plan.Targets {
		if err := pl.settle(t); err != nil {
			return nil, err
		}
	}
	if err := pl.checkKeys(); err != nil {
		return nil, err
	}
	if err := pl.planRelations(); err != nil {
		return nil, err
	}
	pl.cascade()
	pl.pruneDuplicates()
	return pl.plan, nil
}

// pruneDuplicates keeps, in each duplicate group, only the CIs that exist
// once the plan is written: stored ones, and new ones without errors. A
// group left with fewer than two is no group.
func (pl *planner) pruneDuplicates() {
	out := pl.plan.Duplicates[:0]
	for _, d := range pl.plan.Duplicates {
		var ids []string
		for _, id := range d.SysIDs {
			for pl.mergedInto[id] != "" {
				id = pl.mergedInto[id]
			}
			if slices.Contains(ids, id) {
				continue
			}
			if t := pl.bySysID[id]; t == nil || t.Existing != nil || len(t.Errors) == 0 {
				ids = append(ids, id)
			}
		}
		if len(ids) > 1 {
			d.SysIDs = ids
			out = append(out, d)
		}
	}
	pl.plan.Duplicates = out
}

// validate checks classes, rules, allowed values and relation types.
func (pl *planner) validate() {
	pl.classes = make([]*rules.Class, len(pl.p.Items))
	for i := range pl.p.Items {
		it, ip := &pl.p.Items[i], pl.plan.Items[i]
		c, ok := pl.rs.Class(it.ClassName)
		if !ok {
			ip.Errors = append(ip.Errors, issue(InvalidInputData, "item %d: unknown class [%s]", i, it.ClassName))
			continue
		}
		pl.classes[i] = c
		if c.Rule == nil {
			ip.Errors = append(ip.Errors, issue(IdentificationRuleMissing,
				"item %d (%s): identification rule missing for table [%s]", i, c.Name, c.Name))
		}
		if msg := checkAllowed(c, it.Values); msg != "" {
			ip.Errors = append(ip.Errors, issue(InvalidInputData, "item %d (%s): %s", i, c.Name, msg))
		}
	}
	for k, rel := range pl.p.Relations {
		rp := pl.plan.Relations[k]
		if rel.Invalid != "" {
			rp.Errors = append(rp.Errors, issue(InvalidInputData, "relation %d (%s): %s", k, rel.Type, rel.Invalid))
			continue
		}
		if n := len(pl.p.Items); rel.Parent < 0 || rel.Parent >= n || rel.Child < 0 || rel.Child >= n ||
			(rel.Parent == rel.Child && rel.ParentSub == nil && rel.ChildSub == nil) {
			rp.Errors = append(rp.Errors, issue(InvalidInputData,
				"relation %d (%s): parent %d and child %d must be two different indexes into items (0 to %d)", k, rel.Type, rel.Parent, rel.Child, n-1))
			continue
		}
		if !pl.rs.HasRelationType(rel.Type) {
			rp.Errors = append(rp.Errors, issue(InvalidInputData,
				"relation %d: relationship type [%s] is not a declared relation type (items %d and %d)", k, rel.Type, rel.Parent, rel.Child))
		}
	}
}

// checkAllowed returns a message naming the first attribute whose value the
// class does not allow, or "".
func checkAllowed(c *rules.Class, values map[string]any) string {
	for _, attr := range sortedAllowed(c) {
		v, present := values[attr]
		if !present || v == nil {
			continue
		}
		allowed := c.Allowed[attr]
		got := payload.Canonical(v)
		found := false
		for _, a := range allowed {
			found = found || a == got
		}
		if !found {
			return fmt.Sprintf("attribute %s: value %q is not one of [%s]", attr, got, strings.Join(allowed, ", "))
		}
	}
	return ""
}

func sortedAllowed(c *rules.Class) []string {
	keys := make([]string, 0, len(c.Allowed))
	for k := range c.Allowed {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// resolveDependencies finds, for every dependent item, the one relation
// that ties it to the item it depends on.
func (pl *planner) resolveDependencies() {
	pl.parent = make([]int, len(pl.p.Items))
	for i := range pl.parent {
		pl.parent[i] = -1
	}
	for i, c := range pl.classes {
		if c == nil || c.Rule == nil || c.Rule.Independent() {
			continue
		}
		found := map[int]int{} // the item depended on → the relation that ties them
		for k, rel := range pl.p.Relations {
			if len(pl.plan.Relations[k].Errors) > 0 || rel.ParentSub != nil || rel.ChildSub != nil {
				continue
			}
			for _, d := range c.Rule.DependsOn {
				if d.Relation != rel.Type {
					continue
				}
				other := -1
				if d.Direction == rules.ItemToParent && rel.Parent == i {
					other = rel.Child
				} else if d.Direction == rules.ParentToItem && rel.Child == i {
					other = rel.Parent
				}
				if other >= 0 && pl.classes[other] != nil && pl.classes[other].IsA(d.Class) {
					found[other] = k
				}
			}
		}
		ip := pl.plan.Items[i]
		switch len(found) {
		case 0:
			if pl.native[i] != nil || !Blank(pl.p.Items[i].Values["sys_id"]) {
				continue // known by its source key or sys_id: the parent chain is already stored
			}
			var want []string
			for _, d := range c.Rule.DependsOn {
				want = append(want, d.Describe(c.Name))
			}
			ip.Errors = append(ip.Errors, issue(MissingDependency,
				"item %d (%s): no relation in the payload ties this dependent item to the CI it depends on; add one of: %s — the parent item must be sent in the same payload, even when it already exists",
				i, c.Name, strings.Join(want, "; ")))
		case 1:
			for other := range found {
				pl.parent[i] = other
			}
		default:
			var desc []string
			for _, other := range slices.Sorted(maps.Keys(found)) {
				k := found[other]
				desc = append(desc, fmt.Sprintf("item %d (%s) via relation %d (%s)", other, pl.classes[other].Name, k, pl.p.Relations[k].Type))
			}
			ip.Errors = append(ip.Errors, issue(MultipleDependencies,
				"item %d (%s): depends on more than one item: %s; a dependent CI has exactly one parent",
				i, c.Name, strings.Join(desc, ", ")))
		}
	}
}

// identifiable marks the items whose whole dependency chain is free of
// errors and cycles; the others are reported as abandoned or cyclic.
func (pl *planner) identifiable() []bool {
	n := len(pl.p.Items)
	ok := make([]bool, n)
	state := make([]int, n) // 0 unvisited, 1 in progress, 2 done
	var visit func(i int) bool
	visit = func(i int) bool {
		switch state[i] {
		case 1:
			return false
		case 2:
			return ok[i]
		}
		state[i] = 1
		good := len(pl.plan.Items[i].Errors) == 0
		if p := pl.parent[i]; p >= 0 {
			if state[p] == 1 {
				pl.plan.Items[i].Errors = append(pl.plan.Items[i].Errors, issue(InvalidInputData,
					"item %d (%s): its dependency relations form a cycle through item %d (%s)", i, pl.classes[i].Name, p, pl.classes[p].Name))
				good = false
			} else if !visit(p) {
				if good {
					pl.plan.Items[i].Errors = append(pl.plan.Items[i].Errors, abandonedBy(i, pl.classes[i], p, pl.classes[p]))
				}
				good = false
			}
		}
		state[i] = 2
		ok[i] = good
		return good
	}
	for i := range n {
		visit(i)
	}
	return ok
}

func abandonedBy(i int, c *rules.Class, p int, pc *rules.Class) Issue {
	return issue(Abandoned, "item %d (%s): abandoned, since it depends on item %d (%s), which has errors", i, className(c), p, className(pc))
}

func className(c *rules.Class) string {
	if c == nil {
		return "?"
	}
	return c.Name
}

// identifyItem walks the item's identifier entries and binds it to a target.
func (pl *planner) identifyItem(i int) error {
	it, ip, c := &pl.p.Items[i], pl.plan.Items[i], pl.classes[i]
	var parent *Target
	scope := ""
	if p := pl.parent[i]; p >= 0 {
		parent = pl.plan.Items[p].Target
		if parent == nil {
			ip.Errors = append(ip.Errors, abandonedBy(i, c, p, pl.classes[p]))
			return nil
		}
		scope = parent.SysID
	}
	ip.Warnings = append(ip.Warnings, pl.fillReferences(i, nil, it.Values)...)
	var target *Target
	var entry *rules.Entry
	if t := pl.byNativeKey(i, scope, parent != nil); t != nil {
		target, scope = t, t.Scope
	} else if id := it.Values["sys_id"]; !Blank(id) {
		t, err := pl.bySysIDValue(i, c, payload.Canonical(id), scope, parent != nil)
		if err != nil {
			return err
		}
		if t == nil {
			return nil
		}
		target = t
		ip.Attempts = append(ip.Attempts, Attempt{AttemptResult: Matched, Attributes: []string{"sys_id"},
			IdentifierName: c.Rule.Name, SearchOnTable: c.Rule.AppliesTo, Info: "located by sys_id", Candidate: t.SysID})
	} else {
		where := loc{item: i, class: c.Name}
		attempts, t, e, ran, fail, err := pl.walk(search{entries: c.Rule.Entries, rule: c.Rule, values: it.Values,
			scope: scope, lookups: it.Lookup, where: where})
		if err != nil {
			return err
		}
		if t == nil && fail == nil && parent != nil && c.Rule.FallbackToParent {
			more, ft, fe, fran, ffail, err := pl.fallback(c, it, where)
			if err != nil {
				return err
			}
			attempts, ran, fail = append(attempts, more...), ran || fran, ffail
			if ft != nil {
				t, e = ft, fe
				t.Scope = scope // the CI now lives under the payload's parent
			}
		}
		ip.Attempts = append(ip.Attempts, attempts...)
		if fail != nil {
			ip.Errors = append(ip.Errors, *fail)
			return nil
		}
		if !ran && t == nil {
			ip.Errors = append(ip.Errors, missingMatching(fmt.Sprintf("item %d", i), c, c.Rule.Entries, it.Values))
			return nil
		}
		target, entry = t, e
	}
	if target == nil {
		target = pl.newTarget(c, scope, parent, false)
	} else if target.Entry == nil && target.Existing != nil {
		target.Entry = entry
	}
	if target.parent == nil {
		target.parent = parent
	}
	pl.join(target, i, c, it.Values)
	ip.Target = target
	pl.claim(target, c.Rule.Entries, it.Values, scope)
	pl.claimLookups(target, c.Rule, it.Lookup)
	return nil
}

// fallback tries the rule of the nearest ancestor class with another rule,
// for a dependent rule that allows it and found nothing.
func (pl *planner) fallback(c *rules.Class, it *payload.Item, where loc) ([]Attempt, *Target, *rules.Entry, bool, *Issue, error) {
	for k := c.Parent; k != nil; k = k.Parent {
		if k.Rule == nil || k.Rule == c.Rule {
			continue
		}
		scope := ""
		if !k.Rule.Independent() {
			return nil, nil, nil, false, nil, nil // the parent rule needs a parent of its own
		}
		return pl.walk(search{entries: k.Rule.Entries, rule: k.Rule, values: it.Values, scope: scope, lookups: it.Lookup, where: where})
	}
	return nil, nil, nil, false, nil, nil
}

// bySysIDValue resolves an item that names its CI by sys_id.
// Without a parent in the payload, a dependent CI named by sys_id stays
// under the CI it depends on.
func (pl *planner) bySysIDValue(i int, c *rules.Class, id, scope string, hasParent bool) (*Target, error) {
	ip := pl.plan.Items[i]
	if t := pl.bySysID[id]; t != nil {
		return t, nil
	}
	rec, err := pl.load(id)
	if err != nil {
		return nil, err
	}
	if rec == nil {
		ip.Errors = append(ip.Errors, issue(InvalidInputData, "item %d (%s): sys_id %s: no such CI", i, c.Name, id))
		return nil, nil
	}
	if of := rec.Values[DuplicateOf]; !Blank(of) {
		ip.Errors = append(ip.Errors, issue(InvalidInputData, "item %d (%s): sys_id %s was merged into %s (duplicate_of); name that CI", i, c.Name, id, payload.Canonical(of)))
		return nil, nil
	}
	rc, ok := pl.rs.Class(rec.Class)
	if !ok || rc.Rule != c.Rule {
		ip.Errors = append(ip.Errors, issue(InvalidInputData,
			"item %d (%s): sys_id %s is a %s, which %s does not identify", i, c.Name, id, rec.Class, c.Rule.Name))
		return nil, nil
	}
	if hasParent && rec.Scope != scope {
		ip.Errors = append(ip.Errors, issue(InvalidInputData,
			"item %d (%s): sys_id %s lives under CI %s, not under the parent given in the payload (%s)", i, c.Name, id, rec.Scope, scope))
		return nil, nil
	}
	return pl.existingTarget(rec, rc), nil
}

func (pl *planner) load(id string) (*store.Record, error) {
	b, err := pl.r.Get(store.CIKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	rec, err := store.DecodeRecord(b)
	if err == nil {
		if pl.stored == nil {
			pl.stored = map[string][]byte{}
		}
		pl.stored[id] = b
	}
	return rec, err
}

func (pl *planner) existingTarget(rec *store.Record, c *rules.Class) *Target {
	t := &Target{SysID: rec.SysID, Class: c, Existing: rec, Stored: pl.stored[rec.SysID], Scope: rec.Scope, IsRelated: rec.Related}
	pl.add(t)
	return t
}

func (pl *planner) newTarget(c *rules.Class, scope string, parent *Target, related bool) *Target {
	t := &Target{SysID: pl.opts.NewSysID(), Class: c, Scope: scope, parent: parent, IsRelated: related, fresh: true}
	pl.add(t)
	return t
}

func (pl *planner) add(t *Target) {
	t.seq = pl.made
	pl.made++
	pl.bySysID[t.SysID] = t
	pl.plan.Targets = append(pl.plan.Targets, t)
}

// join binds input index i to t; a second input on a target is a duplicate.
func (pl *planner) join(t *Target, i int, c *rules.Class, values map[string]any) {
	if len(t.group) > 0 && !pl.opts.Deduplicate {
		what := "items"
		if t.IsRelated {
			what = "related items"
		}
		code := DuplicatePayloadRecords
		if t.IsRelated {
			code = DuplicateRelatedPayload
		}
		t.Errors = appendOnce(t.Errors, issue(code,
			"found duplicate %s in the payload (index %d and %d) using className [%s]; set deduplicate_payloads:true to merge them",
			what, t.group[0], i, c.Name))
	}
	t.group = append(t.group, i)
	if !t.IsRelated {
		t.Inputs = append(t.Inputs, i)
	}
	t.incoming = append(t.incoming, incomingValues{index: i, class: c, values: values})
}

// claim records the identity keys an item's own values give its target, so
// later items of the payload find it.
func (pl *planner) claim(t *Target, entries []*rules.Entry, values map[string]any, scope string) {
	for _, e := range entries {
		if e.IsLookup() {
			continue
		}
		if key := entryKey(e, values, scope); key != nil {
			pl.claimKey(key, t)
		}
	}
}

// identifyRelated identifies the related and lookup items of every input
// merged into main, within main.
func (pl *planner) identifyRelated(main *Target) error {
	if main.IsRelated {
		return nil
	}
	type rel struct {
		ref RelatedRef
		r   *payload.Related
		key string
	}
	var rels []rel
	for _, i := range main.group {
		it := &pl.p.Items[i]
		for _, lookup := range []bool{true, false} {
			list := it.Related
			if lookup {
				list = it.Lookup
			}
			for j := range list {
				r := &list[j]
				rels = append(rels, rel{RelatedRef{i, j, lookup}, r, recordKey(r.ClassName, r.Values)})
			}
		}
	}
	sort.SliceStable(rels, func(a, b int) bool { return rels[a].key < rels[b].key })
	for _, x := range rels {
		rp := &RelatedPlan{MainIndex: x.ref.MainIndex, SubIndex: x.ref.SubIndex, Lookup: x.ref.Lookup}
		ip := pl.plan.Items[x.ref.MainIndex]
		ip.Related = append(ip.Related, rp)
		kind := "related"
		if x.ref.Lookup {
			kind = "lookup"
		}
		where := loc{item: x.ref.MainIndex, kind: kind, sub: x.ref.SubIndex}
		c, ok := pl.rs.Class(x.r.ClassName)
		if !ok {
			rp.Errors = append(rp.Errors, issue(InvalidInputData, "%s: unknown class [%s]", where, x.r.ClassName))
			continue
		}
		re := main.Class.Rule.RelatedFor(c)
		if x.ref.Lookup && (re == nil || !searches(main.Class.Rule, c)) {
			rp.Errors = append(rp.Errors, issue(IdentificationRuleForLookupMiss,
				"%s (%s): identification rule %s for table [%s] has no lookup entry searching class [%s]", where, c.Name, main.Class.Rule.Name, main.Class.Name, c.Name))
			continue
		}
		if re == nil {
			rp.Errors = append(rp.Errors, issue(IdentificationRuleForRelatedMiss,
				"%s (%s): identification rule %s for table [%s] has no related entry for class [%s]", where, c.Name, main.Class.Rule.Name, main.Class.Name, c.Name))
			continue
		}
		if msg := checkAllowed(c, x.r.Values); msg != "" {
			rp.Errors = append(rp.Errors, issue(InvalidInputData, "%s (%s): %s", where, c.Name, msg))
			continue
		}
		values := make(map[string]any, len(x.r.Values)+1)
		for k, v := range x.r.Values {
			values[k] = v
		}
		values[re.ReferencedField] = main.SysID
		rp.Warnings = pl.fillReferences(x.ref.MainIndex, &payload.SubRef{Lookup: x.ref.Lookup, Index: x.ref.SubIndex}, values)
		attempts, t, _, ran, fail, err := pl.walk(search{entries: re.Entries, rule: main.Class.Rule, values: values,
			scope: main.SysID, related: true, where: where.of(c.Name)})
		if err != nil {
			return err
		}
		for k := range attempts {
			attempts[k].SearchOnTable = re.Class
		}
		rp.Attempts = attempts
		if fail != nil {
			rp.Errors = append(rp.Errors, *fail)
			continue
		}
		if !ran {
			rp.Errors = append(rp.Errors, missingMatching(where.String(), c, re.Entries, values))
			continue
		}
		if t == nil {
			t = pl.newTarget(c, main.SysID, main, true)
		}
		if t.parent == nil {
			t.parent = main
		}
		pl.join(t, x.ref.SubIndex, c, values)
		t.Related = append(t.Related, x.ref)
		rp.Target = t
		pl.claim(t, re.Entries, values, main.SysID)
	}
	return nil
}

// searches reports whether rule has a lookup entry on class c (or an
// ancestor of c).
func searches(rule *rules.Rule, c *rules.Class) bool {
	for _, e := range rule.Entries {
		if e.IsLookup() && c.IsA(e.SearchOn) {
			return true
		}
	}
	return false
}

func missingMatching(where string, c *rules.Class, entries []*rules.Entry, values map[string]any) Issue {
	var sets []string
	for _, e := range entries {
		s := "[" + strings.Join(e.Attributes, ", ") + "]"
		if e.When != nil {
			s += " when " + e.When.Source
		}
		sets = append(sets, s)
	}
	return issue(MissingMatchingAttributes,
		"%s (%s): missing the minimum set of input values for the criterion (matching) attributes of the identification rule for table [%s]: needs one of %s; the item has [%s]",
		where, c.Name, c.Name, strings.Join(sets, " or "), strings.Join(presentKeys(values), ", "))
}

func presentKeys(values map[string]any) []string {
	var out []string
	for _, k := range sortedKeys(values) {
		if !Blank(values[k]) {
			out = append(out, k)
		}
	}
	return out
}

// entryKey returns the identity key of entry e for values within scope,
// or nil when the entry does not apply.
func entryKey(e *rules.Entry, values map[string]any, scope string) []byte {
	key, _ := keyOrWhy(e, values, scope, false)
	return key
}

// entryKeyWhy is entryKey with the reason the entry does not apply, for
// an identification attempt's info.
func entryKeyWhy(e *rules.Entry, values map[string]any, scope string) ([]byte, string) {
	return keyOrWhy(e, values, scope, true)
}

// keyOrWhy returns entry e's identity key, or nil and, when why is set,
// the reason (built only then: most callers only ask whether it applies).
func keyOrWhy(e *rules.Entry, values map[string]any, scope string, why bool) ([]byte, string) {
	var small [4]string // most entries have one to three attributes
	texts := small[:0]
	if len(e.Attributes) > len(small) {
		texts = make([]string, 0, len(e.Attributes))
	}
	var nulls []bool // nil while no attribute is null
	var missing []string
	blanks := 0
	for k, a := range e.Attributes {
		v := values[a]
		if !Blank(v) {
			texts = append(texts, payload.Canonical(v))
			continue
		}
		if !e.AllowNull && !why {
			return nil, ""
		}
		if nulls == nil {
			nulls = make([]bool, len(e.Attributes))
		}
		nulls[k] = true
		blanks++
		if why {
			missing = append(missing, a)
		}
		texts = append(texts, "")
	}
	if blanks == len(e.Attributes) || (blanks > 0 && !e.AllowNull) {
		if !why {
			return nil, ""
		}
		return nil, "missing " + strings.Join(missing, ", ")
	}
	if e.When != nil {
		ok, err := e.When.Eval(values)
		switch {
		case (err != nil || !ok) && !why:
			return nil, ""
		case err != nil:
			return nil, err.Error()
		case !ok:
			return nil, "condition is false: " + e.When.Source
		}
	}
	if scope == "" {
		scope = store.NoScope
	}
	return store.IdentityKey(e.ID, scope, texts, nulls), ""
}

// Blank reports whether v is absent for identification: nil, or a string
// that is empty or only whitespace. ServiceNow treats such a criterion value
// like a missing one, so two items with an empty name never match by name.
func Blank(v any) bool {
	if v == nil {
		return true
	}
	s, ok := v.(string)
	return ok && strings.TrimSpace(s) == ""
}

func pick(values map[string]any, attrs []string) map[string]any {
	out := make(map[string]any, len(attrs))
	for _, a := range attrs {
		out[a] = values[a]
	}
	return out
}

func appendOnce(list []Issue, is Issue) []Issue {
	for _, x := range list {
		if x.Code == is.Code {
			return list
		}
	}
	return append(list, is)
}

// strength ranks each item by the first identifier entry of its rule that
// applies to it (0 for the first entry; items without a rule or any filled entry
// last). Within a level the strongest go first, so that an item matched
// only by a weaker entry (a name) sees what stronger ones established in
// this payload: identified first, a name-only item would take a CI of its
// own before another item, matched by serial number, gave the stored CI
// that name, and the same payload sent again would match the stored CI.
func (pl *planner) strength() []int {
	out := make([]int, len(pl.p.Items))
	for i, c := range pl.classes {
		out[i] = math.MaxInt
		if c == nil || c.Rule == nil {
			continue
		}
		values := pl.p.Items[i].Values
		for k, e := range c.Rule.Entries {
			if e.IsLookup() {
				continue
			}
			// The entry applies as walk decides it (nulls, conditions);
			// whether it does needs no scope.
			if key := entryKey(e, values, ""); key != nil {
				out[i] = k
				break
			}
		}
	}
	return out
}

// loc names an item, or one of its related or lookup records, in messages.
// It is formatted only when a message needs it: every item has one, few
// have a message.
type loc struct {
	item  int
	kind  string // "related" or "lookup" for one of the item's records, else ""
	sub   int    // the record's index, with kind
	class string // the class, when the name gives it
}

// of is l with its class.
func (l loc) of(class string) loc { l.class = class; return l }

func (l loc) String() string {
	s := "item " + strconv.Itoa(l.item)
	if l.kind != "" {
		s += " " + l.kind + " " + strconv.Itoa(l.sub)
	}
	if l.class != "" {
		s += " (" + l.class + ")"
	}
	return s
}
