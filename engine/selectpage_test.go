package engine_test

import (
	"context"
	"fmt"
	"slices"
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
