package engine

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Partial payloads. With partial_payloads on, items that fail only for want
// of data a later payload may bring (MISSING_MATCHING_ATTRIBUTES,
// REQUIRED_ATTRIBUTE_EMPTY, MISSING_DEPENDENCY, INSERT_NOT_ALLOWED_FOR_SOURCE,
// or dependence on such an item) are kept aside under their identifier keys.
// A later payload with an item sharing one of those keys takes them in: the
// kept item is folded into that item (the newer payload's values win), the
// rest of the partial payload is appended, and all of it is identified
// together. Other failures are recorded as incomplete items, for
// inspection only.

// DefaultPartialTTL is how long a partial payload waits to be completed.
const DefaultPartialTTL = 90 * 24 * time.Hour

// IncompleteTTL is how long incomplete items are kept for inspection.
const IncompleteTTL = 7 * 24 * time.Hour

// InsertAsPartial is the operation of an item kept as a partial payload.
const InsertAsPartial = "INSERT_AS_PARTIAL"

var partialCodes = map[string]bool{
	identify.MissingMatchingAttributes: true,
	identify.RequiredAttributeEmpty:    true,
	identify.MissingDependency:         true,
	identify.InsertNotAllowedForSource: true,
}

// PartialPayload is a part of a payload kept aside until completed.
type PartialPayload struct {
	ID      string    `json:"id"`
	Source  string    `json:"source"`
	Created time.Time `json:"created"`
	// Payload holds the kept items with every item they are related to;
	// those others are cut down to the values that identify them.
	Payload json.RawMessage `json:"payload"`
	// Reasons says why each kept item could not be stored.
	Reasons []PartialReason `json:"reasons"`
	Keys    [][]byte        `json:"keys"`
}

// PartialReason is why one item of a partial payload was kept aside.
type PartialReason struct {
	Index     int     `json:"index"`
	ClassName string  `json:"className"`
	Errors    []Issue `json:"errors"`
}

// IncompleteItem is an item that failed for a reason no later payload can
// fix; it is kept for inspection and never retried.
type IncompleteItem struct {
	ID     string          `json:"id"`
	Source string          `json:"source"`
	At     time.Time       `json:"at"`
	Item   json.RawMessage `json:"item"`
	Errors []Issue         `json:"errors"`
}

// merged is a payload with the partial payloads it completes folded in.
type merged struct {
	p         *payload.Payload
	n, nRel   int              // items and relations of the incoming payload
	mergedIDs map[int][]string // item index → partial payloads merged into it
	consumed  []*PartialPayload
	// own counts, for each incoming item a partial payload added records
	// to, the lookup and related records the item itself carried.
	own map[int]ownRecords
}

// ownRecords counts an incoming item's own lookup and related records: the
// ones after them came from partial payloads.
type ownRecords struct{ lookup, related int }

// partialHint spares most payloads a store scan while no partial payload
// waits: after a scan found none, the next ones skip the lookup for a
// second, unless this engine stores a partial payload meanwhile. (Another
// process sharing the store is noticed within that second.)
type partialHint struct {
	mu      sync.Mutex
	none    bool
	checked time.Time
	gen     uint64 // partial payloads this engine stored
}

func (h *partialHint) skip() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.none && time.Since(h.checked) < time.Second
}

// begin returns the generation a scan starts at.
func (h *partialHint) begin() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.gen
}

// observe records a scan's finding, unless a partial payload was stored
// since the scan began (the scan may have missed it).
func (h *partialHint) observe(any bool, gen uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen == h.gen {
		h.none, h.checked = !any, time.Now()
	}
}

func (h *partialHint) stored() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.gen++
	h.none = false
}

// findPartials returns the live partial payloads that share an identifier
// key with an item of p, oldest first, and the expired ones it met.
func findPartials(r store.Reader, rs *rules.RuleSet, p *payload.Payload, source string, now time.Time, ttl time.Duration, hint *partialHint) (live, expired []*PartialPayload, err error) {
	gen, any := hint.begin(), false
	if err := r.Iterate(store.PartialPrefix(), func(_, _ []byte) error { any = true; return store.ErrStop }); err != nil && !errors.Is(err, store.ErrStop) {
		return nil, nil, err
	}
	hint.observe(any, gen)
	if !any {
		return nil, nil, nil
	}
	ids := map[string]bool{}
	for i := range p.Items {
		for _, k := range identify.PartialKeys(rs, &p.Items[i], source) {
			prefix := store.PartialIndexPrefix(k)
			err := r.Iterate(prefix, func(key, _ []byte) error {
				ids[string(key[len(prefix):])] = true
				return nil
			})
			if err != nil {
				return nil, nil, err
			}
		}
	}
	for id := range ids {
		b, err := r.Get(store.PartialKey(id))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		var pp PartialPayload
		if err := json.Unmarshal(b, &pp); err != nil {
			return nil, nil, fmt.Errorf("engine: corrupt partial payload %s: %w", id, err)
		}
		if now.Sub(pp.Created) > ttl {
			expired = append(expired, &pp)
		} else {
			live = append(live, &pp)
		}
	}
	sort.Slice(live, func(a, b int) bool {
		if !live[a].Created.Equal(live[b].Created) {
			return live[a].Created.Before(live[b].Created)
		}
		return live[a].ID < live[b].ID
	})
	return live, expired, nil
}

