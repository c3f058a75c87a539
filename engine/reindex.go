package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"
	"weak"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Fingerprints identify, per class, what of a rule set the identity keys
// of its CIs depend on: the rule in force for the class (its entries,
// dependencies and related entries, which also key the class's related
// records). A class whose fingerprint is unchanged keeps its CIs' keys.
func Fingerprints(rs *rules.RuleSet) map[string]string {
	return maps.Clone(fingerprints(rs))
}

// fingerprintsOf remembers each rule set's fingerprints while the rule set
// lives: rule sets are immutable, and every engine opened on one (tests
// open hundreds on the built-in pack) would otherwise hash its 375 classes
// again.
var fingerprintsOf sync.Map // weak.Pointer[rules.RuleSet] → map[string]string

// fingerprints is Fingerprints shared: callers must not modify the map.
func fingerprints(rs *rules.RuleSet) map[string]string {
	key := weak.Make(rs)
	if fp, ok := fingerprintsOf.Load(key); ok {
		return fp.(map[string]string)
	}
	fp, loaded := fingerprintsOf.LoadOrStore(key, computeFingerprints(rs))
	if !loaded {
		runtime.AddCleanup(rs, func(k weak.Pointer[rules.RuleSet]) { fingerprintsOf.Delete(k) }, key)
	}
	return fp.(map[string]string)
}

