package bench

import (
	"testing"

	"github.com/irego/irego/store/badger"
)

// A committed transaction counts each key it wrote once, with the bytes of
// its last write; a discarded one counts nothing.
func TestCountingCountsEachKeyOnce(t *testing.T) {
	db, err := badger.Open(badger.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	c := NewCounting(db)
	defer c.Close()

	txn := c.NewTxn()
	for _, w := range []struct{ k, v string }{{"a", "1"}, {"b", "22"}, {"a", "333"}} {
		if err := txn.Set([]byte(w.k), []byte(w.v)); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Delete([]byte("c")); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	// a: 1+3, b: 1+2, c: 1.
	if keys, bytes := c.Written(); keys != 3 || bytes != 8 {
		t.Fatalf("written %d keys, %d bytes; want 3 and 8", keys, bytes)
	}

	txn = c.NewTxn()
	if err := txn.Set([]byte("d"), []byte("4")); err != nil {
		t.Fatal(err)
	}
	txn.Discard()
	if keys, bytes := c.Written(); keys != 3 || bytes != 8 {
		t.Fatalf("after a discarded transaction: %d keys, %d bytes; want 3 and 8", keys, bytes)
	}
}