// mergePartials folds the partial payloads into a copy of p.
func mergePartials(rs *rules.RuleSet, p *payload.Payload, source string, partials []*PartialPayload) (*merged, error) {
	m := &merged{p: p, n: len(p.Items), nRel: len(p.Relations), mergedIDs: map[int][]string{}, own: map[int]ownRecords{}}
	if len(partials) == 0 {
		return m, nil
	}
	m.p = p.Clone()
	owner := map[string]int{} // identifier key → item index
	register := func(i int, src string) {
		for _, k := range identify.PartialKeys(rs, &m.p.Items[i], src) {
			if _, taken := owner[string(k)]; !taken {
				owner[string(k)] = i
			}
		}
	}
	for i := range m.p.Items {
		register(i, source)
	}
	for _, pp := range partials {
		kept, err := payload.DecodeBytes(pp.Payload)
		if err != nil {
			return nil, fmt.Errorf("engine: partial payload %s no longer decodes: %w", pp.ID, err)
		}
		m.consumed = append(m.consumed, pp)
		at := make([]int, len(kept.Items))
		for i := range kept.Items {
			it := &kept.Items[i]
			at[i] = -1
			for _, k := range identify.PartialKeys(rs, it, pp.Source) {
				if j, ok := owner[string(k)]; ok {
					at[i] = j
					break
				}
			}
			if j := at[i]; j >= 0 {
				if _, ok := m.own[j]; !ok && j < m.n {
					m.own[j] = ownRecords{len(m.p.Items[j].Lookup), len(m.p.Items[j].Related)}
				}
				fold(rs, &m.p.Items[j], it)
			} else {
				m.p.Items = append(m.p.Items, *it)
				at[i] = len(m.p.Items) - 1
				register(at[i], pp.Source)
			}
			m.mergedIDs[at[i]] = appendUnique(m.mergedIDs[at[i]], pp.ID)
		}
		for _, rel := range validRelations(kept) {
			if at[rel.Parent] != at[rel.Child] {
				m.p.Relations = append(m.p.Relations, payload.Relation{Type: rel.Type, Parent: at[rel.Parent], Child: at[rel.Child]})
			}
		}
	}
	return m, nil
}

// fold adds what the kept item says and the newer item does not. A kept
// lookup or related record the newer item carries too (one sharing an
// identity key with it) is folded into that record, not added again.
func fold(rs *rules.RuleSet, into, kept *payload.Item) {
	if into.Values == nil {
		into.Values = map[string]any{}
	}
	for k, v := range kept.Values {
		if _, has := into.Values[k]; !has {
			into.Values[k] = v
		}
	}
	into.Related = foldRecords(rs, into.ClassName, into.Related, kept.Related)
	into.Lookup = foldRecords(rs, into.ClassName, into.Lookup, kept.Lookup)
	for k, v := range kept.DisplayValues {
		if _, has := into.DisplayValues[k]; !has {
			if into.DisplayValues == nil {
				into.DisplayValues = map[string]any{}
			}
			into.DisplayValues[k] = v
		}
	}
	if into.SourceInfo == nil {
		into.SourceInfo = kept.SourceInfo
	}
}

// foldRecords adds the kept records of an item of class main to its newer
// records: a kept record sharing an identity key with a newer one only adds
// the values that one lacks (the newer values win), the others are appended.
func foldRecords(rs *rules.RuleSet, main string, newer, kept []payload.Related) []payload.Related {
	keys := make([][][]byte, len(newer)) // each newer record's identity keys
	for j := range newer {
		keys[j] = identify.RecordKeys(rs, main, &newer[j])
	}
	for _, k := range kept {
		j := sameRecord(newer, keys, &k, identify.RecordKeys(rs, main, &k))
		if j < 0 {
			newer = append(newer, k)
			continue
		}
		if newer[j].Values == nil {
			newer[j].Values = map[string]any{}
		}
		for a, v := range k.Values {
			if _, has := newer[j].Values[a]; !has {
				newer[j].Values[a] = v
			}
		}
	}
	return newer
}

