package engine_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// Check names every kind of damage to the identity index: a record's key
// not indexed to it, a guard naming a CI that does not hold it, a member
// beside a single holder, a member under no guard, a member no record
// lists, and two CIs sharing a unique identity.
func TestCheckNamesDamageToTheIdentityIndex(t *testing.T) {
	ctx := context.Background()
	e, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	p, err := payload.DecodeBytes([]byte(`{"items":[
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER-A","name":"a"}},
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER-B","name":"b"}},
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER-C","name":"c"}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(ctx, "SCCM", p, engine.DefaultApplyOptions())
	if err != nil || res.HasError {
		t.Fatalf("apply: %v %+v", err, res)
	}
	if problems, err := e.Check(ctx); err != nil || len(problems) != 0 {
		t.Fatalf("check of an undamaged store: %q %v", problems, err)
	}
	a, b, c := res.Items[0].SysID, res.Items[1].SysID, res.Items[2].SysID
	keys := map[string][]byte{} // the first identity key of each CI
	st := e.Store()
	if err := st.View(func(r store.Reader) error {
		for _, id := range []string{a, b, c} {
			v, err := r.Get(store.CIKey(id))
			if err != nil {
				return err
			}
			rec, err := store.DecodeRecord(v)
			if err != nil {
				return err
			}
			if len(rec.IdentityKeys) == 0 {
				t.Fatalf("CI %s holds no identity key", id)
			}
			keys[id] = rec.IdentityKeys[0]
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	stray := strings.Repeat("f", 32)
	noGuard := append(append([]byte(nil), keys[c]...), "-gone"...)
	txn := st.NewTxn()
	defer txn.Discard()
	damageAndCheck(t, e, txn, []func() error{
		func() error { return store.ReleaseIdentity(txn, keys[a], a) },                // a's key not indexed to it,
		func() error { return store.HoldIdentity(txn, keys[a], stray) },               // but to a CI that does not exist
		func() error { return txn.Set(store.IdentityMemberKey(keys[b], stray), nil) }, // a member beside a single holder
		func() error { return txn.Set(store.IdentityMemberKey(noGuard, c), nil) },     // a member with no guard
		func() error { return store.HoldIdentity(txn, keys[c], b) },                   // b shares c's identity
	}, []string{
		"CI " + a + ": identity key " + quote(keys[a]) + " is not indexed to it",
		"identity key " + quote(keys[a]) + " names " + stray + " as its holder, which does not hold it",
		"identity key " + quote(keys[b]) + " names " + b + " as its single holder, but lists " + stray,
		"identity key " + quote(noGuard) + " has holders listed but no guard",
		"identity key " + quote(noGuard) + " lists " + c + " as a holder, which does not hold it",
		"identity key " + quote(keys[c]) + " lists " + b + " as a holder, which does not hold it",
		"share the values of a unique identifier entry (identity key " + quote(keys[c]) + ")",
		"the identity guards count ",
	})
}

// damageAndCheck runs the damaging writes in txn, commits them, and
// requires Check to say each of wants.
func damageAndCheck(t *testing.T, e *engine.Engine, txn store.Txn, damage []func() error, wants []string) {
	t.Helper()
	for _, op := range damage {
		if err := op(); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	problems, err := e.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(problems, "\n")
	for _, want := range wants {
		if !strings.Contains(got, want) {
			t.Errorf("check does not say %q; it says:\n%s", want, got)
		}
	}
}

func quote(k []byte) string { return fmt.Sprintf("%q", k) }

// Check names every kind of damage to the secondary indexes (Select counts
// classes from their chunk counts): a missing entry, a stray entry, a
// count that is off, a count of a chunk with no entries.
func TestCheckNamesDamageToTheSecondaryIndexes(t *testing.T) {
	e := openDisk(t)
	res := apply(t, e, mustDecode(t, `{"items":[
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER-A","name":"a"}},
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER-B","name":"b"}}]}`))
	checkClean(t, e)
	if err := engine.FoldCounts(e); err != nil { // the damage below is to stored counts alone
		t.Fatal(err)
	}
	a, b := res.Items[0].SysID, res.Items[1].SysID
	stray := strings.Repeat("f", 32)
	nameA := store.IndexKey("cmdb_ci", "name", "a", a, "cmdb_ci_computer")
	classB := store.IndexKey("cmdb_ci", "sys_class_name", "cmdb_ci_computer", b, "cmdb_ci_computer")
	// Counts are per chunk of sys_ids: when a and b fall in one chunk, it stores both.
	entriesInBsChunk := 1
	if classA := store.IndexKey("cmdb_ci", "sys_class_name", "cmdb_ci_computer", a, "cmdb_ci_computer"); string(store.IndexCountKeyOf(classA, a)) == string(store.IndexCountKeyOf(classB, b)) {
		entriesInBsChunk = 2
	}
	txn := e.Store().NewTxn()
	defer txn.Discard()
	damageAndCheck(t, e, txn, []func() error{
		func() error { return txn.Delete(nameA) }, // a's name entry gone (its count stays)
		func() error { return txn.Set(store.IndexKey("cmdb_ci", "name", "z", stray, "cmdb_ci_computer"), nil) }, // an entry no record lists, uncounted
		func() error { return txn.Set(store.IndexCountKeyOf(classB, b), []byte{0, 0, 0, 0, 0, 0, 0, 7}) },       // b's class chunk counts 7
		func() error {
			return txn.Set(store.IndexCountKeyOf(store.IndexKey("cmdb_ci", "name", "q", stray, "cmdb_ci_computer"), stray), []byte{0, 0, 0, 0, 0, 0, 0, 1})
		}, // counts an empty chunk
	}, []string{
		"CI " + a + ": secondary index entry " + quote(nameA) + " is missing",
		"index count " + quote(store.IndexCountKeyOf(store.IndexKey("cmdb_ci", "name", "z", stray, "cmdb_ci_computer"), stray)) + " is 0 where 1 entries are stored",
		"index count " + quote(store.IndexCountKeyOf(classB, b)) + " is 7 where " + fmt.Sprint(entriesInBsChunk) + " entries are stored",
		"the secondary indexes hold 4 entries where the records list 3",
		"chunk counts where their entries fill",
	})
}

// A store written before its rules declared secondary indexes holds none
// until a read-write open builds them; a read-only check of it meanwhile
// finds nothing wrong, and after that open the indexes are whole.
func TestCheckOfAStoreWithoutSecondaryIndexesYet(t *testing.T) {
	dir := t.TempDir()
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	apply(t, e, mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"SER-A","name":"a"}}]}`))
	// What an older release left: no index entries, counts or fingerprint,
	// and records that list no entries.
	txn := e.Store().NewTxn()
	var keys [][]byte
	for _, p := range [][]byte{store.IndexPrefix(), store.IndexCountsPrefix()} {
		if err := txn.Iterate(p, func(k, _ []byte) error { keys = append(keys, bytes.Clone(k)); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range append(keys, store.IndexesHashKey()) {
		if err := txn.Delete(k); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Iterate(store.CIPrefix(), func(k, v []byte) error {
		rec, err := store.DecodeRecord(v)
		if err != nil {
			return err
		}
		rec.IndexKeys = nil
		b, err := store.EncodeRecord(rec)
		if err != nil {
			return err
		}
		return txn.Set(bytes.Clone(k), b)
	}); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	e.Close()
	ro, err := engine.Open(dir, engine.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	problems, err := ro.Check(context.Background())
	ro.Close()
	if err != nil || len(problems) > 0 {
		t.Fatalf("read-only check before the indexes are built: %v %q", err, problems)
	}
	e, err = engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	checkClean(t, e)
	pg, err := e.Select(context.Background(), engine.Selection{Class: "cmdb_ci", Limit: 10})
	if err != nil || pg.Total != 1 {
		t.Fatalf("select after the indexes were built: %v, total %d", err, pg.Total)
	}
}
