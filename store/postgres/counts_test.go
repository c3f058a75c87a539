package postgres_test

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"pgregory.net/rapid"

	"github.com/irego/irego/store"
)

// Counts added without reading them (store.CountAdder) read, walk and
// commit as if every addition had been read and rewritten: the stored
// count, or the one written last in the transaction, plus the deltas since;
// zero or below reads as absent and is deleted at the commit. A discarded
// transaction leaves the stored counts as they were.
func TestAddCountsReadAndCommitAsRewrites(t *testing.T) {
	st, _ := counted(t)
	defer st.Close()
	run := 0
	rapid.Check(t, func(rt *rapid.T) {
		run++
		keys := make([][]byte, 4)
		for i := range keys {
			keys[i] = fmt.Appendf(nil, "c/%04d/%d", run, i)
		}
		prefix := fmt.Appendf(nil, "c/%04d/", run)
		stored := map[string]int64{}
		setup := st.NewTxn()
		for _, k := range keys {
			if n := rapid.Int64Range(0, 3).Draw(rt, "stored"); n > 0 {
				stored[string(k)] = n
				if err := setup.Set(k, count(n)); err != nil {
					rt.Fatal(err)
				}
			}
		}
		if err := setup.Commit(); err != nil {
			rt.Fatal(err)
		}
		model := map[string]int64{}
		for k, n := range stored {
			model[k] = n
		}
		tx := st.NewTxn()
		defer tx.Discard()
		for range rapid.IntRange(1, 20).Draw(rt, "ops") {
			k := keys[rapid.IntRange(0, len(keys)-1).Draw(rt, "key")]
			switch rapid.IntRange(0, 4).Draw(rt, "op") {
			case 0:
				d := rapid.Int64Range(-3, 3).Draw(rt, "delta")
				if err := tx.(store.CountAdder).AddCounts([][]byte{k}, []int64{d}); err != nil {
					rt.Fatal(err)
				}
				model[string(k)] += d
			case 1:
				n := rapid.Int64Range(1, 5).Draw(rt, "set")
				if err := tx.Set(k, count(n)); err != nil {
					rt.Fatal(err)
				}
				model[string(k)] = n
			case 2:
				if err := tx.Delete(k); err != nil {
					rt.Fatal(err)
				}
				model[string(k)] = 0
			case 3:
				v, err := tx.Get(k)
				if errors.Is(err, store.ErrNotFound) {
					v, err = nil, nil
				}
				if err != nil {
					rt.Fatal(err)
				}
				if got, want := countOf(rt, v), max(model[string(k)], 0); got != want {
					rt.Fatalf("Get %s = %d, want %d", k, got, want)
				}
			case 4:
				expectCounts(rt, "the transaction's walk", tx, prefix, model)
			}
		}
		want := stored
		if rapid.Bool().Draw(rt, "commit") {
			if err := tx.Commit(); err != nil {
				rt.Fatal(err)
			}
			want = model
		}
		if err := st.View(func(r store.Reader) error {
			expectCounts(rt, "after the transaction", r, prefix, want)
			return nil
		}); err != nil {
			rt.Fatal(err)
		}
	})
}

// Adding counts takes no round trip; the commit sends them with the
// writes and the COMMIT, in one.
func TestAddCountsTakeNoRoundTrip(t *testing.T) {
	st, rt := counted(t)
	defer st.Close()
	w := st.NewTxn()
	w.Set([]byte("n/a"), count(5))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	tx := st.NewTxn()
	before := rt.n.Load()
	tx.Set([]byte("x"), []byte("1"))
	var keys [][]byte
	var deltas []int64
	for i := range 100 {
		keys, deltas = append(keys, fmt.Appendf(nil, "n/%03d", i)), append(deltas, 2)
	}
	keys, deltas = append(keys, []byte("n/a")), append(deltas, -2)
	if err := tx.(store.CountAdder).AddCounts(keys, deltas); err != nil {
		t.Fatal(err)
	}
	if got := rt.n.Load() - before; got != 0 {
		t.Errorf("adding counts took %d round trips, want 0", got)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := rt.n.Load() - before; got != 1 {
		t.Errorf("the commit took %d round trips, want 1", got)
	}
	if err := st.View(func(r store.Reader) error {
		expectCounts(t, "after the commit", r, []byte("n/a"), map[string]int64{"n/a": 3})
		expectCounts(t, "after the commit", r, []byte("n/07"), map[string]int64{
			"n/070": 2, "n/071": 2, "n/072": 2, "n/073": 2, "n/074": 2, "n/075": 2, "n/076": 2, "n/077": 2, "n/078": 2, "n/079": 2})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// Two transactions that add to one count conflict, as when each read and
// rewrote it: the later commit fails and its addition is not lost
// silently, and done again it counts.
func TestAddCountsConflict(t *testing.T) {
	st, _ := counted(t)
	defer st.Close()
	k := []byte("n/shared")
	w := st.NewTxn()
	w.Set(k, count(1))
	if err := w.Commit(); err != nil {
		t.Fatal(err)
	}
	add := func(tx store.Txn) {
		t.Helper()
		if _, err := tx.Get([]byte("n/other")); !errors.Is(err, store.ErrNotFound) { // begins its snapshot
			t.Fatal(err)
		}
		if err := tx.(store.CountAdder).AddCounts([][]byte{k}, []int64{1}); err != nil {
			t.Fatal(err)
		}
	}
	a, b := st.NewTxn(), st.NewTxn()
	add(a)
	add(b)
	if err := a.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("the second commit: %v, want store.ErrConflict", err)
	}
	again := st.NewTxn()
	add(again)
	if err := again.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := st.View(func(r store.Reader) error {
		expectCounts(t, "after both", r, k, map[string]int64{string(k): 3})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// fataler is what the checks need of a *testing.T or a *rapid.T.
type fataler interface {
	Helper()
	Fatal(args ...any)
	Fatalf(format string, args ...any)
}

func count(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

func countOf(t fataler, v []byte) int64 {
	t.Helper()
	if v == nil {
		return 0
	}
	if len(v) != 8 {
		t.Fatalf("a count of %d bytes", len(v))
	}
	return int64(binary.BigEndian.Uint64(v))
}

// expectCounts checks the counts under prefix against want (absent, zero
// and below: no key).
func expectCounts(t fataler, what string, r store.Reader, prefix []byte, want map[string]int64) {
	t.Helper()
	got := map[string]int64{}
	if err := r.Iterate(prefix, func(k, v []byte) error {
		got[string(k)] = countOf(t, v)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for k, n := range want {
		if n > 0 && got[k] != n {
			t.Fatalf("%s: %s = %d, want %d", what, k, got[k], n)
		}
	}
	for k, n := range got {
		if want[k] <= 0 {
			t.Fatalf("%s: %s = %d, want none", what, k, n)
		}
	}
}
