package engine

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/relations"
	"github.com/irego/irego/store"
)

// StaleAction is what Stale does with the CIs it finds.
type StaleAction int

const (
	// StaleList only lists them (the dry run).
	StaleList StaleAction = iota
	// StaleRetire marks them retired; a later report revives them.
	StaleRetire
	// StaleDelete removes them with their related records, relations and
	// identities.
	StaleDelete
)

// StaleQuery names the CIs a source may clean up: those it created, that no
// other source has reported, and that it did not report since RunStart
// (the start of its last full run) nor within the Retention period.
type StaleQuery struct {
	Source    string
	RunStart  time.Time
	Retention time.Duration
	Action    StaleAction
}

// StaleCI is one CI Stale found.
type StaleCI struct {
	SysID    string    `json:"sys_id"`
	Class    string    `json:"class"`
	LastScan time.Time `json:"last_scan"`
	// Kept says why the CI was left alone despite being stale.
	Kept string `json:"kept,omitempty"`
}

// Stale finds (and with a retire or delete action, handles) the CIs q.Source
// alone created and no longer reports. A CI that another CI depends on is
// kept unless that CI is stale too.
func (e *Engine) Stale(ctx context.Context, q StaleQuery) ([]StaleCI, error) {
	if q.Source == "" {
		return nil, errors.New("engine: stale: no source given")
	}
	cutoff := e.opts.Now().Add(-q.Retention)
	if q.RunStart.Before(cutoff) {
		cutoff = q.RunStart
	}
	var found []StaleCI
	stale := map[string]bool{}
	err := e.st.View(func(r store.Reader) error {
		return r.Iterate(store.CIPrefix(), func(_, v []byte) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			rec, err := store.DecodeRecord(v)
			if err != nil || rec.Related || rec.Source != q.Source || (rec.Retired && q.Action != StaleDelete) {
				return err
			}
			last, alone, err := scans(r, rec.SysID, q.Source)
			if err != nil || !alone || !last.Before(cutoff) {
				return err
			}
			found = append(found, StaleCI{SysID: rec.SysID, Class: rec.Class, LastScan: last})
			stale[rec.SysID] = true
			return nil
		})
	})
	if err != nil || q.Action == StaleList {
		return found, err
	}
	for i := range found {
		if err := e.removeStale(&found[i], stale, q); err != nil {
			return found, err
		}
	}
	return found, nil
}

// scans returns when source last reported the CI and whether no other
// source ever did.
func scans(r store.Reader, sysID, source string) (time.Time, bool, error) {
	var last time.Time
	alone := true
	err := r.Iterate(store.SourcePrefix(sysID), func(_, v []byte) error {
		si, err := store.DecodeSourceInfo(v)
		if err != nil {
			return err
		}
		if si.Source != source {
			alone = false
			return store.ErrStop
		}
		last = si.LastScan
		return nil
	})
	return last, alone, err
}

// removeStale retires or deletes one stale CI in its own transaction,
// retried on conflicts like every write.
func (e *Engine) removeStale(s *StaleCI, stale map[string]bool, q StaleQuery) error {
	return e.inTxn(context.Background(), q.Source, func(txn store.Txn) (bool, error) {
		return e.removeStaleIn(txn, s, stale, q)
	})
}

