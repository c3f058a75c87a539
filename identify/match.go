package identify

import (
	"fmt"
	"sort"
	"strings"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// A search is one walk over identifier entries for one item: a rule's own
// entries for a CI, a related entry's for a record under its CI.
type search struct {
	entries []*rules.Entry
	rule    *rules.Rule // the rule searched: candidates must be of its classes
	values  map[string]any
	scope   string
	lookups []payload.Related // the item's lookup records, for lookup entries
	related bool              // records under a CI: candidates are related records
	where   loc               // names the item in messages
}

// candidate is a CI an entry found: a stored one, or a target of this
// payload (new or already bound).
type candidate struct {
	sysID string
	rec   *store.Record // the stored record; nil for a CI this payload creates
	t     *Target       // the payload's target for it, when there is one
	refs  int           // lookup entries: how many of the item's lookup records name it
	first int           // lookup entries: the rank of the first (by content) lookup record naming it
	held  int           // lookup entries: how many of those records the store already holds under it
}

// walk tries the entries in order. It returns the attempts, the target of
// the first entry that finds a CI (nil when none does), that entry, and
// whether any entry could be tried at all. An entry that finds more CIs
// than the duplicate threshold allows fails the item: the issue is returned.
func (pl *planner) walk(s search) ([]Attempt, *Target, *rules.Entry, bool, *Issue, error) {
	var attempts []Attempt
	ran := false
	name, table := "", ""
	if s.rule != nil {
		name, table = s.rule.Name, s.rule.AppliesTo
	}
	for _, e := range s.entries {
		a := Attempt{Attributes: e.Attributes, HybridEntryCiAttributes: orEmpty(e.HybridAttributes), IdentifierName: name, SearchOnTable: table}
		var cands []candidate
		var why string
		var err error
		if e.IsLookup() {
			a.SearchOnTable = e.SearchOn
			cands, why, err = pl.lookupCandidates(e, s)
		} else {
			var key []byte
			key, why = entryKeyWhy(e, s.values, s.scope)
			if key != nil {
				a.Values = pick(s.values, e.Attributes)
				cands, err = pl.keyCandidates(key, s)
			}
		}
		if err != nil {
			return nil, nil, nil, false, nil, err
		}
		if why != "" {
			a.AttemptResult, a.Info = Skipped, why
			attempts = append(attempts, a)
			continue
		}
		ran = true
		cands = pl.admissible(e, s, cands)
		switch {
		case len(cands) == 0:
			a.AttemptResult = NoMatch
			attempts = append(attempts, a)
			continue
		case len(cands) > 1 && !e.IsLookup():
			ids := candidateIDs(cands)
			pl.plan.Duplicates = append(pl.plan.Duplicates, Duplicate{Entry: e, SysIDs: ids, Values: pick(s.values, e.Attributes)})
			if limit := pl.rs.Duplicates().Threshold; len(cands) >= limit {
				a.AttemptResult, a.Info = MultiMatch, "candidates "+strings.Join(ids, ", ")
				is := issue(MultipleDuplicateRecords,
					"%s: found %d duplicate records in table [%s] using fields [%s]: %s; the duplicate threshold is %d, so none is updated — merge them (irego duplicates)",
					s.where, len(cands), table, strings.Join(e.Attributes, ", "), strings.Join(ids, ", "), limit)
				return append(attempts, a), nil, nil, true, &is, nil
			}
			a.AttemptResult = MultiMatch
			a.Info = fmt.Sprintf("%d CIs hold these values (%s); matched the oldest, %s, and recorded a de-duplication task", len(cands), strings.Join(ids, ", "), cands[0].sysID)
		default:
			a.AttemptResult = Matched
			if cands[0].t != nil && cands[0].t.Existing == nil {
				a.Info = "matched an earlier item of this payload"
			}
		}
		a.Candidate = cands[0].sysID
		attempts = append(attempts, a)
		return attempts, pl.bind(cands[0]), e, true, nil, nil
	}
	return attempts, nil, nil, ran, nil, nil
}

// keyCandidates returns the CIs holding identity key: those of this
// payload that claimed it and the stored holders.
func (pl *planner) keyCandidates(key []byte, s search) ([]candidate, error) {
	var out []candidate
	seen := func(id string) bool { // few candidates: a scan beats a map
		for _, c := range out {
			if c.sysID == id {
				return true
			}
		}
		return false
	}
	for _, t := range pl.claimed[string(key)] {
		if !seen(t.SysID) {
			out = append(out, candidate{sysID: t.SysID, rec: t.Existing, t: t})
		}
	}
	if pl.underNewCI(key) {
		if pl.opts.OnKeyUnderNewCI != nil {
			pl.opts.OnKeyUnderNewCI(key)
		}
		return out, nil
	}
	ids, err := store.IdentityHolders(pl.r, key)
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if seen(id) {
			continue
		}
		c, ok, err := pl.storedCandidate(id, s.rule, s.related)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, c)
		}
	}
	return out, nil
}