// sameRecord returns the index of the record of list (whose identity keys
// are keys) of r's class that shares one of rKeys, or -1.
func sameRecord(list []payload.Related, keys [][][]byte, r *payload.Related, rKeys [][]byte) int {
	for j, ks := range keys {
		if list[j].ClassName != r.ClassName {
			continue
		}
		for _, k := range ks {
			for _, x := range rKeys {
				if bytes.Equal(k, x) {
					return j
				}
			}
		}
	}
	return -1
}

func appendUnique(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// keptItems marks the items of m to keep as partial: those failing only
// for partial reasons, and those depending on one (abandoned because of it),
// provided each has an identifier key to be found by.
func keptItems(rs *rules.RuleSet, m *payload.Payload, plan *identify.Plan, source string) []bool {
	kept := make([]bool, len(m.Items))
	abandonedOnly := make([]bool, len(m.Items))
	for i, ip := range plan.Items {
		errs := ip.AllErrors()
		if len(errs) == 0 || len(identify.PartialKeys(rs, &m.Items[i], source)) == 0 {
			continue
		}
		partial, abandoned := true, true
		for _, is := range errs {
			partial = partial && partialCodes[is.Code]
			abandoned = abandoned && (partialCodes[is.Code] || is.Code == identify.Abandoned)
		}
		kept[i], abandonedOnly[i] = partial, abandoned
	}
	for changed := true; changed; {
		changed = false
		for _, rel := range validRelations(m) {
			for _, e := range [][2]int{{rel.Parent, rel.Child}, {rel.Child, rel.Parent}} {
				if kept[e[0]] && abandonedOnly[e[1]] && !kept[e[1]] {
					kept[e[1]], changed = true, true
				}
			}
		}
	}
	return kept
}

// newPartial builds the partial payload for the kept items of m: each kept
// item's connected part of the payload, the other items of it cut down to
// the values that identify them, so that replaying it never reverts them.
func newPartial(rs *rules.RuleSet, m *payload.Payload, plan *identify.Plan, kept []bool, id, source string, now time.Time) (*PartialPayload, error) {
	part := components(len(m.Items), validRelations(m))
	withKept := map[int]bool{}
	for i, k := range kept {
		if k {
			withKept[part[i]] = true
		}
	}
	out := &payload.Payload{Items: []payload.Item{}}
	pp := &PartialPayload{ID: id, Source: source, Created: now}
	at := make([]int, len(m.Items))
	for i := range m.Items {
		at[i] = -1
		if !withKept[part[i]] {
			continue
		}
		it := m.Items[i]
		if kept[i] {
			pp.Keys = append(pp.Keys, identify.PartialKeys(rs, &it, source)...)
			pp.Reasons = append(pp.Reasons, PartialReason{Index: len(out.Items), ClassName: it.ClassName, Errors: plan.Items[i].AllErrors()})
		} else {
			it = payload.Item{ClassName: it.ClassName, SourceInfo: it.SourceInfo, Values: map[string]any{}, Lookup: identifyingRecords(rs, it.ClassName, it.Lookup)}
			for _, a := range append(identify.IdentifyingAttributes(rs, it.ClassName), "sys_id") {
				if v, ok := m.Items[i].Values[a]; ok {
					it.Values[a] = v
				}
			}
		}
		at[i] = len(out.Items)
		out.Items = append(out.Items, it)
	}
	for _, rel := range validRelations(m) {
		if at[rel.Parent] >= 0 && at[rel.Child] >= 0 {
			out.Relations = append(out.Relations, payload.Relation{Type: rel.Type, Parent: at[rel.Parent], Child: at[rel.Child]})
		}
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	pp.Payload = b
	return pp, nil
}

// identifyingRecords cuts lookup records down to the values that identify
// them, dropping those no entry identifies.
func identifyingRecords(rs *rules.RuleSet, main string, records []payload.Related) []payload.Related {
	var out []payload.Related
	for _, r := range records {
		cut := payload.Related{ClassName: r.ClassName, Values: map[string]any{}, SourceInfo: r.SourceInfo}
		for _, a := range identify.RecordAttributes(rs, main, &r) {
			if v, ok := r.Values[a]; ok {
				cut.Values[a] = v
			}
		}
		if len(cut.Values) > 0 {
			out = append(out, cut)
		}
	}
	return out
}

// validRelations are the relations whose ends are two items of p (the
// others fail validation and are reported, not followed).
func validRelations(p *payload.Payload) []payload.Relation {
	out := make([]payload.Relation, 0, len(p.Relations))
	for _, r := range p.Relations {
		if r.Invalid == "" && r.ParentSub == nil && r.ChildSub == nil &&
			r.Parent >= 0 && r.Parent < len(p.Items) && r.Child >= 0 && r.Child < len(p.Items) && r.Parent != r.Child {
			out = append(out, r)
		}
	}
	return out
}

// components labels each item with its connected part of the relation graph.
func components(n int, rels []payload.Relation) []int {
	label := make([]int, n)
	for i := range label {
		label[i] = i
	}
	find := func(i int) int {
		for label[i] != i {
			label[i] = label[label[i]]
			i = label[i]
		}
		return i
	}
	for _, r := range rels {
		label[find(r.Parent)] = find(r.Child)
	}
	for i := range label {
		label[i] = find(i)
	}
	return label
}

func putPartial(txn store.Txn, pp *PartialPayload) error {
	b, err := json.Marshal(pp)
	if err != nil {
		return err
	}
	for _, k := range pp.Keys {
		if err := txn.Set(store.PartialIndexKey(k, pp.ID), nil); err != nil {
			return err
		}
	}
	return txn.Set(store.PartialKey(pp.ID), b)
}

func deletePartial(txn store.Txn, pp *PartialPayload) error {
	for _, k := range pp.Keys {
		if err := txn.Delete(store.PartialIndexKey(k, pp.ID)); err != nil {
			return err
		}
	}
	return txn.Delete(store.PartialKey(pp.ID))
}

// recordIncomplete keeps the failed items that are not partial. It returns
// the id of each one it kept, by item index.
func recordIncomplete(txn store.Txn, m *payload.Payload, plan *identify.Plan, kept []bool, source string, now time.Time, newID func() string) (map[int]string, error) {
	ids := map[int]string{}
	for i, ip := range plan.Items {
		if kept[i] || !ip.Failed() {
			continue
		}
		item, err := json.Marshal(m.Items[i])
		if err != nil {
			return ids, err
		}
		inc := IncompleteItem{ID: newID(), Source: source, At: now, Item: item, Errors: ip.AllErrors()}
		b, err := json.Marshal(inc)
		if err != nil {
			return ids, err
		}
		if err := txn.Set(store.IncompleteKey(now, inc.ID), b); err != nil {
			return ids, err
		}
		ids[i] = inc.ID
	}
	return ids, nil
}

// wouldRecordIncomplete is recordIncomplete for a dry run: the items it
// would record, each named "Unknown".
func wouldRecordIncomplete(plan *identify.Plan, kept []bool) map[int]string {
	ids := map[int]string{}
	for i, ip := range plan.Items {
		if !kept[i] && ip.Failed() {
			ids[i] = Unknown
		}
	}
	return ids
}

// Partials lists the partial payloads waiting to be completed, oldest first.
func (e *Engine) Partials() ([]PartialPayload, error) {
	out, err := readJSON[PartialPayload](e.st, store.PartialPrefix())
	sort.SliceStable(out, func(a, b int) bool { return out[a].Created.Before(out[b].Created) })
	return out, err
}

// Incomplete lists the incomplete items kept for inspection, oldest first
// (their keys are in time order).
func (e *Engine) Incomplete() ([]IncompleteItem, error) {
	return readJSON[IncompleteItem](e.st, store.IncompletePrefix())
}

// readJSON decodes every value under prefix, in key order.
func readJSON[T any](st store.Store, prefix []byte) ([]T, error) {
	var out []T
	err := st.View(func(r store.Reader) error {
		return r.Iterate(prefix, func(_, v []byte) error {
			var x T
			if err := json.Unmarshal(v, &x); err != nil {
				return err
			}
			out = append(out, x)
			return nil
		})
	})
	return out, err
}

// Expire deletes partial payloads older than the partial TTL and incomplete
// items older than IncompleteTTL. It returns how many of each it deleted.
func (e *Engine) Expire() (partials, incomplete int, err error) {
	now := e.opts.Now().UTC()
	b := newBatch(e.st)
	err = e.st.View(func(r store.Reader) error {
		if err := r.Iterate(store.PartialPrefix(), func(_, v []byte) error {
			var pp PartialPayload
			if err := json.Unmarshal(v, &pp); err != nil {
				return err
			}
			if now.Sub(pp.Created) <= e.opts.PartialTTL {
				return nil
			}
			partials++
			return b.op(func(t store.Txn) error { return deletePartial(t, &pp) })
		}); err != nil {
			return err
		}
		return r.Iterate(store.IncompletePrefix(), func(k, _ []byte) error {
			if now.Sub(store.IncompleteTime(k)) <= IncompleteTTL {
				return store.ErrStop // keys are in time order
			}
			incomplete++
			return b.del(append([]byte(nil), k...))
		})
	})
	if err != nil && !errors.Is(err, store.ErrStop) {
		return 0, 0, err
	}
	return partials, incomplete, b.flush()
}
