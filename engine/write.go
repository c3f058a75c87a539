package engine

import (
	"errors"
	"sync/atomic"
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/relations"
	"github.com/irego/irego/store"
)

// write stores every changed, error-free target and new edge of plan, the
// history of each changed CI, when each source last reported each CI and
// how, and a de-duplication task for each group of CIs identification
// found together.
// It returns how many keys it wrote.
func (e *Engine) write(txn store.Txn, p *payload.Payload, plan *identify.Plan, source string, now time.Time, st *stamps) (int, error) {
	n := 0
	for _, t := range plan.Targets {
		if len(t.Errors) > 0 || len(t.Inputs)+len(t.Related) == 0 {
			continue
		}
		if !t.Changed() {
			// Only the discovery times move; the CI is unchanged.
			wrote, err := st.touch(txn, t)
			if err != nil {
				return n, err
			}
			if wrote {
				n++
			}
			continue
		}
		if err := writeTarget(txn, t, source, now, st); err != nil {
			return n, err
		}
		n++
	}
	for _, rp := range plan.Relations {
		if len(rp.Errors) > 0 || rp.Op != identify.OpInsert || rp.Duplicate {
			continue
		}
		rp.Edge.Created = now
		if err := relations.Put(txn, rp.Edge); err != nil {
			return n, err
		}
		n++
	}
	m, err := writeSources(txn, p, plan, source, now, st)
	if err != nil {
		return n + m, err
	}
	r, err := writeReports(txn, plan, source)
	if err != nil {
		return n + m + r, err
	}
	l, err := writeMasked(txn, plan, source, now)
	if err != nil {
		return n + m + r + l, err
	}
	d, err := e.storeDuplicates(txn, plan, source, now)
	return n + m + r + l + d, err
}

func writeTarget(txn store.Txn, t *identify.Target, source string, now time.Time, st *stamps) error {
	rec := &store.Record{SysID: t.SysID, Class: t.Class.Name, Values: t.Values, Scope: t.Scope, Related: t.IsRelated,
		Source: source, Created: now, Updated: now, IdentityKeys: t.IdentityKeys, Owners: t.Owners}
	var oldKeys [][]byte
	if t.Existing == nil {
		// CIs created together are created in the order identification
		// made them, a nanosecond apart: "oldest first" among several
		// matches then never depends on values that later change.
		rec.Created = now.Add(time.Duration(st.inserted))
		rec.Updated = rec.Created
		st.inserted++
	}
	if old := t.Existing; old != nil {
		rec.Source, rec.Created = old.Source, old.Created
		oldKeys = old.IdentityKeys
		rec.FirstDiscovered, rec.LastDiscovered = old.FirstDiscovered, old.LastDiscovered
		if t.Op == identify.OpNoChange {
			// Only which source owns an attribute moved: the CI is as it was.
			rec.Updated = old.Updated
		}
		if old.Class != rec.Class {
			if err := txn.Delete(store.ClassKey(old.Class, t.SysID)); err != nil {
				return err
			}
		}
	}
	if err := store.ChangeIdentities(txn, t.SysID, oldKeys, t.IdentityKeys); err != nil {
		return err
	}
	if t.Existing == nil || t.Existing.Class != rec.Class {
		if err := txn.Set(store.ClassKey(rec.Class, t.SysID), nil); err != nil {
			return err
		}
	}
	if t.IsRelated && t.Existing == nil {
		if err := txn.Set(store.SubKey(t.Scope, t.SysID), nil); err != nil {
			return err
		}
	}
	st.stamp(t, rec)
	if err := writeHistory(txn, t, rec, source, now); err != nil {
		return err
	}
	if err := writeIndex(txn, t, rec); err != nil {
		return err
	}
	return putCIRecord(txn, rec, t.Existing, true)
}

// historySeq orders history entries written with the same timestamp.
var historySeq atomic.Uint64

