package storetest

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/irego/irego/store"
)

// Open returns a new, empty store for one test.
type Open func(t *testing.T) store.Store

// Run runs every test and property of the suite against stores from open.
func Run(t *testing.T, open Open) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"GetSetDelete", testGetSetDelete},
		{"EmptyValue", testEmptyValue},
		{"GetReturnsCopy", testGetReturnsCopy},
		{"OwnWrites", testOwnWrites},
		{"PrefixOrder", testPrefixOrder},
		{"NilPrefixIsEveryKey", testNilPrefix},
		{"IterateManyWithReads", testIterateManyWithReads},
		{"IterateFrom", testIterateFrom},
		{"IterateReverse", testIterateReverse},
		{"Stop", testStop},
		{"ViewIsSnapshot", testViewIsSnapshot},
		{"ConflictOnExistingKey", func(t *testing.T, s store.Store) { testConflict(t, s, true) }},
		{"ConflictOnAbsentKey", func(t *testing.T, s store.Store) { testConflict(t, s, false) }},
		{"DiscardLeavesNothing", testDiscard},
		{"ViewsInsideManyTxns", testViewsInsideManyTxns},
		{"Closed", testClosed},
		{"KeyTooLong", testKeyTooLong},
		{"PropPrefixOrderMatchesModel", propPrefixOrder},
		{"PropOneIdentityUnderConcurrentWriters", propOneIdentity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			t.Cleanup(func() { s.Close() })
			tc.fn(t, s)
		})
	}
}

// testKeyTooLong: a key over store.MaxKeyLen is refused with
// ErrKeyTooLong, and the error never holds the key.
func testKeyTooLong(t *testing.T, s store.Store) {
	key := []byte(strings.Repeat("k", store.MaxKeyLen+1))
	tx := s.NewTxn()
	defer tx.Discard()
	for name, err := range map[string]error{"Set": tx.Set(key, []byte("v")), "Delete": tx.Delete(key)} {
		if !errors.Is(err, store.ErrKeyTooLong) || strings.Contains(err.Error(), "kkkk") {
			t.Errorf("%s of a %d-byte key: %v", name, len(key), err)
		}
	}
	must(t, tx.Set(key[:store.MaxKeyLen], []byte("v")))
}

func testGetSetDelete(t *testing.T, s store.Store) {
	mustCommit(t, s, func(tx store.Txn) {
		must(t, tx.Set([]byte("a"), []byte("1")))
		must(t, tx.Set([]byte("b"), []byte("2")))
	})
	wantValue(t, s, "a", "1")
	wantValue(t, s, "b", "2")
	wantAbsent(t, s, "c")
	mustCommit(t, s, func(tx store.Txn) {
		must(t, tx.Set([]byte("a"), []byte("one")))
		must(t, tx.Delete([]byte("b")))
		must(t, tx.Delete([]byte("never-set")))
	})
	wantValue(t, s, "a", "one")
	wantAbsent(t, s, "b")
}

// An empty value is a value, not an absent key (class index entries are
// empty).
func testEmptyValue(t *testing.T, s store.Store) {
	mustCommit(t, s, func(tx store.Txn) {
		must(t, tx.Set([]byte("e"), nil))
		must(t, tx.Set([]byte("f"), []byte{}))
	})
	wantValue(t, s, "e", "")
	wantValue(t, s, "f", "")
	if diff := cmp.Diff([]string{"e=", "f="}, scan(t, s, "")); diff != "" {
		t.Errorf("iterate (-want +got):\n%s", diff)
	}
}

// Values returned by Get belong to the caller.
func testGetReturnsCopy(t *testing.T, s store.Store) {
	mustCommit(t, s, func(tx store.Txn) {
		must(t, tx.Set([]byte("k"), []byte("value")))
		v, err := tx.Get([]byte("k"))
		must(t, err)
		v[1] = 'X'
	})
	tx := s.NewTxn()
	defer tx.Discard()
	v, err := tx.Get([]byte("k"))
	must(t, err)
	v[0] = 'Y'
	if v2, _ := tx.Get([]byte("k")); string(v2) != "value" {
		t.Errorf("Get after mutating an earlier result = %q, want %q", v2, "value")
	}
}

