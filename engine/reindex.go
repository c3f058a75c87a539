package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Fingerprints identify, per class, what of a rule set the identity keys
// of its CIs depend on: the rule in force for the class (its entries,
// dependencies and related entries, which also key the class's related
// records). A class whose fingerprint is unchanged keeps its CIs' keys.
func Fingerprints(rs *rules.RuleSet) map[string]string {
	out := map[string]string{}
	for _, name := range rs.Classes() {
		c, _ := rs.Class(name)
		h := sha256.New()
		if r := c.Rule; r != nil {
			fmt.Fprintf(h, "rule %q %s\n", r.Name, r.AppliesTo)
			writeEntries(h, r.Entries)
			for _, d := range r.DependsOn {
				fmt.Fprintf(h, " depends %s %q %s\n", d.Class, d.Relation, d.Direction)
			}
			for _, re := range r.Related {
				fmt.Fprintf(h, " related %s %s\n", re.Class, re.ReferencedField)
				writeEntries(h, re.Entries)
			}
			for k := c; k != nil; k = k.Parent { // related entries match along the ancestry
				fmt.Fprintf(h, " isa %s\n", k.Name)
			}
		}
		out[name] = hex.EncodeToString(h.Sum(nil))
	}
	return out
}

func writeEntries(w io.Writer, es []*rules.Entry) {
	for _, e := range es {
		when := ""
		if e.When != nil {
			when = e.When.Source
		}
		fmt.Fprintf(w, " entry %s %d %q %v %q\n", e.ID, e.Priority, e.Attributes, e.AllowNull, when)
	}
}

// reindexIfRulesChanged rebuilds the identity keys of the CIs whose class's
// rule changed since the store was last indexed, so identification never
// consults keys the current rules would not produce. It returns a notice
// per CI that lost an identity to an older CI under the new rules.
func reindexIfRulesChanged(st store.Store, rs *rules.RuleSet) ([]string, error) {
	want := Fingerprints(rs)
	var have map[string]string
	err := st.View(func(r store.Reader) error {
		b, err := r.Get(store.RulesHashKey())
		if err == nil && json.Unmarshal(b, &have) != nil {
			have = nil // an older single fingerprint: treat every class as changed
		}
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	changed := map[string]bool{}
	for class, fp := range want {
		if have[class] != fp {
			changed[class] = true
		}
	}
	for class := range have {
		if _, ok := want[class]; !ok {
			changed[class] = true
		}
	}
	if len(changed) == 0 {
		return nil, nil
	}
	notices, err := reindex(st, rs, changed)
	if err != nil {
		return nil, fmt.Errorf("engine: rebuilding the identity index for changed rules: %w", err)
	}
	b, err := json.Marshal(want)
	if err != nil {
		return nil, err
	}
	return notices, setKey(st, store.RulesHashKey(), b)
}

// reindex recomputes the identity keys of the CIs of the changed classes
// (and the related records under them), streaming over the store and
// holding only those CIs. Older CIs keep contested identities: they were
// there first; CIs of unchanged classes keep theirs.
func reindex(st store.Store, rs *rules.RuleSet, changed map[string]bool) ([]string, error) {
	var recs []*store.Record
	mains := map[string]*store.Record{}
	err := st.View(func(r store.Reader) error {
		return r.Iterate(store.CIPrefix(), func(_, v []byte) error {
			rec, err := store.DecodeRecord(v)
			if err != nil {
				return err
			}
			affected := changed[rec.Class]
			var main *store.Record
			if rec.Related && rec.Scope != "" {
				if main, err = getRecord(r, rec.Scope); err != nil && !errors.Is(err, ErrNotFound) {
					return err
				}
				affected = affected || (main != nil && changed[main.Class])
			}
			if affected {
				recs = append(recs, rec)
				if main != nil {
					mains[rec.Scope] = main
				}
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(recs, func(a, b int) bool {
		if !recs[a].Created.Equal(recs[b].Created) {
			return recs[a].Created.Before(recs[b].Created)
		}
		return recs[a].SysID < recs[b].SysID
	})
	mine := map[string]bool{}
	for _, rec := range recs {
		mine[rec.SysID] = true
	}
	// Release the affected CIs' old keys, then hand out the new ones.
	b := newBatch(st)
	for _, rec := range recs {
		for _, k := range rec.IdentityKeys {
			if err := b.del(k); err != nil {
				return nil, err
			}
		}
	}
	if err := b.flush(); err != nil {
		return nil, err
	}
	var notices []string
	owner := map[string]string{}
	b = newBatch(st)
	for _, rec := range recs {
		var keys [][]byte
		for _, k := range identify.KeysFor(rs, rec, mains[rec.Scope]) {
			other, taken := owner[string(k)]
			if !taken {
				if err := st.View(func(r store.Reader) error {
					id, err := r.Get(k)
					if err == nil && !mine[string(id)] {
						other, taken = string(id), true
					}
					if errors.Is(err, store.ErrNotFound) {
						return nil
					}
					return err
				}); err != nil {
					return nil, err
				}
			}
			if taken {
				notices = append(notices, fmt.Sprintf("CI %s shares an identity with the older CI %s under the new rules; it keeps its other identities", rec.SysID, other))
				continue
			}
			owner[string(k)] = rec.SysID
			keys = append(keys, k)
			if err := b.set(k, []byte(rec.SysID)); err != nil {
				return nil, err
			}
		}
		rec.IdentityKeys = keys
		v, err := store.EncodeRecord(rec)
		if err != nil {
			return nil, err
		}
		if err := b.set(store.CIKey(rec.SysID), v); err != nil {
			return nil, err
		}
	}
	return notices, b.flush()
}

func setKey(st store.Store, k, v []byte) error {
	t := st.NewTxn()
	defer t.Discard()
	if err := t.Set(k, v); err != nil {
		return err
	}
	return t.Commit()
}

func deletePrefix(st store.Store, prefix []byte) error {
	var keys [][]byte
	if err := st.View(func(r store.Reader) error {
		return r.Iterate(prefix, func(k, _ []byte) error {
			keys = append(keys, append([]byte(nil), k...))
			return nil
		})
	}); err != nil {
		return err
	}
	b := newBatch(st)
	for _, k := range keys {
		if err := b.del(k); err != nil {
			return err
		}
	}
	return b.flush()
}

// batch writes many keys outside any payload, committing whenever a
// transaction grows too big. Used only while no payload is being applied.
type batch struct {
	st  store.Store
	txn store.Txn
}

func newBatch(st store.Store) *batch { return &batch{st: st, txn: st.NewTxn()} }

func (b *batch) set(k, v []byte) error {
	return b.do(func(t store.Txn) error { return t.Set(k, v) })
}

func (b *batch) del(k []byte) error {
	return b.do(func(t store.Txn) error { return t.Delete(k) })
}

func (b *batch) do(op func(store.Txn) error) error {
	err := op(b.txn)
	if errors.Is(err, store.ErrTxnTooBig) {
		if err := b.flush(); err != nil {
			return err
		}
		b.txn = b.st.NewTxn()
		err = op(b.txn)
	}
	return err
}

func (b *batch) flush() error {
	defer b.txn.Discard()
	return b.txn.Commit()
}
