package engine_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
	"pgregory.net/rapid"
)

// keysUnder counts the keys under prefix.
func keysUnder(t testing.TB, st store.Store, prefix []byte) int {
	n := 0
	err := st.View(func(r store.Reader) error {
		return r.Iterate(prefix, func(_, _ []byte) error { n++; return nil })
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A write leaves its index count changes as a delta; reads count it
// before it is folded, and closing the engine folds it.
func TestIndexCountDeltasCountBeforeTheyAreFolded(t *testing.T) {
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.OpenStore(unclosed{db}, engine.Options{IndexCountFold: -1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		apply(t, e, mustDecode(t, fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S%d","name":"same"}}]}`, i)))
	}
	if n := keysUnder(t, db, store.IndexDeltasPrefix()); n != 3 {
		t.Fatalf("%d delta keys before folding, want one per commit: 3", n)
	}
	if n := keysUnder(t, db, store.IndexCountsPrefix()); n != 0 {
		t.Fatalf("%d counts written before folding", n)
	}
	page, err := e.Find(context.Background(), engine.Query{Class: "cmdb_ci", Where: []engine.Condition{{Attribute: "name", Values: []string{"same"}}}, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if page.Total != 3 || len(page.Records) != 3 {
		t.Fatalf("name=same before folding: total %d, %d records; want 3", page.Total, len(page.Records))
	}
	checkIndex(t, e)
	checkClean(t, e)
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if n := keysUnder(t, db, store.IndexDeltasPrefix()); n != 0 {
		t.Fatalf("%d delta keys after close", n)
	}
	if n := keysUnder(t, db, store.IndexCountsPrefix()); n == 0 {
		t.Fatal("no counts after close")
	}
	// The fold mark is past the last commit's delta: readers walk none of
	// the folded ones.
	err = db.View(func(r store.Reader) error {
		mark, err := r.Get(store.IndexDeltaMarkKey())
		if err != nil {
			return err
		}
		last, err := r.Get(store.EventSeqKey())
		if err != nil {
			return err
		}
		if !bytes.Equal(mark, binary.BigEndian.AppendUint64(nil, binary.BigEndian.Uint64(last)+1)) {
			t.Errorf("fold mark %x after the last event %x", mark, last)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	e, err = engine.OpenStore(db, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	checkIndex(t, e)
	checkClean(t, e)
}

// unclosed is a store whose Close leaves it open, to open another engine
// on it.
type unclosed struct{ store.Store }

func (unclosed) Close() error { return nil }

// Deltas that a process left unfolded (it stopped before folding) are
// folded when an engine next opens the store.
func TestOpenFoldsIndexCountDeltasLeftBehind(t *testing.T) {
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.OpenStore(unfoldable{db}, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	apply(t, e, mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S1","name":"a"}}]}`))
	e.Close() // its folds fail: the deltas stay
	if n := keysUnder(t, db, store.IndexDeltasPrefix()); n != 1 {
		t.Fatalf("%d delta keys left, want 1", n)
	}
	e, err = engine.OpenStore(db, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if n := keysUnder(t, db, store.IndexDeltasPrefix()); n != 0 {
		t.Fatalf("%d delta keys after open", n)
	}
	checkIndex(t, e)
	checkClean(t, e)
}

// unfoldable is a store that fails every commit that deletes a delta key
// (a fold), and whose Close leaves it open.
type unfoldable struct{ store.Store }

func (u unfoldable) NewTxn() store.Txn { return &unfoldableTxn{Txn: u.Store.NewTxn()} }
func (unfoldable) Close() error        { return nil }

type unfoldableTxn struct {
	store.Txn
	folds bool
}

func (t *unfoldableTxn) Delete(k []byte) error {
	t.folds = t.folds || bytes.HasPrefix(k, store.IndexDeltasPrefix())
	return t.Txn.Delete(k)
}

func (t *unfoldableTxn) Commit() error {
	if t.folds {
		return errors.New("the process stopped")
	}
	return t.Txn.Commit()
}

// By default the engine folds deltas in the background soon after the
// commits that wrote them.
func TestIndexCountDeltasAreFoldedInTheBackground(t *testing.T) {
	e := openDisk(t)
	apply(t, e, mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S1","name":"a"}}]}`))
	for deadline := time.Now().Add(20 * time.Second); keysUnder(t, e.Store(), store.IndexDeltasPrefix()) > 0; {
		if time.Now().After(deadline) {
			t.Fatal("the deltas were not folded in 20 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	checkIndex(t, e)
}

// Whenever folds happen, between inserts, renames and deletions, the
// counts readers see equal the index entries.
func TestPropIndexCountsExactWhateverTheFolds(t *testing.T) {
	e, err := engine.Open("", engine.Options{InMemory: true, IndexCountFold: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	ids := map[int]string{} // serial → sys_id of the CIs alive
	rapid.Check(t, func(rt *rapid.T) {
		for range rapid.IntRange(1, 12).Draw(rt, "steps") {
			serial := rapid.IntRange(0, 5).Draw(rt, "serial")
			switch rapid.IntRange(0, 2).Draw(rt, "op") {
			case 0: // insert or rename
				name := rapid.SampledFrom([]string{"a", "b", "c"}).Draw(rt, "name")
				p := mustDecode(t, fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S%d","name":%q}}]}`, serial, name))
				res, err := e.Apply(ctx, "ServiceNow", p, engine.DefaultApplyOptions())
				if err != nil || res.HasError {
					rt.Fatalf("apply: %v %+v", err, res)
				}
				ids[serial] = res.Items[0].SysID
			case 1: // delete
				if id, ok := ids[serial]; ok {
					if _, err := e.Delete(ctx, id, engine.DeleteOptions{}); err != nil {
						rt.Fatal(err)
					}
					delete(ids, serial)
				}
			case 2:
				if err := engine.FoldCounts(e); err != nil {
					rt.Fatal(err)
				}
			}
			checkIndex(t, e)
		}
	})
}