// Reads in a transaction see its pending writes, merged into iteration.
func testOwnWrites(t *testing.T, s store.Store) {
	mustCommit(t, s, func(tx store.Txn) {
		for _, k := range []string{"p/a", "p/c", "p/e", "p/g", "q/a"} {
			must(t, tx.Set([]byte(k), []byte("old")))
		}
	})
	tx := s.NewTxn()
	defer tx.Discard()
	must(t, tx.Set([]byte("p/b"), []byte("new")))  // new, between stored keys
	must(t, tx.Set([]byte("p/c"), []byte("new")))  // overwrites
	must(t, tx.Delete([]byte("p/e")))              // deletes a stored key
	must(t, tx.Set([]byte("p/f"), []byte("gone"))) // set, then deleted
	must(t, tx.Delete([]byte("p/f")))
	must(t, tx.Delete([]byte("p/g"))) // deleted, then set again
	must(t, tx.Set([]byte("p/g"), []byte("back")))
	must(t, tx.Set([]byte("p/z"), []byte("new"))) // after every stored key
	must(t, tx.Set([]byte("o/a"), []byte("new"))) // outside the prefix
	for k, want := range map[string]string{"p/b": "new", "p/c": "new", "p/g": "back", "p/a": "old"} {
		if v, err := tx.Get([]byte(k)); err != nil || string(v) != want {
			t.Errorf("Get(%s) in the txn = %q, %v; want %q", k, v, err, want)
		}
	}
	for _, k := range []string{"p/e", "p/f"} {
		if _, err := tx.Get([]byte(k)); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Get(%s) in the txn after Delete: err %v, want ErrNotFound", k, err)
		}
	}
	want := []string{"p/a=old", "p/b=new", "p/c=new", "p/g=back", "p/z=new"}
	if diff := cmp.Diff(want, collect(t, tx, "p/")); diff != "" {
		t.Errorf("iterate in the txn (-want +got):\n%s", diff)
	}
	// Not visible outside before Commit, all visible after.
	if diff := cmp.Diff([]string{"p/a=old", "p/c=old", "p/e=old", "p/g=old"}, scan(t, s, "p/")); diff != "" {
		t.Errorf("iterate outside before commit (-want +got):\n%s", diff)
	}
	must(t, tx.Commit())
	if diff := cmp.Diff(want, scan(t, s, "p/")); diff != "" {
		t.Errorf("iterate after commit (-want +got):\n%s", diff)
	}
}

// Iteration visits exactly the keys with the prefix, in byte order, also
// at the edges of the byte range.
func testPrefixOrder(t *testing.T, s store.Store) {
	keys := []string{"", "\x00", "a", "a\x00", "a\x00\x00", "a\x01", "a\xff", "a\xff\xff", "a\xff\xff\x00", "ab", "b", "\xff", "\xff\xff", "\xff\xff\xff"}
	mustCommit(t, s, func(tx store.Txn) {
		// The empty key may not be allowed; every other key is.
		for _, k := range slices.Backward(keys[1:]) {
			must(t, tx.Set([]byte(k), []byte(k)))
		}
	})
	keys = keys[1:]
	slices.Sort(keys)
	for _, prefix := range []string{"", "\x00", "a", "a\x00", "a\xff", "a\xff\xff", "ab", "abc", "b", "\xff", "\xff\xff", "\xff\xff\xff", "\xff\xff\xff\xff"} {
		var want []string
		for _, k := range keys {
			if len(k) >= len(prefix) && k[:len(prefix)] == prefix {
				want = append(want, k+"="+k)
			}
		}
		if diff := cmp.Diff(want, scan(t, s, prefix)); diff != "" {
			t.Errorf("prefix %q (-want +got):\n%s", prefix, diff)
		}
	}
}

