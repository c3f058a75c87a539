package engine

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/relations"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// MergeOptions shape MergeDuplicates.
type MergeOptions struct {
	// Main is the CI the others are merged into; "" means the oldest.
	Main string
	// Delete deletes the others instead of retiring them.
	Delete bool
	// Take chooses, per attribute, the CI whose value the main CI keeps;
	// it overrides the merge template and the reconciliation rules.
	Take map[string]string
	// Source names who merges, in the history; "" means "merge".
	Source string
}

// MergeResult says what a merge did.
type MergeResult struct {
	Task *DuplicateTask `json:"task"`
	Main string         `json:"main"`
	// Merged are the CIs merged into Main, retired or deleted.
	Merged  []string `json:"merged"`
	Deleted bool     `json:"deleted"`
	// Attributes are the main CI's attributes the merge changed, each with
	// the CI its new value came from.
	Attributes map[string]string `json:"attributes"`
	// RelationsMoved counts relations moved to the main CI; RelationsDropped
	// those it already had (or that joined two of the merged CIs).
	RelationsMoved   int `json:"relations_moved"`
	RelationsDropped int `json:"relations_dropped"`
	// RelatedMoved counts related and lookup records moved to the main CI;
	// RelatedFolded those the main CI already had one of (same identity).
	RelatedMoved  int `json:"related_moved"`
	RelatedFolded int `json:"related_folded"`
	// Dependents are the CIs identified under a merged CI, now under Main.
	Dependents []string `json:"dependents,omitempty"`
	// FollowOn are the tasks opened for dependent CIs that now share an
	// identity under Main (the same datacenter under two merged accounts).
	FollowOn []string `json:"follow_on_tasks,omitempty"`
}

// RetiredStatus is the install_status of a retired CI (ServiceNow's 7).
const RetiredStatus = "7"