// writeHistory records what an update changes, unless it only moves the
// ownership of attributes.
func writeHistory(txn store.Txn, t *identify.Target, rec *store.Record, source string, now time.Time) error {
	if t.Existing == nil {
		return nil // History derives the insert from the record and its later changes
	}
	c := store.Change{At: now, Source: source, Op: t.Op, Class: rec.Class, Attributes: map[string]store.ValueChange{}}
	before := t.Existing.Values
	if t.Existing.Class != rec.Class {
		c.ClassBefore = t.Existing.Class
	}
	for k, v := range rec.Values {
		if w, ok := before[k]; !ok || payload.Canonical(w) != payload.Canonical(v) {
			c.Attributes[k] = store.ValueChange{Before: w, After: v}
		}
	}
	for k, w := range before {
		if _, ok := rec.Values[k]; !ok {
			c.Attributes[k] = store.ValueChange{Before: w}
		}
	}
	if len(c.Attributes) == 0 && c.ClassBefore == "" && !t.Existing.Retired {
		return nil
	}
	return putChange(txn, t.SysID, c, now)
}

func putChange(txn store.Txn, sysID string, c store.Change, now time.Time) error {
	b, err := store.EncodeChange(&c)
	if err != nil {
		return err
	}
	return txn.Set(store.HistoryKey(sysID, now, historySeq.Add(1)), b)
}

// writeSources notes, for every CI an item of the payload identified, that
// source reported it (sys_object_source), under the item's native key when
// it has one, and how the report identified it (lastReport). The source's
// own entry is read first only when the item
// gives a source_recency_timestamp or the last scan may stay: otherwise
// the write is blind, so concurrent payloads do not conflict over it.
func writeSources(txn store.Txn, p *payload.Payload, plan *identify.Plan, source string, now time.Time, st *stamps) (int, error) {
	done := map[string]bool{}
	n := 0
	for _, ip := range plan.Items {
		if ip.Failed() || done[ip.Target.SysID] {
			continue
		}
		t := ip.Target
		done[t.SysID] = true
		var before *store.SourceInfo
		if st.needsBefore(ip.Index) {
			var err error
			if before, err = sourceInfo(txn, t.SysID, source); err != nil {
				return n, err
			}
		}
		in := p.Items[ip.Index].SourceInfo
		si := store.SourceInfo{Source: source, LastScan: st.lastScan(ip.Index, before, now), Report: lastReport(ip, in, source, now)}
		if in != nil && !identify.Blank(in.SourceNativeKey) {
			si.Name, si.NativeKey = identify.NativeSourceName(in, source), in.SourceNativeKey
			si.Feed, si.Recency = in.SourceFeed, in.SourceRecencyTimestamp
		}
		if si.NativeKey != "" {
			wrote, err := nameNatively(txn, si.Name, si.NativeKey, t.SysID)
			if err != nil {
				return n, err
			}
			if wrote {
				n++
			}
		}
		b, err := store.EncodeSourceInfo(&si)
		if err != nil {
			return n, err
		}
		if err := txn.Set(store.SourceKey(t.SysID, source), b); err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// nameNatively makes the source's native key name the CI, unless it does
// already (identification read the key: lookupNative), and reports whether
// it wrote: a connector sends a native key with every item, and rewriting
// it on every report was a key written per item for nothing.
func nameNatively(txn store.Txn, name, nativeKey, sysID string) (bool, error) {
	k := store.NativeKey(name, nativeKey)
	switch cur, err := txn.Get(k); {
	case err == nil && string(cur) == sysID:
		return false, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return false, err
	}
	return true, txn.Set(k, []byte(sysID))
}

func containsKey(keys [][]byte, k []byte) bool {
	for _, x := range keys {
		if string(x) == string(k) {
			return true
		}
	}
	return false
}

// sourceInfo reads what source last said of a CI; nil when it never
// reported it.
func sourceInfo(r store.Reader, sysID, source string) (*store.SourceInfo, error) {
	b, err := r.Get(store.SourceKey(sysID, source))
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return store.DecodeSourceInfo(b)
}