// A nil prefix, like the empty one, iterates every key, in a View and in
// a Txn with pending writes.
func testNilPrefix(t *testing.T, s store.Store) {
	setKey(t, s, "a", "1")
	setKey(t, s, "b/c", "2")
	var got []string
	must(t, s.View(func(r store.Reader) error {
		return r.Iterate(nil, func(k, v []byte) error { got = append(got, string(k)+"="+string(v)); return nil })
	}))
	if want := []string{"a=1", "b/c=2"}; !slices.Equal(got, want) {
		t.Errorf("Iterate(nil) in a View: %q, want %q", got, want)
	}
	tx := s.NewTxn()
	defer tx.Discard()
	must(t, tx.Set([]byte("0"), []byte("0")))
	got = nil
	must(t, tx.Iterate(nil, func(k, v []byte) error { got = append(got, string(k)+"="+string(v)); return nil }))
	if want := []string{"0=0", "a=1", "b/c=2"}; !slices.Equal(got, want) {
		t.Errorf("Iterate(nil) in a Txn: %q, want %q", got, want)
	}
}

// A long iteration may read other keys from its callback, in a View and in
// a Txn with pending writes scattered through the range.
func testIterateManyWithReads(t *testing.T, s store.Store) {
	const n = 1500
	key := func(i int) []byte { return fmt.Appendf(nil, "m/%05d", i) }
	mustCommit(t, s, func(tx store.Txn) {
		for i := 0; i < n; i += 2 {
			must(t, tx.Set(key(i), []byte("v")))
		}
		must(t, tx.Set([]byte("other"), []byte("x")))
	})
	check := func(r store.Reader, want []string) {
		t.Helper()
		var got []string
		err := r.Iterate([]byte("m/"), func(k, v []byte) error {
			if _, err := r.Get([]byte("other")); err != nil {
				return fmt.Errorf("get inside Iterate: %w", err)
			}
			got = append(got, string(k)+"="+string(v))
			return nil
		})
		must(t, err)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
	var stored []string
	for i := 0; i < n; i += 2 {
		stored = append(stored, string(key(i))+"=v")
	}
	must(t, s.View(func(r store.Reader) error { check(r, stored); return nil }))

	tx := s.NewTxn()
	defer tx.Discard()
	var want []string
	for i := range n {
		switch {
		case i%6 == 0:
			must(t, tx.Delete(key(i)))
		case i%2 == 1 && i%5 == 0:
			must(t, tx.Set(key(i), []byte("w")))
			want = append(want, string(key(i))+"=w")
		case i%2 == 0:
			want = append(want, string(key(i))+"=v")
		}
	}
	check(tx, want)
}

// A View that walks keys backwards (store.ReverseReader) walks a prefix's
// keys from the end or from below a given key, sees none outside the
// prefix, also when keys right after it end in 0xff bytes, stops when
// asked, and pages through more keys than one read holds.
func testIterateReverse(t *testing.T, s store.Store) {
	keys := []string{"a", "p", "p\x00", "p\x01", "pa", "pa\xff", "pb", "p\xff", "p\xff\xff", "q", "q\x00"}
	for i := range 300 {
		keys = append(keys, fmt.Sprintf("r/%04d", i))
	}
	mustCommit(t, s, func(tx store.Txn) {
		for _, k := range keys {
			must(t, tx.Set([]byte(k), []byte("v"+k)))
		}
	})
	walk := func(r store.ReverseReader, prefix, before string, stopAfter int) []string {
		var got []string
		var b []byte
		if before != "" {
			b = []byte(before)
		}
		must(t, r.IterateReverse([]byte(prefix), b, func(k, v []byte) error {
			if string(v) != "v"+string(k) {
				t.Errorf("%q holds %q", k, v)
			}
			got = append(got, string(k))
			if len(got) == stopAfter {
				return store.ErrStop
			}
			return nil
		}))
		return got
	}
	var rs []string
	for i := 299; i >= 0; i-- {
		rs = append(rs, fmt.Sprintf("r/%04d", i))
	}
	all := []string{"p\xff\xff", "p\xff", "pb", "pa\xff", "pa", "p\x01", "p\x00", "p"}
	must(t, s.View(func(r store.Reader) error {
		rev, ok := r.(store.ReverseReader)
		if !ok {
			t.Skip("the store does not walk keys backwards")
		}
		for _, c := range []struct {
			prefix, before string
			stop           int
			want           []string
		}{
			{"p", "", 0, all},
			{"p", "pa\xff", 0, all[4:]},
			{"p", "pa\x00", 0, all[4:]},
			{"p", "p", 0, nil},
			{"p", "z", 0, all},
			{"p", "", 2, all[:2]},
			{"pa", "", 0, []string{"pa\xff", "pa"}},
			{"q", "", 0, []string{"q\x00", "q"}},
			{"s", "", 0, nil},
			{"r/", "", 0, rs},
			{"r/", "r/0100", 0, rs[200:]},
		} {
			if got := walk(rev, c.prefix, c.before, c.stop); !slices.Equal(got, c.want) {
				t.Errorf("IterateReverse(%q, %q): %q, want %q", c.prefix, c.before, got, c.want)
			}
		}
		return nil
	}))
}

// IterateFrom starts at the first key ≥ start and stays within the
// prefix, in a View and in a Txn whose pending writes fall on both sides of
// start.
func testIterateFrom(t *testing.T, s store.Store) {
	const n = 1200
	key := func(i int) string { return fmt.Sprintf("m/%05d", i) }
	mustCommit(t, s, func(tx store.Txn) {
		for i := 0; i < n; i += 2 {
			must(t, tx.Set([]byte(key(i)), []byte("v")))
		}
		must(t, tx.Set([]byte("a"), []byte("x")))
		must(t, tx.Set([]byte("n/0"), []byte("x")))
	})
	// model is what a reader should see under m/: key → value.
	model := map[string]string{}
	for i := 0; i < n; i += 2 {
		model[key(i)] = "v"
	}
	check := func(r store.Reader, model map[string]string) {
		t.Helper()
		for _, start := range []string{"", "a", "m/", key(0), key(1), key(777), key(n - 2), key(n), "m/~", "n/"} {
			var want, got []string
			for k, v := range model {
				if k >= start {
					want = append(want, k+"="+v)
				}
			}
			slices.Sort(want)
			must(t, r.IterateFrom([]byte("m/"), []byte(start), func(k, v []byte) error {
				got = append(got, string(k)+"="+string(v))
				return nil
			}))
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("from %q (-want +got):\n%s", start, diff)
			}
		}
	}
	must(t, s.View(func(r store.Reader) error { check(r, model); return nil }))
	tx := s.NewTxn()
	defer tx.Discard()
	for _, i := range []int{1, 2, 500, 777, 778, 1101} {
		if i%2 == 0 {
			must(t, tx.Delete([]byte(key(i))))
			delete(model, key(i))
		} else {
			must(t, tx.Set([]byte(key(i)), []byte("w")))
			model[key(i)] = "w"
		}
	}
	check(tx, model)
}

