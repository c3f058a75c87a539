package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
	"pgregory.net/rapid"
)

// Whatever order CIs take and give up identities in, the holders read
// back are exactly those holding, and only an identity held by two or
// more CIs has member keys (one per holder): a single holder costs the
// guard alone.
func TestPropIdentityHolders(t *testing.T) {
	db, err := badger.Open(badger.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	run := 0
	rapid.Check(t, func(t *rapid.T) {
		run++
		identities := make([][]byte, 3)
		for i := range identities {
			identities[i] = store.IdentityKey("entry", fmt.Sprint(run), []string{fmt.Sprint(i)}, nil)
		}
		ids := []string{strings.Repeat("a", store.SysIDLen), strings.Repeat("b", store.SysIDLen), strings.Repeat("c", store.SysIDLen)}
		model := make([]map[string]bool, len(identities))
		for i := range model {
			model[i] = map[string]bool{}
		}
		steps := rapid.IntRange(1, 20).Draw(t, "steps")
		for range steps {
			i := rapid.IntRange(0, len(identities)-1).Draw(t, "identity")
			id := rapid.SampledFrom(ids).Draw(t, "ci")
			hold := rapid.Bool().Draw(t, "hold")
			txn := db.NewTxn()
			if hold {
				err = store.HoldIdentity(txn, identities[i], id)
			} else {
				err = store.ReleaseIdentity(txn, identities[i], id)
			}
			if err == nil {
				err = txn.Commit()
			}
			txn.Discard()
			if err != nil {
				t.Fatal(err)
			}
			if hold {
				model[i][id] = true
			} else {
				delete(model[i], id)
			}
		}
		if err := db.View(func(r store.Reader) error {
			for i, k := range identities {
				got, err := store.IdentityHolders(r, k)
				if err != nil {
					return err
				}
				want := make([]string, 0, len(model[i]))
				for id := range model[i] {
					want = append(want, id)
				}
				slices.Sort(want)
				slices.Sort(got)
				if !slices.Equal(got, want) && len(got)+len(want) > 0 {
					t.Fatalf("identity %d: holders %v, want %v", i, got, want)
				}
				members := 0
				if err := r.Iterate(store.IdentityMemberPrefix(k), func(_, _ []byte) error { members++; return nil }); err != nil {
					return err
				}
				if wantMembers := len(want) * min(1, len(want)/2); members != wantMembers {
					t.Fatalf("identity %d held by %d: %d member keys, want %d", i, len(want), members, wantMembers)
				}
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	})
}
