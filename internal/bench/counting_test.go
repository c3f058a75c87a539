package bench

import (
	"fmt"
	"testing"

	"github.com/irego/irego/store/badger"
)

// newCounting counts the writes of a new store in memory.
func newCounting(t *testing.T) *Counting {
	t.Helper()
	db, err := badger.Open(badger.Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	c := NewCounting(db)
	t.Cleanup(func() { c.Close() })
	return c
}

// A committed transaction counts each key it wrote once, with the bytes of
// its last write; a discarded one counts nothing; no shape is sampled
// unless asked.
func TestCountingCountsEachKeyOnce(t *testing.T) {
	c := newCounting(t)

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
	if n := len(c.Shapes()); n != 0 {
		t.Fatalf("%d shapes sampled without SampleShapes; want none", n)
	}
}

// With SampleShapes, Shapes samples the committed writes, not the
// discarded ones, and keeps at most shapeSamples of them.
func TestCountingSamplesCommittedShapes(t *testing.T) {
	c := newCounting(t)
	c.SampleShapes = true

	txn := c.NewTxn()
	txn.Set([]byte("v1/ci/0123456789"), make([]byte, 300))
	txn.Delete([]byte("v1/id/x"))
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	txn = c.NewTxn()
	txn.Set([]byte("discarded"), []byte("1"))
	txn.Discard()
	got := map[Write]int{}
	for _, w := range c.Shapes() {
		got[w]++
	}
	want := map[Write]int{{Prefix: "v1/ci/", Key: 16, Value: 300}: 1, {Prefix: "v1/id/", Key: 7, Value: 0}: 1}
	if len(got) != len(want) || got[Write{Prefix: "v1/ci/", Key: 16, Value: 300}] != 1 || got[Write{Prefix: "v1/id/", Key: 7, Value: 0}] != 1 {
		t.Fatalf("Shapes %v; want %v", got, want)
	}

	for range 3 {
		txn := c.NewTxn()
		for i := range shapeSamples {
			txn.Set(fmt.Appendf(nil, "k%05d", i), []byte("v"))
		}
		if err := txn.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(c.Shapes()); n != shapeSamples {
		t.Fatalf("%d shapes after %d writes; want %d", n, 3*shapeSamples+2, shapeSamples)
	}
	c.ForgetShapes()
	if n := len(c.Shapes()); n != 0 {
		t.Fatalf("%d shapes after ForgetShapes; want none", n)
	}
}