// ErrStop ends a walk without an error; any other error ends it with that
// error.
func testStop(t *testing.T, s store.Store) {
	mustCommit(t, s, func(tx store.Txn) {
		for i := range 200 {
			must(t, tx.Set(fmt.Appendf(nil, "s/%03d", i), []byte("v")))
		}
	})
	boom := errors.New("boom")
	for _, tc := range []struct {
		ret  error
		want error
	}{{store.ErrStop, nil}, {fmt.Errorf("wrapped: %w", store.ErrStop), nil}, {boom, boom}} {
		check := func(r store.Reader) {
			n := 0
			err := r.Iterate([]byte("s/"), func(_, _ []byte) error {
				n++
				if n == 3 {
					return tc.ret
				}
				return nil
			})
			if !errors.Is(err, tc.want) || (tc.want == nil && err != nil) {
				t.Errorf("callback returned %v: Iterate returned %v, want %v", tc.ret, err, tc.want)
			}
			if n != 3 {
				t.Errorf("callback returned %v on call 3: called %d times", tc.ret, n)
			}
		}
		must(t, s.View(func(r store.Reader) error { check(r); return nil }))
		tx := s.NewTxn()
		must(t, tx.Set([]byte("s/000a"), []byte("pending")))
		check(tx)
		tx.Discard()
	}
}

