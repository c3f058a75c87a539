package identify

import (
	"errors"

	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Source native keys (sys_object_source_info) are looked up before any
// identifier entry: a source that named a CI by its own key once finds it
// by that key again.

// NativeSourceName is the source name a native key is filed under: the
// item's source_name, else the payload's data source.
func NativeSourceName(si *payload.SourceInfo, dataSource string) string {
	if si.SourceName != "" {
		return si.SourceName
	}
	return dataSource
}

// lookupNative finds, for every item carrying a native key, the stored CI
// the key names, if its class shares the item's rule.
func (pl *planner) lookupNative() error {
	pl.native = make([]*store.Record, len(pl.p.Items))
	for i := range pl.p.Items {
		si, c := pl.p.Items[i].SourceInfo, pl.classes[i]
		if !hasNativeKey(si) || c == nil || c.Rule == nil {
			continue
		}
		id, err := pl.r.Get(store.NativeKey(NativeSourceName(si, pl.opts.Source), si.SourceNativeKey))
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		rec, err := pl.load(string(id))
		if err != nil {
			return err
		}
		if rec == nil {
			continue
		}
		if rc, ok := pl.rs.Class(rec.Class); ok && rc.Rule == c.Rule {
			pl.native[i] = rec
		}
	}
	return nil
}

// byNativeKey binds item i to the CI its native key names, when that CI
// lives where the payload puts the item. It records the attempt either way.
func (pl *planner) byNativeKey(i int, scope string, hasParent bool) *Target {
	si := pl.p.Items[i].SourceInfo
	if !hasNativeKey(si) {
		return nil
	}
	ip := pl.plan.Items[i]
	a := Attempt{Attributes: []string{"source_name", "source_native_key"}, HybridEntryCiAttributes: []string{},
		IdentifierName: "", SearchOnTable: "sys_object_source",
		Values: map[string]any{"source_name": NativeSourceName(si, pl.opts.Source), "source_native_key": si.SourceNativeKey}}
	rec := pl.native[i]
	if rec == nil || (hasParent && rec.Scope != scope) {
		a.AttemptResult = NoMatch
		ip.Attempts = append(ip.Attempts, a)
		return nil
	}
	a.AttemptResult, a.Candidate = Matched, rec.SysID
	ip.Attempts = append(ip.Attempts, a)
	if t := pl.bySysID[rec.SysID]; t != nil {
		return t
	}
	c, _ := pl.rs.Class(rec.Class)
	return pl.existingTarget(rec, c)
}

// hasNativeKey reports whether si names a native key; a blank one is none.
func hasNativeKey(si *payload.SourceInfo) bool {
	return si != nil && !Blank(si.SourceNativeKey)
}

// anyScope stands for "whatever the item depends on" in partial keys; it
// is neither a sys_id nor store.NoScope.
const anyScope = "*"

// PartialKeys returns the identifier keys by which a later payload finds an
// item kept aside as partial: its source native key, and the value set of
// every identifier entry it fills, regardless of the CI it depends on.
// Nil when the item has none, and so cannot be kept as partial.
func PartialKeys(rs *rules.RuleSet, it *payload.Item, source string) [][]byte {
	var keys [][]byte
	if si := it.SourceInfo; hasNativeKey(si) {
		keys = append(keys, store.NativeKey(NativeSourceName(si, source), si.SourceNativeKey))
	}
	c, ok := rs.Class(it.ClassName)
	if !ok || c.Rule == nil {
		return keys
	}
	for _, e := range c.Rule.Entries {
		if k := entryKey(e, it.Values, anyScope); k != nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// IdentifyingAttributes returns the attributes any identifier entry of the
// item's rule names, so a payload can be cut down to what identifies it.
func IdentifyingAttributes(rs *rules.RuleSet, class string) []string {
	c, ok := rs.Class(class)
	if !ok || c.Rule == nil {
		return nil
	}
	return entryAttributes(c.Rule.Entries, "")
}

// entryAttributes lists the attributes entries name, each once, in their
// order, leaving out skip.
func entryAttributes(entries []*rules.Entry, skip string) []string {
	var out []string
	seen := map[string]bool{skip: true}
	for _, e := range entries {
		for _, a := range e.Attributes {
			if !seen[a] {
				seen[a] = true
				out = append(out, a)
			}
		}
	}
	return out
}

// relatedEntry is the entry set a lookup or related record of an item of
// class main is identified by, nil when the item's rule has none for it.
func relatedEntry(rs *rules.RuleSet, main string, r *payload.Related) *rules.RelatedEntry {
	mc, ok := rs.Class(main)
	if !ok || mc.Rule == nil {
		return nil
	}
	c, ok := rs.Class(r.ClassName)
	if !ok {
		return nil
	}
	return mc.Rule.RelatedFor(c)
}

// RecordKeys returns the identity keys of a lookup or related record of an
// item of class main, leaving out the item's sys_id: two records of one
// item are the same record when they share a key. Nil when the record
// fills no entry.
func RecordKeys(rs *rules.RuleSet, main string, r *payload.Related) [][]byte {
	re := relatedEntry(rs, main, r)
	if re == nil {
		return nil
	}
	values := make(map[string]any, len(r.Values)+1)
	for k, v := range r.Values {
		values[k] = v
	}
	values[re.ReferencedField] = anyScope
	var keys [][]byte
	for _, e := range re.Entries {
		if k := entryKey(e, values, anyScope); k != nil {
			keys = append(keys, k)
		}
	}
	return keys
}

// RecordAttributes returns the attributes the entries identifying a lookup
// or related record of an item of class main name (the item's reference
// left out), so that the record can be cut down to what identifies it.
func RecordAttributes(rs *rules.RuleSet, main string, r *payload.Related) []string {
	re := relatedEntry(rs, main, r)
	if re == nil {
		return nil
	}
	return entryAttributes(re.Entries, re.ReferencedField)
}
