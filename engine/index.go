package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/irego/irego/identify"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

// Secondary indexes: for every class whose rules declare `indexed`
// attributes, each record has an index entry per indexed attribute it
// holds, plus one for its class, written in the transaction that writes the
// record (see store.IndexBucket for the layout and the chunk counts). Find
// reads them.

// indexEntries returns the index entries rec belongs in as a record of c;
// nil when c declares no index. Empty values are indexed too (they come
// first in the index's order), so a walk of an attribute's entries meets
// every record of the index.
func indexEntries(c *rules.Class, rec *store.Record) [][]byte {
	if c == nil || c.IndexClass == "" {
		return nil
	}
	keys := [][]byte{store.IndexKey(c.IndexClass, rules.IndexedClassAttribute, rec.Class, rec.SysID, rec.Class)}
	for _, a := range c.Indexed {
		keys = append(keys, store.IndexKey(c.IndexClass, a, payload.Canonical(rec.Values[a]), rec.SysID, rec.Class))
	}
	return keys
}

// writeIndex brings the index entries of a target's record up to date and
// records them in rec.IndexKeys.
func writeIndex(txn store.Txn, t *identify.Target, rec *store.Record) error {
	var old [][]byte
	if t.Existing != nil {
		old = t.Existing.IndexKeys
	}
	return reindexRecord(txn, t.Class, rec, old)
}

// reindexRecord replaces the entries old with those rec now belongs in.
func reindexRecord(txn store.Txn, c *rules.Class, rec *store.Record, old [][]byte) error {
	keys := indexEntries(c, rec)
	for _, k := range old {
		if !containsKey(keys, k) {
			if err := unindex(txn, k, rec.SysID); err != nil {
				return err
			}
		}
	}
	for _, k := range keys {
		if containsKey(old, k) {
			continue
		}
		if err := txn.Set(k, nil); err != nil {
			return err
		}
		if err := addCount(txn, store.IndexCountKeyOf(k, rec.SysID), 1); err != nil {
			return err
		}
	}
	rec.IndexKeys = keys
	return nil
}

// dropIndex removes every index entry of a record being deleted.
func dropIndex(txn store.Txn, rec *store.Record) error {
	for _, k := range rec.IndexKeys {
		if err := unindex(txn, k, rec.SysID); err != nil {
			return err
		}
	}
	return nil
}

func unindex(txn store.Txn, k []byte, sysID string) error {
	if err := txn.Delete(k); err != nil {
		return err
	}
	return addCount(txn, store.IndexCountKeyOf(k, sysID), -1)
}

// indexFingerprint identifies the indexes a rule set declares and their
// key layout, so a store written with another layout is reindexed.
func indexFingerprint(rs *rules.RuleSet) string {
	h := sha256.New()
	fmt.Fprintf(h, "layout %s\n", store.IndexLayout)
	for _, name := range rs.Classes() {
		if c, _ := rs.Class(name); c.IndexClass != "" {
			fmt.Fprintf(h, "%s in %s: %q\n", name, c.IndexClass, c.Indexed)
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

// indexIfRulesChanged rebuilds every secondary index when the rules declare
// other indexes than the store holds, e.g. on the first start with a rule
// set that adds one.
func indexIfRulesChanged(st store.Store, rs *rules.RuleSet) error {
	want := indexFingerprint(rs)
	var have []byte
	err := st.View(func(r store.Reader) (err error) {
		have, err = r.Get(store.IndexesHashKey())
		return err
	})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if string(have) == want {
		return nil
	}
	if err := rebuildIndexes(st, rs); err != nil {
		return fmt.Errorf("engine: rebuilding the secondary indexes for changed rules: %w", err)
	}
	return setKey(st, store.IndexesHashKey(), []byte(want))
}

// rebuildIndexes replaces every secondary index with those rs declares.
// Memory stays flat as the store grows: the scan keeps only the sys_ids
// of the records to rewrite, each is read again in the batch that
// rewrites it, and the chunk counts are summed from the entries, which
// the store lists in count order, once they are all written.
func rebuildIndexes(st store.Store, rs *rules.RuleSet) error {
	for _, p := range [][]byte{store.IndexPrefix(), store.IndexCountsPrefix(), store.IndexDeltasPrefix()} {
		if err := deletePrefix(st, p); err != nil {
			return err
		}
	}
	var todo []string
	err := scanForReindex(st, func(r store.Reader) error {
		return r.Iterate(store.CIPrefix(), func(_, v []byte) error {
			rec, err := store.DecodeRecord(v)
			if err != nil {
				return err
			}
			if c, _ := rs.Class(rec.Class); (c != nil && c.IndexClass != "") || len(rec.IndexKeys) > 0 {
				// A clone: the decoded record's strings share one buffer,
				// which the sys_id alone would keep (230 MB at 1M CIs).
				todo = append(todo, strings.Clone(rec.SysID))
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	b := newBatch(st)
	for _, id := range todo {
		err := b.single(func(t store.Txn) error { // sets only: it may run again whole
			rec, err := getRecord(t, id)
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			c, _ := rs.Class(rec.Class)
			rec.IndexKeys = indexEntries(c, rec)
			for _, k := range rec.IndexKeys {
				if err := t.Set(k, nil); err != nil {
					return err
				}
			}
			v, err := store.EncodeRecord(rec)
			if err != nil {
				return err
			}
			return t.Set(store.CIKey(rec.SysID), v)
		})
		if err != nil {
			return err
		}
	}
	if err := b.flush(); err != nil {
		return err
	}
	return writeIndexCounts(st)
}

// writeIndexCounts writes the chunk count of every bucket's chunk, counting
// the entries in key order, where those of one bucket and chunk are
// adjacent.
func writeIndexCounts(st store.Store) error {
	b := newBatch(st)
	var key []byte
	var n uint64
	put := func() error {
		if n == 0 {
			return nil
		}
		return b.set(key, binary.BigEndian.AppendUint64(nil, n))
	}
	err := st.View(func(r store.Reader) error {
		return r.Iterate(store.IndexPrefix(), func(k, _ []byte) error {
			ck, err := store.IndexCountKeyOfEntry(k)
			if err != nil {
				return err
			}
			if bytes.Equal(ck, key) {
				n++
				return nil
			}
			if err := put(); err != nil {
				return err
			}
			key, n = ck, 1
			return nil
		})
	})
	if err == nil {
		err = put()
	}
	if err != nil {
		return err
	}
	return b.flush()
}