// MergeDuplicates merges the CIs of an open de-duplication task (by sys_id
// or number) into one main CI, in one transaction: the main CI's values
// are chosen per attribute (see MergeOptions.Take, the merge template of
// the rule file, then the reconciliation rules: the value of the source
// with the best priority, else the main CI's, else the oldest CI's); the
// relations, related and lookup records, dependent CIs, identities, source
// records and native keys of the others move to it without duplicating
// what it has; the others are retired (install_status 7, duplicate_of the
// main CI, no identity) or deleted, and CIs merged into them earlier now
// name the main CI. The main CI's history records the merge.
func (e *Engine) MergeDuplicates(ctx context.Context, id string, o MergeOptions) (*MergeResult, error) {
	if o.Source == "" {
		o.Source = "merge"
	}
	var res *MergeResult
	err := e.inTxn(ctx, o.Source, func(txn store.Txn) (bool, error) {
		t, err := findTask(ctx, txn, id)
		if err != nil {
			return false, err
		}
		if t.State != TaskOpen {
			return false, fmt.Errorf("%w: %s is %s", ErrTaskClosed, t.Number, t.State)
		}
		res, err = e.merge(ctx, txn, t, o)
		return err == nil, err
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (e *Engine) merge(ctx context.Context, txn store.Txn, t *DuplicateTask, o MergeOptions) (*MergeResult, error) {
	var recs []*store.Record
	for _, id := range t.CIs {
		rec, err := getRecord(txn, id)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since: nothing of it to merge
		}
		if err != nil {
			return nil, err
		}
		if of := rec.Values[identify.DuplicateOf]; !identify.Blank(of) {
			return nil, fmt.Errorf("engine: merge %s: CI %s was merged into %v already; dismiss this task", t.Number, id, of)
		}
		recs = append(recs, rec)
	}
	if len(recs) < 2 {
		return nil, fmt.Errorf("engine: merge %s: only %d of its CIs exist; dismiss it", t.Number, len(recs))
	}
	sort.SliceStable(recs, func(a, b int) bool { return older(recs[a], recs[b]) })
	main := recs[0]
	if o.Main != "" {
		i := slices.IndexFunc(recs, func(r *store.Record) bool { return r.SysID == o.Main })
		if i < 0 {
			return nil, fmt.Errorf("engine: merge %s: main CI %s is not one of its CIs (%s)", t.Number, o.Main, strings.Join(t.CIs, ", "))
		}
		main = recs[i]
	}
	for attr, from := range o.Take {
		if !slices.ContainsFunc(recs, func(r *store.Record) bool { return r.SysID == from }) {
			return nil, fmt.Errorf("engine: merge %s: take %s from %s: not one of its CIs", t.Number, attr, from)
		}
	}
	var others []*store.Record
	for _, r := range recs {
		if r != main {
			if r.Scope != main.Scope || r.Related != main.Related {
				return nil, fmt.Errorf("engine: merge %s: CI %s lives under %q, the main CI %s under %q; only CIs identified in one scope merge", t.Number, r.SysID, r.Scope, main.SysID, main.Scope)
			}
			others = append(others, r)
		}
	}
	earlier, err := mergedInto(ctx, txn, others)
	if err != nil {
		return nil, err
	}
	now := e.opts.Now().UTC()
	res := &MergeResult{Main: main.SysID, Deleted: o.Delete, Attributes: map[string]string{}}
	group := map[string]bool{}
	for _, r := range recs {
		group[r.SysID] = true
	}
	for _, d := range others {
		res.Merged = append(res.Merged, d.SysID)
		if err := e.moveDependents(txn, d, main, o, now, res); err != nil {
			return nil, err
		}
		if err := moveEdges(txn, d.SysID, main.SysID, group, res); err != nil {
			return nil, err
		}
		if err := e.moveRelated(txn, d.SysID, main, res); err != nil {
			return nil, err
		}
		if err := moveSources(txn, d.SysID, main.SysID); err != nil {
			return nil, err
		}
	}
	// The others give up their identities before the main CI takes its
	// merged values' ones.
	for _, d := range others {
		if err := store.ChangeIdentities(txn, d.SysID, d.IdentityKeys, nil); err != nil {
			return nil, err
		}
		d.IdentityKeys = nil
	}
	if err := e.mergeValues(txn, main, recs, o, now, res); err != nil {
		return nil, err
	}
	for _, d := range others {
		if o.Delete {
			if err := deleteCI(txn, d); err != nil {
				return nil, err
			}
			if d.Related {
				if err := txn.Delete(store.SubKey(d.Scope, d.SysID)); err != nil {
					return nil, err
				}
			}
			continue
		}
		if err := e.retireDuplicate(txn, d, main.SysID, o.Source, now); err != nil {
			return nil, err
		}
	}
	for _, rec := range earlier { // no chains: what pointed at a merged CI points at the main one
		if err := e.retireDuplicate(txn, rec, main.SysID, o.Source, now); err != nil {
			return nil, err
		}
	}
	t.State, t.Main, t.Updated = TaskMerged, main.SysID, now
	how := "retired"
	if o.Delete {
		how = "deleted"
	}
	t.Notes = append(t.Notes, fmt.Sprintf("merged into %s by %s: %s %s; %d relations moved, %d dropped as already held; %d related records moved, %d folded into the main CI's",
		main.SysID, o.Source, how, strings.Join(res.Merged, ", "), res.RelationsMoved, res.RelationsDropped, res.RelatedMoved, res.RelatedFolded))
	res.Task = t
	return res, closeTask(txn, t)
}

// mergedInto returns the CIs whose duplicate_of names one of recs.
func mergedInto(ctx context.Context, r store.Reader, recs []*store.Record) ([]*store.Record, error) {
	var out []*store.Record
	for _, main := range recs {
		ids, err := duplicatesOf(r, main.SysID)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			rec, err := getRecord(r, id)
			if err != nil {
				return nil, fmt.Errorf("engine: CI %s merged into %s: %w", id, main.SysID, err)
			}
			out = append(out, rec)
		}
	}
	return out, ctx.Err()
}

// duplicatesOf lists the CIs merged into main.
func duplicatesOf(r store.Reader, main string) ([]string, error) {
	var ids []string
	prefix := store.DuplicateOfPrefix(main)
	err := r.Iterate(prefix, func(k, _ []byte) error {
		ids = append(ids, string(k[len(prefix):]))
		return nil
	})
	return ids, err
}

// mergeValues chooses the main CI's values among recs and writes it with
// a MERGE entry in its history.
func (e *Engine) mergeValues(txn store.Txn, main *store.Record, recs []*store.Record, o MergeOptions, now time.Time, res *MergeResult) error {
	class, ok := e.ruleSet().Class(main.Class)
	if !ok {
		return fmt.Errorf("engine: merge: CI %s has class %s, which the rule set does not declare", main.SysID, main.Class)
	}
	attrs := map[string]bool{}
	for _, r := range recs {
		for a := range r.Values {
			attrs[a] = true
		}
	}
	delete(attrs, identify.DuplicateOf)
	values, owners := maps.Clone(main.Values), maps.Clone(main.Owners)
	if values == nil {
		values = map[string]any{}
	}
	if owners == nil {
		owners = map[string]string{}
	}
	c := store.Change{At: now, Source: o.Source, Op: OpMerge, Class: main.Class, Attributes: map[string]store.ValueChange{}}
	for _, a := range slices.Sorted(maps.Keys(attrs)) {
		from := e.mergeSource(class, a, main, recs, o)
		if from == nil || from == main {
			continue
		}
		v := from.Values[a]
		if old, had := values[a]; !had || payload.Canonical(old) != payload.Canonical(v) {
			c.Attributes[a] = store.ValueChange{Before: values[a], After: v}
			res.Attributes[a] = from.SysID
		}
		values[a] = v
		if ow, ok := from.Owners[a]; ok {
			owners[a] = ow
		} else {
			delete(owners, a)
		}
	}
	c.Merged = res.Merged
	var scope *store.Record
	if main.Related {
		var err error
		if scope, err = getRecord(txn, main.Scope); err != nil {
			return err
		}
	}
	main.Values, main.Owners, main.Updated = values, owners, now
	keys := identify.KeysFor(e.ruleSet(), main, scope)
	if err := store.ChangeIdentities(txn, main.SysID, main.IdentityKeys, keys); err != nil {
		return err
	}
	main.IdentityKeys = keys
	if err := reindexRecord(txn, class, main, main.IndexKeys); err != nil {
		return err
	}
	if err := putChange(txn, main.SysID, c, now); err != nil {
		return err
	}
	return putRecord(txn, main)
}

// OpMerge is the history operation of a merge: on the main CI it lists
// the merged CIs and the values taken from them; on a merged CI it sets
// duplicate_of.
const OpMerge = "MERGE"

// mergeSource returns the record whose value of attr the main CI keeps
// (nil: none has one).
func (e *Engine) mergeSource(class *rules.Class, attr string, main *store.Record, recs []*store.Record, o MergeOptions) *store.Record {
	has := func(r *store.Record) bool { v, ok := r.Values[attr]; return ok && !identify.Blank(v) }
	if id, ok := o.Take[attr]; ok {
		for _, r := range recs {
			if r.SysID == id && has(r) {
				return r
			}
		}
	}
	// The candidates: the main CI first, then the others oldest first.
	cands := []*store.Record{main}
	for _, r := range recs {
		if r != main {
			cands = append(cands, r)
		}
	}
	cands = slices.DeleteFunc(cands, func(r *store.Record) bool { return !has(r) })
	if len(cands) == 0 {
		return nil
	}
	switch e.ruleSet().Duplicates().Merge[attr] {
	case rules.MergeNewest:
		best := cands[0]
		for _, r := range cands[1:] {
			if r.Updated.After(best.Updated) {
				best = r
			}
		}
		return best
	case rules.MergeOldest:
		best := cands[0]
		for _, r := range cands[1:] {
			if older(r, best) {
				best = r
			}
		}
		return best
	case rules.MergeMain:
		return cands[0]
	}
	if rule := class.ReconciliationFor(attr); rule != nil && !rule.Dynamic() {
		best, bp := cands[0], math.MaxInt
		for _, r := range cands {
			if p := rule.Priority(r.Owners[attr]); p < bp {
				best, bp = r, p
			}
		}
		return best
	}
	return cands[0]
}

// moveDependents puts the CIs identified under d under main.
func (e *Engine) moveDependents(txn store.Txn, d, main *store.Record, o MergeOptions, now time.Time, res *MergeResult) error {
	deps, err := dependentsOf(txn, d.SysID)
	if err != nil {
		return err
	}
	for _, id := range deps {
		rec, err := getRecord(txn, id)
		if err != nil {
			return err
		}
		rec.Scope = main.SysID
		keys := identify.KeysFor(e.ruleSet(), rec, nil)
		if err := store.ChangeIdentities(txn, id, rec.IdentityKeys, keys); err != nil {
			return err
		}
		rec.IdentityKeys = keys
		if err := putRecord(txn, rec); err != nil {
			return err
		}
		res.Dependents = append(res.Dependents, id)
		if err := e.dependentDuplicates(txn, rec, main, o, now, res); err != nil {
			return err
		}
	}
	return nil
}

// dependentDuplicates opens a task when a dependent CI moved under main
// shares a unique identity with one already there (the same datacenter
// under two merged accounts): merging those is the next step.
func (e *Engine) dependentDuplicates(txn store.Txn, rec, main *store.Record, o MergeOptions, now time.Time, res *MergeResult) error {
	for _, k := range rec.IdentityKeys {
		if !identify.UniqueIdentity(e.ruleSet(), k) {
			continue
		}
		ids, err := store.IdentityHolders(txn, k)
		if err != nil || len(ids) < 2 {
			return err
		}
		var recs []*store.Record
		for _, id := range ids {
			r, err := getRecord(txn, id)
			if err != nil {
				return err
			}
			recs = append(recs, r)
		}
		sort.Slice(recs, func(a, b int) bool { return older(recs[a], recs[b]) })
		ids = ids[:0]
		for _, r := range recs {
			ids = append(ids, r.SysID)
		}
		en, _ := e.ruleSet().Entry(store.EntryIDOfIdentity(k))
		t, err := e.openTask(txn, ids, en.ID, en.Attributes, sharedValues(rec, en.Attributes), o.Source, now,
			fmt.Sprintf("merging into %s brought %d CIs of one identity under it", main.SysID, len(ids)))
		if err != nil {
			return err
		}
		if t != nil {
			res.FollowOn = append(res.FollowOn, t.Number)
		}
	}
	return nil
}

// moveEdges moves every relation of from to to; a relation to already has,
// or one that would join to with itself, is dropped.
func moveEdges(txn store.Txn, from, to string, group map[string]bool, res *MergeResult) error {
	out, err := relations.Outbound(txn, from)
	if err != nil {
		return err
	}
	in, err := relations.Inbound(txn, from)
	if err != nil {
		return err
	}
	for _, ed := range append(out, in...) {
		if err := relations.Delete(txn, ed); err != nil {
			return err
		}
		moved := *ed
		if group[moved.Parent] {
			moved.Parent = to
		}
		if group[moved.Child] {
			moved.Child = to
		}
		if moved.Parent == moved.Child {
			res.RelationsDropped++
			continue
		}
		if _, err := relations.Find(txn, moved.Parent, moved.Type, moved.Child); err == nil {
			res.RelationsDropped++
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := relations.Put(txn, &moved); err != nil {
			return err
		}
		res.RelationsMoved++
	}
	return nil
}

// moveRelated moves the related and lookup records under from to main; a
// record whose identity main already holds a record of is folded into it
// (deleted, its blank-free values filling the kept one's gaps).
func (e *Engine) moveRelated(txn store.Txn, from string, main *store.Record, res *MergeResult) error {
	var subs []string
	if err := txn.Iterate(store.SubPrefix(from), func(k, _ []byte) error {
		subs = append(subs, store.SysIDFromSubKey(k))
		return nil
	}); err != nil {
		return err
	}
	for _, id := range subs {
		if err := txn.Delete(store.SubKey(from, id)); err != nil {
			return err
		}
		sub, err := getRecord(txn, id)
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		moved := *sub
		moved.Scope = main.SysID
		keys := identify.KeysFor(e.ruleSet(), &moved, main)
		kept, err := e.heldUnder(txn, keys, main.SysID)
		if err != nil {
			return err
		}
		if kept != nil {
			if err := foldRelated(txn, kept, sub); err != nil {
				return err
			}
			if err := deleteCI(txn, sub); err != nil {
				return err
			}
			res.RelatedFolded++
			continue
		}
		if err := store.ChangeIdentities(txn, id, sub.IdentityKeys, keys); err != nil {
			return err
		}
		moved.IdentityKeys = keys
		if err := putRecord(txn, &moved); err != nil {
			return err
		}
		if err := txn.Set(store.SubKey(main.SysID, id), nil); err != nil {
			return err
		}
		res.RelatedMoved++
	}
	return nil
}

// heldUnder returns the record under main holding one of keys of a unique
// entry, nil when none does.
func (e *Engine) heldUnder(txn store.Txn, keys [][]byte, main string) (*store.Record, error) {
	for _, k := range keys {
		if !identify.UniqueIdentity(e.ruleSet(), k) {
			continue
		}
		ids, err := store.IdentityHolders(txn, k)
		if err != nil {
			return nil, err
		}
		for _, id := range ids {
			rec, err := getRecord(txn, id)
			if err != nil {
				return nil, err
			}
			if rec.Scope == main {
				return rec, nil
			}
		}
	}
	return nil, nil
}

// foldRelated fills the kept related record's missing values from the one
// folded into it.
func foldRelated(txn store.Txn, kept, gone *store.Record) error {
	changed := false
	for a, v := range gone.Values {
		if w, ok := kept.Values[a]; (!ok || identify.Blank(w)) && !identify.Blank(v) {
			if kept.Values == nil {
				kept.Values = map[string]any{}
			}
			kept.Values[a] = v
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return putRecord(txn, kept)
}

// moveSources gives main the source records and native keys of from: a
// source that reported both keeps its later report.
func moveSources(txn store.Txn, from, to string) error {
	var infos []*store.SourceInfo
	if err := txn.Iterate(store.SourcePrefix(from), func(_, v []byte) error {
		si, err := store.DecodeSourceInfo(v)
		if err != nil {
			return err
		}
		infos = append(infos, si)
		return nil
	}); err != nil {
		return err
	}
	for _, si := range infos {
		if err := txn.Delete(store.SourceKey(from, si.Source)); err != nil {
			return err
		}
		if si.NativeKey != "" {
			if err := txn.Set(store.NativeKey(si.Name, si.NativeKey), []byte(to)); err != nil {
				return err
			}
		}
		// How reports identified the CI that goes stays with it: the one
		// kept keeps its own last reports.
		si.Report = nil
		b, err := txn.Get(store.SourceKey(to, si.Source))
		if err == nil {
			have, err := store.DecodeSourceInfo(b)
			if err != nil {
				return err
			}
			if !si.LastScan.After(have.LastScan) {
				continue
			}
			si.Report = have.Report
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		v, err := store.EncodeSourceInfo(si)
		if err != nil {
			return err
		}
		if err := txn.Set(store.SourceKey(to, si.Source), v); err != nil {
			return err
		}
	}
	reports, err := reportKeys(txn, from)
	if err != nil {
		return err
	}
	for _, k := range reports {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// retireDuplicate marks rec a duplicate of main: retired, duplicate_of
// set, holding no identity.
func (e *Engine) retireDuplicate(txn store.Txn, rec *store.Record, main, source string, now time.Time) error {
	if err := store.ChangeIdentities(txn, rec.SysID, rec.IdentityKeys, nil); err != nil {
		return err
	}
	rec.IdentityKeys = nil
	c := store.Change{At: now, Source: source, Op: OpMerge, Class: rec.Class, Attributes: map[string]store.ValueChange{}}
	set := func(a string, v any) {
		if old, ok := rec.Values[a]; !ok || payload.Canonical(old) != payload.Canonical(v) {
			c.Attributes[a] = store.ValueChange{Before: rec.Values[a], After: v}
		}
		rec.Values[a] = v
	}
	if rec.Values == nil {
		rec.Values = map[string]any{}
	}
	if old, ok := rec.Values[identify.DuplicateOf].(string); ok && old != "" {
		if err := txn.Delete(store.DuplicateOfKey(old, rec.SysID)); err != nil {
			return err
		}
	}
	if err := txn.Set(store.DuplicateOfKey(main, rec.SysID), nil); err != nil {
		return err
	}
	set(identify.DuplicateOf, main)
	set("install_status", RetiredStatus)
	rec.Retired, rec.Updated = true, now
	if class, ok := e.ruleSet().Class(rec.Class); ok {
		if err := reindexRecord(txn, class, rec, rec.IndexKeys); err != nil {
			return err
		}
	}
	if err := putChange(txn, rec.SysID, c, now); err != nil {
		return err
	}
	return putRecord(txn, rec)
}

func putRecord(txn store.Txn, rec *store.Record) error { return putCIRecord(txn, rec, nil, false) }
