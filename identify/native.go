package identify

import (
	"errors"

	"github.com/irego/irego/payload"
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
		if si == nil || si.SourceNativeKey == "" || c == nil || c.Rule == nil {
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
	if si == nil || si.SourceNativeKey == "" {
		return nil
	}
	ip := pl.plan.Items[i]
	a := Attempt{Attributes: []string{"source_name", "source_native_key"}, HybridEntryCiAttributes: []string{},
		IdentifierName: "sys_object_source_info", SearchOnTable: "sys_object_source",
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