// underNewCI reports whether identity key k is scoped under a CI this
// payload creates: no stored identity names its new sys_id, so the store
// need not be asked (a round trip on a server store).
func (pl *planner) underNewCI(k []byte) bool {
	t := pl.bySysID[string(store.IdentityScope(k))]
	return t != nil && t.fresh
}

// storedCandidate loads a stored CI an index names. ok is false when its
// class is identified by another rule (it cannot be the item's CI).
func (pl *planner) storedCandidate(id string, rule *rules.Rule, related bool) (candidate, bool, error) {
	if t := pl.bySysID[id]; t != nil {
		return candidate{sysID: id, rec: t.Existing, t: t}, true, nil
	}
	rec, err := pl.load(id)
	if err != nil {
		return candidate{}, false, err
	}
	if rec == nil {
		return candidate{}, false, fmt.Errorf("identify: identity index points at missing CI %s (run check)", id)
	}
	rc, ok := pl.rs.Class(rec.Class)
	if !ok {
		return candidate{}, false, fmt.Errorf("identify: stored CI %s has class %s, which the rule set does not declare", id, rec.Class)
	}
	if !related && rule != nil && rc.Rule != rule {
		return candidate{}, false, nil
	}
	return candidate{sysID: id, rec: rec}, true, nil
}

// lookupCandidates finds the CIs that the item's lookup records of e's
// table belong to. why is set when no such record fills e's attributes.
func (pl *planner) lookupCandidates(e *rules.Entry, s search) ([]candidate, string, error) {
	for _, h := range e.HybridAttributes {
		if Blank(s.values[h]) {
			return nil, "missing " + h + " (a hybrid attribute of the CI)", nil
		}
	}
	found := map[string]*candidate{}
	var order []string
	records := 0
	var sets []map[string]bool
	for rank, l := range byContent(s.lookups) {
		lc, ok := pl.rs.Class(l.ClassName)
		if !ok || !lc.IsA(e.SearchOn) {
			continue
		}
		key := entryKey(e, l.Values, "")
		if key == nil {
			continue
		}
		records++
		set, held := map[string]bool{}, map[string]bool{}
		for _, t := range pl.claimed[string(key)] {
			set[t.SysID] = true
			if found[t.SysID] == nil {
				found[t.SysID] = &candidate{sysID: t.SysID, rec: t.Existing, t: t, first: rank}
				order = append(order, t.SysID)
			}
		}
		ids, err := store.IdentityHolders(pl.r, key)
		if err != nil {
			return nil, "", err
		}
		for _, id := range ids {
			rec, err := pl.load(id) // the lookup record; its scope is its CI
			if err != nil {
				return nil, "", err
			}
			if rec == nil || rec.Scope == "" {
				continue
			}
			held[rec.Scope] = true
			if set[rec.Scope] {
				continue
			}
			if found[rec.Scope] == nil {
				c, ok, err := pl.storedCandidate(rec.Scope, s.rule, false)
				if err != nil || !ok {
					if err != nil {
						return nil, "", err
					}
					continue
				}
				c.first = rank
				found[rec.Scope] = &c
				order = append(order, rec.Scope)
			}
			set[rec.Scope] = true
		}
		for id := range set {
			found[id].refs++
			if held[id] {
				found[id].held++
			}
		}
		sets = append(sets, set)
	}
	if records == 0 {
		return nil, fmt.Sprintf("no lookup record of %s with %s", e.SearchOn, strings.Join(e.Attributes, ", ")), nil
	}
	var out []candidate
	for _, id := range order {
		c := found[id]
		if e.ExactCount && c.refs < len(sets) {
			continue
		}
		if !sameHybrid(e, s.values, c) {
			continue
		}
		out = append(out, *c)
	}
	return out, "", nil
}

func sameHybrid(e *rules.Entry, values map[string]any, c *candidate) bool {
	have := c.values()
	for _, h := range e.HybridAttributes {
		if payload.Canonical(have[h]) != payload.Canonical(values[h]) {
			return false
		}
	}
	return true
}

