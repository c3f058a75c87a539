package badger_test

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
)

// numbered commits txn with n numbers, writing each as an event key, and
// returns the first.
func numbered(t *testing.T, txn store.Txn, n uint64) (uint64, error) {
	t.Helper()
	var first uint64
	err := txn.(store.NumberedTxn).CommitNumbered(n, func(f uint64) error {
		first = f
		for i := range n {
			if err := txn.Set(store.EventKey(f+i), []byte("e")); err != nil {
				return err
			}
		}
		return nil
	})
	return first, err
}

func counter(t *testing.T, db store.Store) uint64 {
	t.Helper()
	var last uint64
	if err := db.View(func(r store.Reader) error {
		b, err := r.Get(store.EventSeqKey())
		if err == nil {
			last = binary.BigEndian.Uint64(b)
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return last
}

// Two open writers both number their commits without conflicting, in the
// order they commit; a commit that fails skips its numbers; a reopened
// store goes on from its counter, and so does one whose counter a
// transaction changed.
func TestCommitNumberedFollowsCommitOrder(t *testing.T) {
	dir := t.TempDir()
	db, err := badger.Open(badger.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	a, b := db.NewTxn(), db.NewTxn()
	defer a.Discard()
	defer b.Discard()
	for i, txn := range []store.Txn{a, b} {
		key := []byte{'r', byte(i)}
		if _, err := txn.Get(key); !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
		txn.Set(key, []byte("v"))
	}
	if first, err := numbered(t, b, 2); err != nil || first != 1 {
		t.Fatalf("first commit: numbers from %d, %v; want 1", first, err)
	}
	if first, err := numbered(t, a, 1); err != nil || first != 3 {
		t.Fatalf("second commit: numbers from %d, %v; want 3", first, err)
	}

	// c read a key d then changes: c fails, and its number is not reused.
	c, d := db.NewTxn(), db.NewTxn()
	defer c.Discard()
	defer d.Discard()
	if _, err := c.Get([]byte("k")); !errors.Is(err, store.ErrNotFound) {
		t.Fatal(err)
	}
	c.Set([]byte("k"), []byte("c"))
	d.Set([]byte("k"), []byte("d"))
	if first, err := numbered(t, d, 1); err != nil || first != 4 {
		t.Fatalf("numbers from %d, %v; want 4", first, err)
	}
	if _, err := numbered(t, c, 1); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("conflicting commit: %v, want ErrConflict", err)
	}
	if got := counter(t, db); got != 4 {
		t.Fatalf("counter %d after the failed commit, want 4", got)
	}
	if first, err := numbered(t, db.NewTxn(), 1); err != nil || first != 6 {
		t.Fatalf("after the failed commit, numbers from %d, %v; want 6", first, err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db, err = badger.Open(badger.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if first, err := numbered(t, db.NewTxn(), 1); err != nil || first != 7 {
		t.Fatalf("after reopening, numbers from %d, %v; want 7", first, err)
	}

	// A transaction of its own that deletes the counter (emptying the
	// store) starts the numbers again.
	txn := db.NewTxn()
	if err := txn.Delete(store.EventSeqKey()); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	if first, err := numbered(t, db.NewTxn(), 1); err != nil || first != 1 {
		t.Fatalf("after deleting the counter, numbers from %d, %v; want 1", first, err)
	}
}