func computeFingerprints(rs *rules.RuleSet) map[string]string {
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

// changedClasses are the classes whose fingerprint differs between have
// and want, or which only one of them has.
func changedClasses(want, have map[string]string) map[string]bool {
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
	return changed
}

func writeEntries(w io.Writer, es []*rules.Entry) {
	for _, e := range es {
		when := ""
		if e.When != nil {
			when = e.When.Source
		}
		fmt.Fprintf(w, " entry %s %d %q %v %q unique=%v lookup=%q %q exact=%v\n", e.ID, e.Priority, e.Attributes, e.AllowNull, when,
			e.Unique, e.SearchOn, e.HybridAttributes, e.ExactCount)
	}
}

// reindexIfRulesChanged rebuilds the identity keys of the CIs whose class's
// rule changed since the store was last indexed, so identification never
// consults keys the current rules would not produce. It returns a notice
// per CI that lost an identity to an older CI under the new rules, and how
// many classes' CIs it reindexed.
func reindexIfRulesChanged(st store.Store, rs *rules.RuleSet) ([]string, int, error) {
	want := fingerprints(rs)
	var have map[string]string
	format := ""
	err := st.View(func(r store.Reader) error {
		b, err := r.Get(store.RulesHashKey())
		if err == nil && json.Unmarshal(b, &have) != nil {
			have = nil // an older single fingerprint: treat every class as changed
		}
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		f, err := r.Get(store.IdentityFormatKey())
		format = string(f)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
	if err != nil {
		return nil, 0, err
	}
	upgrade := format == store.IdentityFormatSingleMembers
	if upgrade {
		if err := dropSingleMembers(st); err != nil {
			return nil, 0, fmt.Errorf("engine: upgrading the identity index: %w", err)
		}
	}
	fresh := format != store.IdentityFormat && !upgrade
	if fresh {
		// An index in an older layout is rebuilt from scratch.
		for _, p := range [][]byte{store.IdentityPrefix(), store.IdentityMembersPrefix()} {
			if err := deletePrefix(st, p); err != nil {
				return nil, 0, err
			}
		}
		have = nil
	}
	changed := changedClasses(want, have)
	if len(changed) > 0 {
		notices, err := reindex(st, rs, changed, fresh)
		if err != nil {
			return nil, 0, fmt.Errorf("engine: rebuilding the identity index for changed rules: %w", err)
		}
		b, err := json.Marshal(want)
		if err != nil {
			return nil, 0, err
		}
		if err := setKey(st, store.RulesHashKey(), b); err != nil {
			return nil, 0, err
		}
		if fresh || upgrade {
			return notices, len(changed), setKey(st, store.IdentityFormatKey(), []byte(store.IdentityFormat))
		}
		return notices, len(changed), nil
	}
	if fresh || upgrade {
		return nil, 0, setKey(st, store.IdentityFormatKey(), []byte(store.IdentityFormat))
	}
	return nil, 0, nil
}

// dropSingleMembers deletes the member keys of identities with a single
// holder, which a store of the previous identity format also wrote: its
// guard names that holder. It reads the guards a batch at a time, so
// memory stays flat; cut short, it runs again on the next open.
func dropSingleMembers(st store.Store) error {
	from := store.IdentityPrefix()
	for {
		var singles [][]byte
		next := []byte(nil)
		if err := st.View(func(r store.Reader) error {
			return r.IterateFrom(store.IdentityPrefix(), from, func(k, v []byte) error {
				if len(singles) == deleteBatch {
					next = bytes.Clone(k)
					return store.ErrStop
				}
				if n, only, err := store.DecodeIdentityGuard(v); err == nil && n == 1 {
					singles = append(singles, store.IdentityMemberKey(k, only))
				}
				return nil
			})
		}); err != nil {
			return err
		}
		if err := deleteKeys(st, singles); err != nil {
			return err
		}
		if next == nil {
			return nil
		}
		from = next
	}
}

// reindex recomputes the identity keys of the CIs of the changed classes
// (and the related records under them), streaming over the store and
// holding only those CIs. Where a unique entry's values are contested, the
// older CI keeps them: it was there first; CIs of unchanged classes keep
// theirs. fresh says the index is empty: there are no old keys to release.
func reindex(st store.Store, rs *rules.RuleSet, changed map[string]bool, fresh bool) ([]string, error) {
	// Only the order of the affected records is held (oldest first, so
	// that older CIs keep a unique identity): a store of millions of CIs
	// is read again record by record rather than held decoded.
	type pending struct {
		created time.Time
		sysID   string
	}
	var todo []pending
	err := scanForReindex(st, func(r store.Reader) error {
		return r.Iterate(store.CIPrefix(), func(_, v []byte) error {
			rec, err := store.DecodeRecord(v)
			if err != nil {
				return err
			}
			_, affected, err := affectedBy(r, rec, changed)
			if err != nil {
				return err
			}
			if affected {
				todo = append(todo, pending{rec.Created, rec.SysID})
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	sort.Slice(todo, func(a, b int) bool {
		if !todo[a].created.Equal(todo[b].created) {
			return todo[a].created.Before(todo[b].created)
		}
		return todo[a].sysID < todo[b].sysID
	})
	// read reads an affected record and its main CI (nil when it has none,
	// or it is gone) in the batch's transaction; rec is nil when the record
	// itself is gone.
	read := func(t store.Txn, id string) (rec, main *store.Record, err error) {
		if rec, err = getRecord(t, id); err != nil {
			if errors.Is(err, ErrNotFound) {
				return nil, nil, nil
			}
			return nil, nil, err
		}
		if rec.Related && rec.Scope != "" {
			if main, err = getRecord(t, rec.Scope); errors.Is(err, ErrNotFound) {
				main, err = nil, nil
			}
		}
		return rec, main, err
	}
	// Release the affected CIs' old keys, then hand out the new ones.
	b := newBatch(st)
	if !fresh {
		for _, p := range todo {
			if err := b.op(func(t store.Txn) error {
				rec, _, err := read(t, p.sysID)
				if err != nil || rec == nil {
					return err
				}
				return store.ChangeIdentities(t, rec.SysID, rec.IdentityKeys, nil)
			}); err != nil {
				return nil, err
			}
		}
	}
	var notices []string
	for _, p := range todo {
		var rec, main *store.Record
		if err := b.op(func(t store.Txn) (err error) { rec, main, err = read(t, p.sysID); return err }); err != nil {
			return nil, err
		}
		if rec == nil {
			continue
		}
		var keys [][]byte
		for _, k := range identify.KeysFor(rs, rec, main) {
			if identify.UniqueIdentity(rs, k) {
				var holders []string
				if err := b.op(func(t store.Txn) (err error) { holders, err = store.IdentityHolders(t, k); return err }); err != nil {
					return nil, err
				}
				// A reindex cut short (its process killed) may have left
				// this CI holding the key already: that is not another CI.
				mine := slices.Contains(holders, rec.SysID)
				if others := slices.DeleteFunc(holders, func(id string) bool { return id == rec.SysID }); len(others) > 0 {
					notices = append(notices, fmt.Sprintf("CI %s shares the values of a unique identifier entry with the older CI %s under the new rules; it keeps its other identities (irego duplicates scan lists such groups)", rec.SysID, others[0]))
					if mine {
						if err := b.op(func(t store.Txn) error { return store.ReleaseIdentity(t, k, rec.SysID) }); err != nil {
							return nil, err
						}
					}
					continue
				}
			}
			keys = append(keys, k)
			if err := b.op(func(t store.Txn) error { return store.HoldIdentity(t, k, rec.SysID) }); err != nil {
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

// scanForReindex reads the store for a reindex. On a shared store it reads
// in a serializable transaction that commits without writing, rather than
// in a snapshot: a write of another process that read the old rules
// (checkRules) and writes what this scan did not see then fails to commit,
// and runs again under the new rules.
func scanForReindex(st store.Store, fn func(store.Reader) error) error {
	if !store.IsShared(st) {
		return st.View(fn)
	}
	txn := st.NewTxn()
	defer txn.Discard()
	if err := fn(txn); err != nil {
		return err
	}
	// A transaction that writes nothing ends without a commit, and its
	// reads are forgotten: write the rule set record back unchanged.
	b, err := txn.Get(store.RuleSetKey())
	if err == nil {
		err = txn.Set(store.RuleSetKey(), b)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	return txn.Commit()
}

func setKey(st store.Store, k, v []byte) error {
	t := st.NewTxn()
	defer t.Discard()
	if err := t.Set(k, v); err != nil {
		return err
	}
	return t.Commit()
}

// deletePrefix deletes every key with prefix, reading them a batch at a
// time so memory stays flat however many there are (a secondary index of
// a million records).
func deletePrefix(st store.Store, prefix []byte) error {
	from := prefix
	for {
		var keys [][]byte
		if err := st.View(func(r store.Reader) error {
			return r.IterateFrom(prefix, from, func(k, _ []byte) error {
				keys = append(keys, bytes.Clone(k))
				if len(keys) == deleteBatch {
					return store.ErrStop
				}
				return nil
			})
		}); err != nil {
			return err
		}
		if len(keys) == 0 {
			return nil
		}
		if err := deleteKeys(st, keys); err != nil {
			return err
		}
		from = append(keys[len(keys)-1], 0) // the next key after the last deleted
	}
}

// deleteKeys deletes keys, in as many transactions as they need.
func deleteKeys(st store.Store, keys [][]byte) error {
	b := newBatch(st)
	for _, k := range keys {
		if err := b.del(k); err != nil {
			return err
		}
	}
	return b.flush()
}

// deleteBatch is how many keys deletePrefix reads at a time.
const deleteBatch = 10000

// batch writes many keys outside any payload, committing every batchOps
// operations so no transaction grows too big. Used only while no payload
// is being applied.
type batch struct {
	st  store.Store
	txn store.Txn
	ops int
}

// batchOps operations (each a few keys) fit one transaction of any backend.
const batchOps = 500

func newBatch(st store.Store) *batch { return &batch{st: st, txn: st.NewTxn()} }

func (b *batch) set(k, v []byte) error {
	return b.single(func(t store.Txn) error { return t.Set(k, v) })
}

func (b *batch) del(k []byte) error {
	return b.single(func(t store.Txn) error { return t.Delete(k) })
}

// single runs a one-write operation, or one that writes the same keys
// and values when it runs again; when the transaction is full it commits
// and runs the operation again in a new one (a single write cannot be half
// done, and a repeated one finishes what it began).
func (b *batch) single(op func(store.Txn) error) error {
	err := b.op(op)
	if errors.Is(err, store.ErrTxnTooBig) {
		b.ops = batchOps
		err = b.op(op)
	}
	return err
}

// op runs one operation whole in the current transaction, which sees the
// batch's earlier writes.
func (b *batch) op(op func(store.Txn) error) error {
	if b.ops >= batchOps {
		if err := b.txn.Commit(); err != nil {
			return err
		}
		b.txn.Discard()
		b.txn, b.ops = b.st.NewTxn(), 0
	}
	b.ops++
	return op(b.txn)
}

func (b *batch) flush() error {
	defer b.txn.Discard()
	return b.txn.Commit()
}

// affectedBy says whether a change of the rules of the classes in changed
// touches rec: its own class's, or for a related record its main CI's
// (main, nil when that CI is gone).
func affectedBy(r store.Reader, rec *store.Record, changed map[string]bool) (main *store.Record, affected bool, err error) {
	affected = changed[rec.Class]
	if rec.Related && rec.Scope != "" {
		if main, err = getRecord(r, rec.Scope); err != nil {
			if !errors.Is(err, ErrNotFound) {
				return nil, false, err
			}
			main = nil
		}
		affected = affected || (main != nil && changed[main.Class])
	}
	return main, affected, nil
}
