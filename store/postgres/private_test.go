package postgres_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/irego/irego/store"
	"github.com/irego/irego/store/storetest"
)

// Private writes go to the server while the transaction goes on, a few
// hundred at a time, yet read and commit like any other write: the
// transaction sees them (the last value of a key written again, none of a
// key deleted), others see nothing until the commit, and a discarded
// transaction leaves nothing.
func TestPrivateWritesSentEarly(t *testing.T) {
	st, rt := counted(t)
	defer st.Close()
	const n = 1000
	key := func(i int) []byte { return fmt.Appendf(nil, "p/%04d", i) }
	write := func(tx store.Txn) {
		t.Helper()
		pw := tx.(store.PrivateWriter)
		for i := range n {
			if err := pw.SetPrivate(key(i), []byte("first")); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < n; i += 10 { // written again: the last value counts
			if err := pw.SetPrivate(key(i), []byte("again")); err != nil {
				t.Fatal(err)
			}
		}
		for i := 1; i < n; i += 10 { // written again as an ordinary write
			if err := tx.Set(key(i), []byte("plain")); err != nil {
				t.Fatal(err)
			}
		}
		for i := 2; i < n; i += 10 {
			if err := tx.Delete(key(i)); err != nil {
				t.Fatal(err)
			}
		}
	}
	want := map[string]string{}
	for i := range n {
		want[string(key(i))] = map[int]string{0: "again", 1: "plain", 2: ""}[i%10]
		if i%10 > 2 {
			want[string(key(i))] = "first"
		}
	}
	count := func(r store.Reader) int {
		t.Helper()
		got := 0
		if err := r.Iterate([]byte("p/"), func(k, v []byte) error { got++; return nil }); err != nil {
			t.Fatal(err)
		}
		return got
	}

	// Discarded: nothing stays.
	tx := st.NewTxn()
	before := rt.inserts.Load()
	write(tx)
	storetest.ExpectReads(t, tx, want)
	if got := count(tx); got != n-n/10 { // a walk reads the server: it waits for the send in flight
		t.Errorf("the writing transaction walks %d keys, want %d", got, n-n/10)
	}
	if sends := rt.inserts.Load() - before; sends < 1 {
		t.Errorf("%d private writes: no send before the commit", n)
	}
	other := st.NewTxn()
	if got := count(other); got != 0 {
		t.Errorf("another transaction sees %d uncommitted keys", got)
	}
	other.Discard()
	tx.Discard()
	if err := st.View(func(r store.Reader) error {
		if got := count(r); got != 0 {
			t.Errorf("after Discard: %d keys", got)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Committed: the last write of every key.
	tx = st.NewTxn()
	write(tx)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := st.View(func(r store.Reader) error {
		storetest.ExpectReads(t, r, want)
		if got := count(r); got != n-n/10 {
			t.Errorf("after Commit: %d keys, want %d", got, n-n/10)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// A key written as new (store.NewWriter) is inserted by the commit; when
// another transaction made it meanwhile, or it existed already, the
// commit is a conflict and writes nothing, and the key keeps the other's
// value.
func TestNewKeysConflict(t *testing.T) {
	st, _ := counted(t)
	defer st.Close()
	begin := func() store.Txn {
		t.Helper()
		tx := st.NewTxn()
		if _, err := tx.Get([]byte("n/begin")); !errors.Is(err, store.ErrNotFound) { // takes its snapshot
			t.Fatal(err)
		}
		return tx
	}
	setNew := func(tx store.Txn, k, v string) {
		t.Helper()
		if err := tx.(store.NewWriter).SetNew([]byte(k), []byte(v)); err != nil {
			t.Fatal(err)
		}
	}
	a, b := begin(), begin()
	setNew(a, "n/1", "a")
	setNew(b, "n/1", "b")
	b.Set([]byte("n/2"), []byte("b"))
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the second commit of a new key: %v, want store.ErrConflict", err)
	}
	c := begin()
	setNew(c, "n/1", "c")
	if err := c.Commit(); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("a new key that exists: %v, want store.ErrConflict", err)
	}
	if err := st.View(func(r store.Reader) error {
		storetest.ExpectReads(t, r, map[string]string{"n/1": "a", "n/2": ""})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}
