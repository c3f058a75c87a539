package relations_test

import (
	"fmt"
	"testing"

	"github.com/irego/irego/relations"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
)

func id(n int) string { return fmt.Sprintf("%032x", n) }

// ring stores a cycle 1 → 2 → … → n → 1 and returns the store.
func ring(t *testing.T, n int) store.Store {
	t.Helper()
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	txn := db.NewTxn()
	defer txn.Discard()
	for i := 1; i <= n; i++ {
		e := &store.Edge{SysID: id(1000 + i), Type: "Depends on::Used by", Parent: id(i), Child: id(i%n + 1)}
		if err := relations.Put(txn, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	return db
}

func TestEdgesReadBothWays(t *testing.T) {
	db := ring(t, 3)
	db.View(func(r store.Reader) error {
		out, err := relations.Outbound(r, id(1))
		if err != nil || len(out) != 1 || out[0].Child != id(2) {
			t.Fatalf("outbound of 1: %+v %v", out, err)
		}
		in, err := relations.Inbound(r, id(1))
		if err != nil || len(in) != 1 || in[0].Parent != id(3) {
			t.Fatalf("inbound of 1: %+v %v", in, err)
		}
		if _, err := relations.Find(r, id(1), "Depends on::Used by", id(2)); err != nil {
			t.Fatalf("find 1 → 2: %v", err)
		}
		if _, err := relations.Find(r, id(2), "Depends on::Used by", id(1)); err != store.ErrNotFound {
			t.Fatalf("2 → 1 does not exist: %v", err)
		}
		return nil
	})
}

func TestWalkIsDepthLimitedAndCycleSafe(t *testing.T) {
	db := ring(t, 5)
	db.View(func(r store.Reader) error {
		for _, c := range []struct {
			dir         relations.Direction
			depth, want int
		}{{relations.Out, 2, 2}, {relations.Out, 0, 5}, {relations.In, 3, 3}, {relations.Both, 1, 2}, {relations.Both, 0, 5}} {
			steps, err := relations.Walk(r, id(1), c.dir, c.depth)
			if err != nil || len(steps) != c.want {
				t.Errorf("walk dir %d depth %d: %d steps (%v), want %d", c.dir, c.depth, len(steps), err, c.want)
			}
			for _, s := range steps {
				if c.depth > 0 && s.Depth > c.depth {
					t.Errorf("step beyond the depth limit: %+v", s)
				}
			}
		}
		return nil
	})
	txn := db.NewTxn()
	defer txn.Discard()
	e, _ := relations.Find(txn, id(1), "Depends on::Used by", id(2))
	if err := relations.Delete(txn, e); err != nil {
		t.Fatal(err)
	}
	if in, _ := relations.Inbound(txn, id(2)); len(in) != 0 {
		t.Fatalf("delete removes both ends: %+v", in)
	}
}