// A View reads one snapshot: a commit made while it runs stays invisible.
func testViewIsSnapshot(t *testing.T, s store.Store) {
	setKey(t, s, "k", "before")
	err := s.View(func(r store.Reader) error {
		if v, err := r.Get([]byte("k")); err != nil || string(v) != "before" {
			t.Fatalf("Get = %q, %v", v, err)
		}
		setKey(t, s, "k", "after")
		setKey(t, s, "k2", "new")
		if v, err := r.Get([]byte("k")); err != nil || string(v) != "before" {
			t.Errorf("Get after a concurrent commit = %q, %v; want the snapshot's %q", v, err, "before")
		}
		if _, err := r.Get([]byte("k2")); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("a key committed after the snapshot: err %v, want ErrNotFound", err)
		}
		return nil
	})
	must(t, err)
	wantValue(t, s, "k", "after")
}

// Two transactions read a key, then both write it: the second to commit
// fails with ErrConflict and none of its writes land. This is how the
// engine keeps two payloads from creating the same CI.
func testConflict(t *testing.T, s store.Store, existing bool) {
	if existing {
		setKey(t, s, "id", "nobody")
	}
	t1, t2 := s.NewTxn(), s.NewTxn()
	defer t1.Discard()
	defer t2.Discard()
	for _, tx := range []store.Txn{t1, t2} {
		if _, err := tx.Get([]byte("id")); err != nil && !errors.Is(err, store.ErrNotFound) {
			t.Fatal(err)
		}
	}
	must(t, t1.Set([]byte("id"), []byte("one")))
	must(t, t1.Set([]byte("rec/one"), []byte("r")))
	must(t, t2.Set([]byte("id"), []byte("two")))
	must(t, t2.Set([]byte("rec/two"), []byte("r")))
	must(t, t1.Commit())
	if err := t2.Commit(); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("second commit: err %v, want ErrConflict", err)
	}
	wantValue(t, s, "id", "one")
	wantAbsent(t, s, "rec/two")
	wantValue(t, s, "rec/one", "r")
}

// A discarded transaction leaves nothing; Discard is safe after Commit and
// twice.
func testDiscard(t *testing.T, s store.Store) {
	setKey(t, s, "keep", "v")
	tx := s.NewTxn()
	must(t, tx.Set([]byte("a"), []byte("1")))
	must(t, tx.Delete([]byte("keep")))
	if _, err := tx.Get([]byte("keep")); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("own delete not visible: %v", err)
	}
	tx.Discard()
	tx.Discard()
	wantAbsent(t, s, "a")
	wantValue(t, s, "keep", "v")

	tx = s.NewTxn()
	must(t, tx.Set([]byte("b"), []byte("2")))
	must(t, tx.Commit())
	tx.Discard()
	wantValue(t, s, "b", "2")

	tx = s.NewTxn() // a transaction that writes nothing commits
	if _, err := tx.Get([]byte("b")); err != nil {
		t.Fatal(err)
	}
	must(t, tx.Commit())
	tx.Discard()
}

