package engine_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
)

// loadCIs bulk-loads n CIs alternating between classes, named ci<i>, and
// returns their sys_ids sorted.
func loadCIs(t *testing.T, e *engine.Engine, n int, classes ...string) []string {
	t.Helper()
	l := e.Loader()
	var ids []string
	for i := range n {
		id := fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15)
		ids = append(ids, id)
		if err := l.PutCI(&store.Record{SysID: id, Class: classes[i%len(classes)], Values: map[string]any{"name": fmt.Sprintf("ci%d", i)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Index(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

// Pages of one record, read through several batches of each class's keys,
// walk the classes' records in sys_id order; the total is exact.
func TestSelectPagesAcrossClassesInSysIDOrder(t *testing.T) {
	e, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ids := loadCIs(t, e, 70, "cmdb_ci_linux_server", "cmdb_ci_netgear", "cmdb_ci_computer")
	var got []string
	for off := 0; off <= len(ids); off++ {
		pg, err := e.Select(context.Background(), engine.Selection{Class: "cmdb_ci", Offset: off, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if pg.Total != len(ids) || pg.Capped || pg.Scanned != 0 {
			t.Fatalf("offset %d: total %d capped %v scanned %d, want %d false 0", off, pg.Total, pg.Capped, pg.Scanned, len(ids))
		}
		for _, rec := range pg.Records {
			got = append(got, rec.SysID)
		}
	}
	if diff := cmp.Diff(ids, got); diff != "" {
		t.Fatalf("pages joined (-want +got):\n%s", diff)
	}
	if _, err := e.Select(context.Background(), engine.Selection{Class: "no_such_class"}); err != engine.ErrUnknownClass {
		t.Fatalf("unknown class: %v, want ErrUnknownClass", err)
	}
}

// A filter reads records up to the scan limit and says so; Find does the
// same for a condition no index serves.
func TestSelectAndFindStopAtTheScanLimit(t *testing.T) {
	e, err := engine.Open(t.TempDir(), engine.Options{MaxScan: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	loadCIs(t, e, 25, "cmdb_ci_linux_server")
	all := func(*store.Record) bool { return true }
	pg, err := e.Select(context.Background(), engine.Selection{Class: "cmdb_ci", Match: all, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if !pg.Capped || pg.Scanned != 10 || pg.Total != 10 || len(pg.Records) != 10 {
		t.Fatalf("Select: capped %v scanned %d total %d records %d, want true 10 10 10", pg.Capped, pg.Scanned, pg.Total, len(pg.Records))
	}
	pg, err = e.Select(context.Background(), engine.Selection{Class: "cmdb_ci", Match: all, Limit: 100, MaxScan: 30})
	if err != nil || pg.Capped || pg.Total != 25 {
		t.Fatalf("Select with MaxScan 30: %v, capped %v total %d, want false 25", err, pg.Capped, pg.Total)
	}
	fp, err := e.Find(context.Background(), engine.Query{Class: "cmdb_ci", Where: []engine.Condition{{Attribute: "short_description", Values: []string{"s3", "s20"}}}, Limit: -1})
	if err != nil {
		t.Fatal(err)
	}
	if !fp.Capped || fp.Reads != 10 {
		t.Fatalf("Find: capped %v reads %d, want true 10", fp.Capped, fp.Reads)
	}
}

// The counts an indexed class's pages are counted from follow every kind of
// write: inserts through Apply, reclassification and deletes. Pages of
// several sizes walk each class's records in sys_id order with exact
// totals, for classes counted from the index and for cmdb, which has no
// index and is counted key by key.
func TestSelectCountsFollowWrites(t *testing.T) {
	e := openDisk(t)
	ctx := context.Background()
	classes := []string{"cmdb_ci_linux_server", "cmdb_ci_win_server", "cmdb_ci_computer"}
	var items []string
	for i := range 240 {
		items = append(items, fmt.Sprintf(`{"className":%q,"values":{"name":"h%d","serial_number":"s%d"}}`, classes[i%3], i, i))
	}
	res := apply(t, e, mustDecode(t, `{"items":[`+strings.Join(items, ",")+`]}`))
	items = items[:0]
	for i := 0; i < 240; i += 9 { // linux and computer records become Windows servers
		items = append(items, fmt.Sprintf(`{"className":"cmdb_ci_win_server","values":{"name":"h%d","serial_number":"s%d"}}`, i, i))
	}
	apply(t, e, mustDecode(t, `{"items":[`+strings.Join(items, ",")+`]}`))
	for i := 0; i < 240; i += 7 {
		if _, err := e.Delete(ctx, res.Items[i].SysID, engine.DeleteOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	checkClean(t, e)
	for _, class := range []string{"cmdb_ci", "cmdb_ci_computer", "cmdb_ci_server", "cmdb_ci_win_server", "cmdb_ci_linux_server", "cmdb"} {
		in := map[string]bool{}
		for _, c := range e.Rules().Descendants(class) {
			in[c] = true
		}
		var want []string
		if err := e.Records(ctx, func(r *store.Record) error {
			if in[r.Class] {
				want = append(want, r.SysID)
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		slices.Sort(want)
		for _, limit := range []int{1, 7, 50} {
			var got []string
			for off := 0; off <= len(want); off += limit {
				pg, err := e.Select(ctx, engine.Selection{Class: class, Offset: off, Limit: limit})
				if err != nil {
					t.Fatal(err)
				}
				if pg.Total != len(want) {
					t.Fatalf("%s offset %d: total %d, want %d", class, off, pg.Total, len(want))
				}
				for _, rec := range pg.Records {
					got = append(got, rec.SysID)
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Fatalf("%s in pages of %d (-want +got):\n%s", class, limit, diff)
			}
		}
	}
}
