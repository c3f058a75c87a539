package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Fingerprint identifies what of a rule set the identity index depends on:
// the class hierarchy and every identifier entry.
func Fingerprint(rs *rules.RuleSet) string {
	h := sha256.New()
	for _, name := range rs.Classes() {
		c, _ := rs.Class(name)
		parent := ""
		if c.Parent != nil {
			parent = c.Parent.Name
		}
		fmt.Fprintf(h, "class %s<%s\n", name, parent)
	}
	entries := func(es []*rules.Entry) {
		for _, e := range es {
			when := ""
			if e.When != nil {
				when = e.When.Source
			}
			fmt.Fprintf(h, " entry %s %d %q %v %q\n", e.ID, e.Priority, e.Attributes, e.AllowNull, when)
		}
	}
	for _, r := range rs.Rules() {
		fmt.Fprintf(h, "rule %q %s\n", r.Name, r.AppliesTo)
		entries(r.Entries)
		for _, d := range r.DependsOn {
			fmt.Fprintf(h, " depends %s %q %s\n", d.Class, d.Relation, d.Direction)
		}
		for _, re := range r.Related {
			fmt.Fprintf(h, " related %s %s\n", re.Class, re.ReferencedField)
			entries(re.Entries)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// reindexIfRulesChanged rebuilds the identity index when the store was last
// indexed under different rules, so identification never consults keys the
// current rules would not produce. It returns a notice per CI that lost an
// identity to an older CI under the new rules.
func reindexIfRulesChanged(st store.Store, rs *rules.RuleSet) ([]string, error) {
	want := Fingerprint(rs)
	var have []byte
	err := st.View(func(r store.Reader) (err error) {
		have, err = r.Get(store.RulesHashKey())
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if string(have) == want {
		return nil, nil
	}
	notices, err := reindex(st, rs)
	if err != nil {
		return nil, fmt.Errorf("engine: rebuilding the identity index for changed rules: %w", err)
	}
	return notices, setKey(st, store.RulesHashKey(), []byte(want))
}

func reindex(st store.Store, rs *rules.RuleSet) ([]string, error) {
	recs := map[string]*store.Record{}
	err := st.View(func(r store.Reader) error {
		return r.Iterate(store.CIPrefix(), func(_, v []byte) error {
			rec, err := store.DecodeRecord(v)
			if err == nil {
				recs[rec.SysID] = rec
			}
			return err
		})
	})
	if err != nil {
		return nil, err
	}
	// Older CIs keep contested identities: they were there first.
	ids := make([]string, 0, len(recs))
	for id := range recs {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(a, b int) bool {
		ra, rb := recs[ids[a]], recs[ids[b]]
		if !ra.Created.Equal(rb.Created) {
			return ra.Created.Before(rb.Created)
		}
		return ra.SysID < rb.SysID
	})
	var notices []string
	owner := map[string]string{}
	for _, id := range ids {
		rec := recs[id]
		var keys [][]byte
		for _, k := range identify.KeysFor(rs, rec, recs[rec.Scope]) {
			if other, taken := owner[string(k)]; taken {
				notices = append(notices, fmt.Sprintf("CI %s shares an identity with the older CI %s under the new rules; it keeps its other identities", id, other))
				continue
			}
			owner[string(k)] = id
			keys = append(keys, k)
		}
		rec.IdentityKeys = keys
	}
	if err := deletePrefix(st, store.IdentityPrefix()); err != nil {
		return nil, err
	}
	b := newBatch(st)
	for _, id := range ids {
		rec := recs[id]
		for _, k := range rec.IdentityKeys {
			if err := b.set(k, []byte(id)); err != nil {
				return nil, err
			}
		}
		v, err := store.EncodeRecord(rec)
		if err != nil {
			return nil, err
		}
		if err := b.set(store.CIKey(id), v); err != nil {
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