// Many goroutines each read through a View while their own transaction is
// open, as the engine does for partial payloads: a backend that holds a
// connection per transaction must not run out of them for the Views.
func testViewsInsideManyTxns(t *testing.T, s store.Store) {
	const goroutines = 32
	once := func(g int) error {
		tx := s.NewTxn()
		defer tx.Discard()
		if _, err := tx.Get([]byte("counter")); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := s.View(func(r store.Reader) error {
			_, err := r.Get([]byte("counter"))
			if errors.Is(err, store.ErrNotFound) {
				return nil
			}
			return err
		}); err != nil {
			return err
		}
		if err := tx.Set(fmt.Appendf(nil, "g/%d", g), []byte("v")); err != nil {
			return err
		}
		return tx.Commit()
	}
	done := make(chan error, goroutines)
	for g := range goroutines {
		go func() {
			err := once(g)
			for errors.Is(err, store.ErrConflict) {
				err = once(g)
			}
			done <- err
		}()
	}
	timeout := time.After(30 * time.Second)
	for range goroutines {
		select {
		case err := <-done:
			must(t, err)
		case <-timeout:
			// Not t.Fatal: closing the store would wait for the stuck
			// transactions. The goroutine dump shows where they hang.
			panic("transactions reading through Views made no progress in 30s: deadlocked")
		}
	}
	if n := len(scan(t, s, "g/")); n != goroutines {
		t.Errorf("%d keys written, want %d", n, goroutines)
	}
}

func testClosed(t *testing.T, s store.Store) {
	setKey(t, s, "k", "v")
	must(t, s.Close())
	if err := s.View(func(store.Reader) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Errorf("View after Close: err %v, want ErrClosed", err)
	}
	tx := s.NewTxn()
	defer tx.Discard()
	if _, err := tx.Get([]byte("k")); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Get after Close: err %v, want ErrClosed", err)
	}
	tx.Set([]byte("k2"), []byte("v"))
	if err := tx.Commit(); !errors.Is(err, store.ErrClosed) {
		t.Errorf("Commit after Close: err %v, want ErrClosed", err)
	}
}

// helpers

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func mustCommit(t *testing.T, s store.Store, fn func(store.Txn)) {
	t.Helper()
	tx := s.NewTxn()
	defer tx.Discard()
	fn(tx)
	must(t, tx.Commit())
}

func setKey(t *testing.T, s store.Store, k, v string) {
	t.Helper()
	mustCommit(t, s, func(tx store.Txn) { must(t, tx.Set([]byte(k), []byte(v))) })
}

func wantValue(t *testing.T, s store.Store, k, want string) {
	t.Helper()
	err := s.View(func(r store.Reader) error {
		v, err := r.Get([]byte(k))
		if err != nil {
			return err
		}
		if string(v) != want {
			t.Errorf("Get(%q) = %q, want %q", k, v, want)
		}
		return nil
	})
	if err != nil {
		t.Errorf("Get(%q): %v, want %q", k, err, want)
	}
}

func wantAbsent(t *testing.T, s store.Store, k string) {
	t.Helper()
	err := s.View(func(r store.Reader) error {
		_, err := r.Get([]byte(k))
		return err
	})
	if !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Get(%q): err %v, want ErrNotFound", k, err)
	}
}

// scan lists key=value under prefix in a View.
func scan(t *testing.T, s store.Store, prefix string) []string {
	t.Helper()
	var out []string
	must(t, s.View(func(r store.Reader) error { out = collect(t, r, prefix); return nil }))
	return out
}

func collect(t *testing.T, r store.Reader, prefix string) []string {
	t.Helper()
	var out []string
	var last []byte
	must(t, r.Iterate([]byte(prefix), func(k, v []byte) error {
		if last != nil && bytes.Compare(last, k) >= 0 {
			t.Errorf("key %q after %q: out of order", k, last)
		}
		last = bytes.Clone(k)
		out = append(out, string(k)+"="+string(v))
		return nil
	}))
	return out
}
