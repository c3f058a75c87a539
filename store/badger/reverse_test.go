package badger

import (
	"bytes"
	"slices"
	"testing"

	"github.com/irego/irego/store"
)

// IterateReverse walks a prefix's keys backwards, from the end or from
// below a given key, and sees none outside the prefix, also when keys
// right after the prefix end in 0xff bytes.
func TestIterateReverse(t *testing.T) {
	db, err := Open(Options{InMemory: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys := []string{"a", "p", "p\x00", "p\x01", "pa", "pa\xff", "pb", "p\xff", "p\xff\xff", "q", "q\x00"}
	txn := db.NewTxn()
	for _, k := range keys {
		if err := txn.Set([]byte(k), []byte("v"+k)); err != nil {
			t.Fatal(err)
		}
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}
	walk := func(prefix, before string, stopAfter int) []string {
		var got []string
		err := db.View(func(r store.Reader) error {
			var b []byte
			if before != "" {
				b = []byte(before)
			}
			return r.(store.ReverseReader).IterateReverse([]byte(prefix), b, func(k, v []byte) error {
				if !bytes.Equal(v, append([]byte("v"), k...)) {
					t.Errorf("%q holds %q", k, v)
				}
				got = append(got, string(k))
				if len(got) == stopAfter {
					return store.ErrStop
				}
				return nil
			})
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	for _, c := range []struct {
		prefix, before string
		stop           int
		want           []string
	}{
		{"p", "", 0, []string{"p\xff\xff", "p\xff", "pb", "pa\xff", "pa", "p\x01", "p\x00", "p"}},
		{"p", "pa\xff", 0, []string{"pa", "p\x01", "p\x00", "p"}},
		{"p", "pa\x00", 0, []string{"pa", "p\x01", "p\x00", "p"}},
		{"p", "p", 0, nil},
		{"p", "z", 0, []string{"p\xff\xff", "p\xff", "pb", "pa\xff", "pa", "p\x01", "p\x00", "p"}},
		{"p", "", 2, []string{"p\xff\xff", "p\xff"}},
		{"pa", "", 0, []string{"pa\xff", "pa"}},
		{"q", "", 0, []string{"q\x00", "q"}},
		{"r", "", 0, nil},
		{"", "q", 0, []string{"p\xff\xff", "p\xff", "pb", "pa\xff", "pa", "p\x01", "p\x00", "p", "a"}},
	} {
		if got := walk(c.prefix, c.before, c.stop); !slices.Equal(got, c.want) {
			t.Errorf("IterateReverse(%q, %q): %q, want %q", c.prefix, c.before, got, c.want)
		}
	}
}