// removeStaleIn retires or deletes s in txn; it reports whether there is
// anything to commit.
func (e *Engine) removeStaleIn(txn store.Txn, s *StaleCI, stale map[string]bool, q StaleQuery) (bool, error) {
	s.Kept = ""
	rec, err := getRecord(txn, s.SysID)
	if errors.Is(err, ErrNotFound) {
		s.Kept = "already gone"
		return false, nil
	}
	if err != nil {
		return false, err
	}
	dependents, err := dependentsOf(txn, s.SysID)
	if err != nil {
		return false, err
	}
	for _, d := range dependents {
		if !stale[d] {
			s.Kept = fmt.Sprintf("CI %s, which is not stale, depends on it", d)
			return false, nil
		}
	}
	if q.Action == StaleDelete {
		if dups, err := duplicatesOf(txn, s.SysID); err != nil || len(dups) > 0 {
			if err == nil {
				s.Kept = fmt.Sprintf("CIs %s were merged into it (duplicate_of)", strings.Join(dups, ", "))
			}
			return false, err
		}
	}
	if q.Action == StaleDelete {
		return true, deleteCI(txn, rec)
	}
	now := e.opts.Now().UTC()
	rec.Retired, rec.Updated = true, now
	b, err := store.EncodeRecord(rec)
	if err != nil {
		return false, err
	}
	if err := txn.Set(store.CIKey(rec.SysID), b); err != nil {
		return false, err
	}
	return true, putChange(txn, rec.SysID, store.Change{At: now, Source: q.Source, Op: "RETIRE", Class: rec.Class, Attributes: map[string]store.ValueChange{}}, now)
}

// dependentsOf lists the CIs whose identity lives under sysID.
func dependentsOf(r store.Reader, sysID string) ([]string, error) {
	var out []string
	edges, err := relations.Outbound(r, sysID)
	if err != nil {
		return nil, err
	}
	in, err := relations.Inbound(r, sysID)
	if err != nil {
		return nil, err
	}
	for _, ed := range append(edges, in...) {
		other := ed.Parent
		if other == sysID {
			other = ed.Child
		}
		rec, err := getRecord(r, other)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		if rec != nil && rec.Scope == sysID && !rec.Related {
			out = append(out, other)
		}
	}
	sort.Strings(out)
	return out, nil
}

// deleteCI removes a CI with its related records, its edges, its identity
// keys, its source records and its history.
func deleteCI(txn store.Txn, rec *store.Record) error {
	if of, ok := rec.Values[identify.DuplicateOf].(string); ok && of != "" {
		if err := txn.Delete(store.DuplicateOfKey(of, rec.SysID)); err != nil {
			return err
		}
	}
	var subs []string
	if err := txn.Iterate(store.SubPrefix(rec.SysID), func(k, _ []byte) error {
		subs = append(subs, store.SysIDFromSubKey(k))
		return nil
	}); err != nil {
		return err
	}
	for _, id := range subs {
		sub, err := getRecord(txn, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if sub != nil {
			if err := deleteCI(txn, sub); err != nil {
				return err
			}
		}
		if err := txn.Delete(store.SubKey(rec.SysID, id)); err != nil {
			return err
		}
	}
	out, err := relations.Outbound(txn, rec.SysID)
	if err != nil {
		return err
	}
	in, err := relations.Inbound(txn, rec.SysID)
	if err != nil {
		return err
	}
	for _, ed := range append(out, in...) {
		if err := relations.Delete(txn, ed); err != nil {
			return err
		}
	}
	if err := store.ChangeIdentities(txn, rec.SysID, rec.IdentityKeys, nil); err != nil {
		return err
	}
	if err := dropIndex(txn, rec); err != nil {
		return err
	}
	var keys [][]byte
	if err := txn.Iterate(store.SourcePrefix(rec.SysID), func(k, v []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		si, err := store.DecodeSourceInfo(v)
		if err == nil && si.NativeKey != "" {
			keys = append(keys, store.NativeKey(si.Name, si.NativeKey))
		}
		return err
	}); err != nil {
		return err
	}
	reports, err := reportKeys(txn, rec.SysID)
	if err != nil {
		return err
	}
	keys = append(keys, reports...)
	kept, err := lastReportKeys(txn, rec.SysID)
	if err != nil {
		return err
	}
	keys = append(keys, kept...)
	if err := txn.Iterate(store.HistoryPrefix(rec.SysID), func(k, _ []byte) error {
		keys = append(keys, append([]byte(nil), k...))
		return nil
	}); err != nil {
		return err
	}
	for _, k := range append(keys, store.ClassKey(rec.Class, rec.SysID), store.CIKey(rec.SysID)) {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
