package storetest

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/irego/irego/store"
)

// keyBytes are the bytes the properties build keys from: the edges of the
// byte range and a few in between, so that prefixes meet 0x00 and 0xff.
var keyBytes = []byte{0x00, 0x01, 'a', 'b', 0xfe, 0xff}

// propPrefixOrder: after random transactions (committed or discarded), a
// prefix walk in a View, and in a Txn over its pending writes, lists
// exactly the model's keys under the prefix, in sorted order. Every run
// works under a namespace of its own in the one store.
func propPrefixOrder(t *testing.T, s store.Store) {
	runs := 0
	rapid.Check(t, func(rt *rapid.T) {
		runs++
		ns := fmt.Sprintf("run%05d/", runs)
		genKey := rapid.Custom(func(rt *rapid.T) string {
			return ns + string(rapid.SliceOfN(rapid.SampledFrom(keyBytes), 1, 3).Draw(rt, "key"))
		})
		genPrefix := rapid.Custom(func(rt *rapid.T) string {
			return ns + string(rapid.SliceOfN(rapid.SampledFrom(keyBytes), 0, 2).Draw(rt, "prefix"))
		})
		model := map[string]string{}
		for range rapid.IntRange(1, 5).Draw(rt, "txns") {
			tx := s.NewTxn()
			pending := maps.Clone(model)
			for i := range rapid.IntRange(0, 8).Draw(rt, "ops") {
				k := genKey.Draw(rt, "k")
				if rapid.Bool().Draw(rt, "delete") {
					if err := tx.Delete([]byte(k)); err != nil {
						rt.Fatal(err)
					}
					delete(pending, k)
				} else {
					v := fmt.Sprint(i)
					if err := tx.Set([]byte(k), []byte(v)); err != nil {
						rt.Fatal(err)
					}
					pending[k] = v
				}
			}
			p := genPrefix.Draw(rt, "txn prefix")
			if diff := cmp.Diff(underPrefix(pending, p), walk(rt, tx, p)); diff != "" {
				rt.Fatalf("walk of %q in a txn over its own writes (-want +got):\n%s", p, diff)
			}
			if rapid.Bool().Draw(rt, "commit") {
				if err := tx.Commit(); err != nil {
					rt.Fatal(err)
				}
				model = pending
			}
			tx.Discard()
			p = genPrefix.Draw(rt, "view prefix")
			var got []string
			if err := s.View(func(r store.Reader) error { got = walk(rt, r, p); return nil }); err != nil {
				rt.Fatal(err)
			}
			if diff := cmp.Diff(underPrefix(model, p), got); diff != "" {
				rt.Fatalf("walk of %q (-want +got):\n%s", p, diff)
			}
		}
	})
}

func underPrefix(m map[string]string, prefix string) []string {
	var out []string
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if strings.HasPrefix(k, prefix) {
			out = append(out, k+"="+m[k])
		}
	}
	return out
}

func walk(rt *rapid.T, r store.Reader, prefix string) []string {
	var out []string
	if err := r.Iterate([]byte(prefix), func(k, v []byte) error {
		out = append(out, string(k)+"="+string(v))
		return nil
	}); err != nil {
		rt.Fatal(err)
	}
	return out
}

// propOneIdentity: writers race to claim identities, each a transaction
// that reads the identity key and, when it is free, writes it together with
// a record of its own, redoing the whole transaction on ErrConflict as the
// engine does. Exactly one writer wins each identity, the identity names
// it, and only the winner's record exists.
func propOneIdentity(t *testing.T, s store.Store) {
	runs := 0
	rapid.Check(t, func(rt *rapid.T) {
		runs++
		ns := fmt.Sprintf("run%05d/", runs)
		writers := rapid.IntRange(2, 5).Draw(rt, "writers")
		idents := rapid.IntRange(1, 3).Draw(rt, "identities")
		orders := make([][]int, writers)
		for w := range orders {
			orders[w] = rapid.Permutation(seq(idents)).Draw(rt, "order")
		}
		idKey := func(i int) []byte { return fmt.Appendf(nil, "%sid/%d", ns, i) }
		recKey := func(i, w int) []byte { return fmt.Appendf(nil, "%srec/%d/%d", ns, i, w) }

		var mu sync.Mutex
		won := map[int][]int{} // identity → writers whose claim committed
		var failures []error
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for _, i := range orders[w] {
					claimed, err := claim(s, idKey(i), recKey(i, w), fmt.Sprint(w))
					mu.Lock()
					if err != nil {
						failures = append(failures, fmt.Errorf("writer %d, identity %d: %w", w, i, err))
					} else if claimed {
						won[i] = append(won[i], w)
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(failures) > 0 {
			rt.Fatal(errors.Join(failures...))
		}
		err := s.View(func(r store.Reader) error {
			for i := range idents {
				if len(won[i]) != 1 {
					rt.Fatalf("identity %d claimed by writers %v, want exactly one", i, won[i])
				}
				v, err := r.Get(idKey(i))
				if err != nil || string(v) != fmt.Sprint(won[i][0]) {
					rt.Fatalf("identity %d names %q (%v), want the winner %d", i, v, err, won[i][0])
				}
				for w := range writers {
					_, err := r.Get(recKey(i, w))
					if exists := err == nil; exists != (w == won[i][0]) {
						rt.Fatalf("identity %d: record of writer %d exists=%v (err %v); the winner is %d", i, w, exists, err, won[i][0])
					}
				}
			}
			return nil
		})
		if err != nil {
			rt.Fatal(err)
		}
	})
}

// claim writes id=owner and rec when id is free, retrying on conflict. It
// reports whether this call's write committed.
func claim(s store.Store, id, rec []byte, owner string) (bool, error) {
	for attempt := 1; ; attempt++ {
		claimed, err := claimOnce(s, id, rec, owner)
		if !errors.Is(err, store.ErrConflict) {
			return claimed, err
		}
		if attempt == 200 {
			return false, fmt.Errorf("still conflicting after %d attempts: %w", attempt, err)
		}
		time.Sleep(time.Duration(attempt%8) * 100 * time.Microsecond)
	}
}

func claimOnce(s store.Store, id, rec []byte, owner string) (bool, error) {
	tx := s.NewTxn()
	defer tx.Discard()
	_, err := tx.Get(id)
	if err == nil {
		return false, nil // taken
	}
	if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	if err := tx.Set(id, []byte(owner)); err != nil {
		return false, err
	}
	if err := tx.Set(rec, []byte("record")); err != nil {
		return false, err
	}
	return true, tx.Commit()
}

func seq(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}
