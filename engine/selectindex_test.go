package engine_test

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
	"github.com/irego/irego/store/badger"
)

// loadNamed bulk-loads n CIs named host-<i>, in capitals for odd i, every
// seventh and those from the 40th on with no name (more than a value's
// entries a backward walk holds), alternating between classes, and
// returns their records.
func loadNamed(t *testing.T, e *engine.Engine, n int, classes ...string) []*store.Record {
	t.Helper()
	l := e.Loader()
	var recs []*store.Record
	for i := range n {
		rec := &store.Record{SysID: fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15), Class: classes[i%len(classes)], Values: map[string]any{}}
		switch {
		case i%7 == 6 || i >= 40: // no name
		case i%2 == 1:
			rec.Values["name"] = fmt.Sprintf("HOST-%d", i)
		default:
			rec.Values["name"] = fmt.Sprintf("host-%d", i)
		}
		if err := l.PutCI(rec); err != nil {
			t.Fatal(err)
		}
		recs = append(recs, rec)
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Index(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	return recs
}

// Filters and an order on name, which the default rules index, are
// answered from the index: exact totals and pages, ignoring case, without
// reading a record beyond the page's, however low the scan limit.
func TestSelectIndexedReadsOnlyThePage(t *testing.T) {
	e, err := engine.Open(t.TempDir(), engine.Options{MaxScan: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	classes := []string{"cmdb_ci_linux_server", "cmdb_ci_netgear", "cmdb_ci_computer"}
	recs := loadNamed(t, e, 120, classes...)
	name := func(r *store.Record) string { return payload.Canonical(r.Values["name"]) }
	for _, c := range []struct {
		class   string
		filters []engine.Filter
		order   string
		desc    bool
	}{
		{"cmdb_ci", []engine.Filter{{Attribute: "name", Values: []string{"Host-7"}}}, "", false},
		{"cmdb_ci", []engine.Filter{{Attribute: "name", Values: []string{"host-1", "HOST-2", "nope", "host-1"}}}, "", false},
		{"cmdb_ci", []engine.Filter{{Attribute: "name", Values: []string{"HOST-1"}, Prefix: true}}, "", false},
		{"cmdb_ci_netgear", []engine.Filter{{Attribute: "name", Values: []string{"host-1"}, Prefix: true}}, "", false},
		{"cmdb_ci", []engine.Filter{{Attribute: "name", Values: []string{""}}}, "", false},
		{"cmdb_ci", nil, "name", false},
		{"cmdb_ci", nil, "name", true},
		{"cmdb_ci_computer", nil, "name", true},
		{"cmdb_ci", []engine.Filter{{Attribute: "name", Values: []string{"host-2"}, Prefix: true}}, "name", true},
		{"cmdb_ci", []engine.Filter{{Attribute: "name", Values: []string{"", "host-3"}}}, "name", true},
	} {
		var want []*store.Record
		for _, r := range recs {
			if slices.Contains(e.Rules().Descendants(c.class), r.Class) && !slices.ContainsFunc(c.filters, func(f engine.Filter) bool { return !f.Match(r) }) {
				want = append(want, r)
			}
		}
		slices.SortFunc(want, func(a, b *store.Record) int {
			n := 0
			if c.order != "" {
				n = store.CompareIndexed(name(a), name(b))
			}
			if c.desc {
				n = -n
			}
			return cmp.Or(n, strings.Compare(a.SysID, b.SysID))
		})
		for _, offset := range []int{0, 2, len(want) - 3} {
			s := engine.Selection{Class: c.class, Filters: c.filters, OrderBy: c.order, Desc: c.desc, Offset: offset, Limit: 4}
			if c.order != "" {
				s.SortKey = func(*store.Record) []string {
					t.Fatal("SortKey called: the order did not come from the index")
					return nil
				}
			}
			pg, err := e.Select(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			what := fmt.Sprintf("%s %+v order %q desc %v offset %d", c.class, c.filters, c.order, c.desc, offset)
			if pg.Total != len(want) || pg.Capped || pg.Scanned != 0 {
				t.Errorf("%s: total %d capped %v scanned %d, want %d false 0", what, pg.Total, pg.Capped, pg.Scanned, len(want))
			}
			var wantIDs, got []string
			for _, r := range want[min(max(offset, 0), len(want)):min(max(offset, 0)+4, len(want))] {
				wantIDs = append(wantIDs, r.SysID)
			}
			for _, r := range pg.Records {
				got = append(got, r.SysID)
			}
			if diff := gocmp.Diff(wantIDs, got); diff != "" {
				t.Errorf("%s: page (-want +got):\n%s", what, diff)
			}
		}
	}
	// What the index cannot check is read, record by record: only the
	// index's candidates.
	pg, err := e.Select(context.Background(), engine.Selection{Class: "cmdb_ci", Limit: 10,
		Filters: []engine.Filter{{Attribute: "name", Values: []string{"host-7"}}, {Attribute: "os", Values: []string{""}}}})
	if err != nil {
		t.Fatal(err)
	}
	if pg.Total != 1 || pg.Scanned != 1 || pg.Capped {
		t.Errorf("name and os: total %d scanned %d capped %v, want 1 1 false", pg.Total, pg.Scanned, pg.Capped)
	}
}

// A store whose secondary indexes an older release wrote (values
// length-prefixed, empty values not indexed) is reindexed once when
// opened: no entry of the old layout is left, check finds nothing wrong,
// and the index answers filters.
func TestOldIndexLayoutIsRebuiltOnOpen(t *testing.T) {
	dir, db := oldLayoutStore(t)
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	checkClean(t, e)
	err = e.Store().View(func(r store.Reader) error {
		return r.Iterate(store.IndexPrefix(), func(k, _ []byte) error {
			_, err := store.ParseIndexEntry(k)
			return err
		})
	})
	if err != nil {
		t.Fatalf("an entry of the old layout is left: %v", err)
	}
	pg, err := e.Select(context.Background(), engine.Selection{Class: "cmdb_ci", Limit: 10, MaxScan: 1,
		Filters: []engine.Filter{{Attribute: "name", Values: []string{"host-1"}, Prefix: true}}})
	if err != nil {
		t.Fatal(err)
	}
	if pg.Total != 10 || pg.Scanned != 0 { // host-1 and 10…19, but 13 has no name
		t.Errorf("after the upgrade: total %d scanned %d, want 10 0", pg.Total, pg.Scanned)
	}
}

// Find compares as the index keys values, ignoring case; a number's
// entries share a bucket with its other spellings, which Find tells apart
// on the records.
func TestFindIgnoresCaseAndKeepsNumbersApart(t *testing.T) {
	e := openDisk(t)
	l := e.Loader()
	names := []string{"Web-1", "web-1", "WEB-2", "1", "1.0", "01"}
	for i, n := range names {
		rec := &store.Record{SysID: fmt.Sprintf("%032x", uint64(i+1)*0x9e3779b97f4a7c15), Class: "cmdb_ci_computer", Values: map[string]any{"name": n}}
		if err := l.PutCI(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Index(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		values []string
		want   []string
	}{
		{[]string{"WEB-1"}, []string{"Web-1", "web-1"}},
		{[]string{"web-2", "Web-1"}, []string{"WEB-2", "Web-1", "web-1"}},
		{[]string{"1"}, []string{"1"}},
		{[]string{"1.0", "01"}, []string{"01", "1.0"}},
		{[]string{"2"}, nil},
	} {
		for _, class := range []string{"cmdb_ci", "cmdb_ci_computer"} {
			pg, err := e.Find(context.Background(), engine.Query{Class: class, Where: []engine.Condition{{Attribute: "name", Values: c.values}}, Limit: -1})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range pg.Records {
				got = append(got, payload.Canonical(r.Values["name"]))
			}
			slices.Sort(got)
			if !slices.Equal(got, c.want) || pg.Total != len(c.want) || pg.Scanned {
				t.Errorf("%s name in %q: %q (total %d, scanned %v), want %q", class, c.values, got, pg.Total, pg.Scanned, c.want)
			}
		}
	}
	checkClean(t, e)
}

// toOldIndexLayout rewrites the secondary indexes of the closed store in
// dir as the release before wrote them (values length-prefixed, empty
// values not indexed, a fingerprint without the layout) and returns the
// store, open.
// oldLayoutStore is a store of named CIs whose indexes are in an older
// release's layout, open as a bare Badger database, and its directory.
func oldLayoutStore(t *testing.T) (string, *badger.DB) {
	t.Helper()
	dir := t.TempDir()
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	recs := loadNamed(t, e, 30, "cmdb_ci_linux_server", "cmdb_ci_netgear")
	rs := e.Rules()
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, toOldIndexLayout(t, dir, recs, rs)
}

func toOldIndexLayout(t *testing.T, dir string, recs []*store.Record, rs *rules.RuleSet) *badger.DB {
	t.Helper()
	db, err := badger.Open(badger.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	lp := func(k []byte, parts ...string) []byte {
		for _, p := range parts {
			k = binary.AppendUvarint(k, uint64(len(p)))
			k = append(k, p...)
		}
		return k
	}
	txn := db.NewTxn()
	for _, p := range [][]byte{store.IndexPrefix(), store.IndexCountsPrefix()} {
		var keys [][]byte
		if err := txn.Iterate(p, func(k, _ []byte) error { keys = append(keys, bytes.Clone(k)); return nil }); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if err := txn.Delete(k); err != nil {
				t.Fatal(err)
			}
		}
	}
	counts := map[string]uint64{}
	for _, rec := range recs {
		c, _ := rs.Class(rec.Class)
		var old [][]byte
		values := map[string]string{"sys_class_name": rec.Class}
		for _, a := range c.Indexed {
			values[a] = payload.Canonical(rec.Values[a])
		}
		for _, a := range append([]string{"sys_class_name"}, c.Indexed...) {
			if values[a] == "" {
				continue
			}
			bucket := lp(nil, c.IndexClass, a, values[a])
			old = append(old, append(append([]byte("v1/ix/"), bucket...), rec.SysID...))
			counts["v1/ixn/"+string(bucket)+rec.SysID[:2]]++
		}
		for _, k := range old {
			if err := txn.Set(k, nil); err != nil {
				t.Fatal(err)
			}
		}
		v, err := txn.Get(store.CIKey(rec.SysID))
		if err != nil {
			t.Fatal(err)
		}
		stored, err := store.DecodeRecord(v)
		if err != nil {
			t.Fatal(err)
		}
		stored.IndexKeys = old
		if v, err = store.EncodeRecord(stored); err != nil {
			t.Fatal(err)
		}
		if err := txn.Set(store.CIKey(rec.SysID), v); err != nil {
			t.Fatal(err)
		}
	}
	for k, n := range counts {
		if err := txn.Set([]byte(k), binary.BigEndian.AppendUint64(nil, n)); err != nil {
			t.Fatal(err)
		}
	}
	h := sha256.New() // the older release's fingerprint: no layout in it
	for _, name := range rs.Classes() {
		if c, _ := rs.Class(name); c.IndexClass != "" {
			fmt.Fprintf(h, "%s in %s: %q\n", name, c.IndexClass, c.Indexed)
		}
	}
	if err := txn.Set(store.IndexesHashKey(), []byte(hex.EncodeToString(h.Sum(nil)))); err != nil {
		t.Fatal(err)
	}
	if err := txn.Commit(); err != nil {
		t.Fatal(err)
	}

	return db
}

// Restoring a backup of a store whose indexes an older release wrote
// rebuilds them, as opening it does.
func TestRestoreOfOldIndexLayoutRebuildsIt(t *testing.T) {
	_, db := oldLayoutStore(t)
	var backup bytes.Buffer
	if err := db.Backup(&backup); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	e := openDisk(t)
	if err := e.Restore(&backup); err != nil {
		t.Fatal(err)
	}
	checkClean(t, e)
	pg, err := e.Select(context.Background(), engine.Selection{Class: "cmdb_ci", Limit: 10, MaxScan: 1,
		Filters: []engine.Filter{{Attribute: "name", Values: []string{"HOST-7"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if pg.Total != 1 || pg.Scanned != 0 || len(pg.Records) != 1 {
		t.Errorf("after the restore: total %d scanned %d, %d records, want 1 0 1", pg.Total, pg.Scanned, len(pg.Records))
	}
}