// admissible drops the candidates an entry may not match, and orders the
// rest: most lookup records first, then oldest first (stored CIs by
// creation, then this payload's new CIs in the order it made them).
func (pl *planner) admissible(e *rules.Entry, s search, cands []candidate) []candidate {
	out := cands[:0:0]
	for _, c := range cands {
		if c.rec != nil && !Blank(c.rec.Values[DuplicateOf]) {
			continue // merged into another CI: never matched again
		}
		if c.rec != nil && e.Filter != nil {
			if ok, err := e.Filter.Eval(c.rec.Values); err != nil || !ok {
				continue
			}
		}
		if pl.contradicts(e, s, c) {
			continue
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(a, b int) bool {
		x, y := out[a], out[b]
		if x.refs != y.refs {
			return x.refs > y.refs
		}
		if x.held != y.held { // a CI the store files the record under beats one this payload gives it to
			return x.held > y.held
		}
		if (x.rec == nil) != (y.rec == nil) {
			return x.rec != nil
		}
		if x.rec != nil && !x.rec.Created.Equal(y.rec.Created) {
			return x.rec.Created.Before(y.rec.Created)
		}
		if x.first != y.first { // the one the item's first lookup record (by content) names
			return x.first < y.first
		}
		if x.rec != nil { // created together: by content, so the choice never depends on random sys_ids
			if kx, ky := recordKey(x.rec.Class, x.rec.Values), recordKey(y.rec.Class, y.rec.Values); kx != ky {
				return kx < ky
			}
		}
		if x.rec == nil && x.t != nil && y.t != nil && x.t.seq != y.t.seq {
			return x.t.seq < y.t.seq
		}
		return x.sysID < y.sysID
	})
	return out
}

// contradicts reports whether candidate c holds other values than the item
// for a unique entry (other than e) that both fill: then it is another CI,
// however much else they share (two computers named localhost with
// different serial numbers are two computers).
func (pl *planner) contradicts(e *rules.Entry, s search, c candidate) bool {
	have := c.values()
	for _, u := range s.entries {
		if u == e || !u.Unique || u.IsLookup() {
			continue
		}
		mine := entryKey(u, s.values, s.scope)
		if mine == nil {
			continue
		}
		theirs := entryKey(u, have, s.scope)
		if theirs != nil && string(theirs) != string(mine) {
			return true
		}
	}
	return false
}

// values are what is known of a candidate's values: stored, or reported by
// the items of this payload bound to it.
func (c *candidate) values() map[string]any {
	if c.rec != nil {
		return c.rec.Values
	}
	out := map[string]any{}
	if c.t != nil {
		for _, in := range c.t.incoming {
			for k, v := range in.values {
				if _, has := out[k]; !has || Blank(out[k]) {
					out[k] = v
				}
			}
		}
	}
	return out
}

// bind returns the payload's target for a candidate, making one for a
// stored CI seen for the first time.
func (pl *planner) bind(c candidate) *Target {
	if c.t != nil {
		return c.t
	}
	if t := pl.bySysID[c.sysID]; t != nil {
		return t
	}
	rc, _ := pl.rs.Class(c.rec.Class)
	return pl.existingTarget(c.rec, rc)
}

// Older reports whether stored CI a comes before b in the order
// identification prefers among several matches: created first, then (created
// together) by content, then by sys_id.
func Older(a, b *store.Record) bool {
	if !a.Created.Equal(b.Created) {
		return a.Created.Before(b.Created)
	}
	if ka, kb := recordKey(a.Class, a.Values), recordKey(b.Class, b.Values); ka != kb {
		return ka < kb
	}
	return a.SysID < b.SysID
}

// byContent returns the records sorted by class and values, so that the
// order a payload lists them in never matters.
func byContent(rs []payload.Related) []payload.Related {
	out := append([]payload.Related(nil), rs...)
	sort.SliceStable(out, func(a, b int) bool {
		return recordKey(out[a].ClassName, out[a].Values) < recordKey(out[b].ClassName, out[b].Values)
	})
	return out
}

func candidateIDs(cands []candidate) []string {
	out := make([]string, len(cands))
	for i, c := range cands {
		out[i] = c.sysID
	}
	return out
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// claimLookups records the global lookup keys of an item's lookup records
// for its target, so later items of the payload find it by them.
func (pl *planner) claimLookups(t *Target, rule *rules.Rule, lookups []payload.Related) {
	for _, e := range rule.Entries {
		if !e.IsLookup() {
			continue
		}
		for _, l := range lookups {
			if lc, ok := pl.rs.Class(l.ClassName); ok && lc.IsA(e.SearchOn) {
				if key := entryKey(e, l.Values, ""); key != nil {
					pl.claimKey(key, t)
				}
			}
		}
	}
}

func (pl *planner) claimKey(key []byte, t *Target) {
	for _, x := range pl.claimed[string(key)] {
		if x == t {
			return
		}
	}
	pl.claimed[string(key)] = append(pl.claimed[string(key)], t)
}
