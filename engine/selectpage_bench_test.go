package engine_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// BenchmarkSelect pages cmdb_ci over a store of CIs in six classes, as the
// Table API lists it: the first page of 10 (class membership keys only),
// a filter and an order that read records (up to the scan limit), and a
// deep offset. IREGO_BENCH_CIS sets the store's size (default 20000).
func BenchmarkSelect(b *testing.B) {
	n := 20_000
	if s := os.Getenv("IREGO_BENCH_CIS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatalf("IREGO_BENCH_CIS=%q: %v", s, err)
		}
	}
	e, err := engine.Open(b.TempDir(), engine.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	classes := []string{"cmdb_ci_linux_server", "cmdb_ci_win_server", "cmdb_ci_computer", "cmdb_ci_netgear", "cmdb_ci_esx_server", "cmdb_ci_app_server"}
	l := e.Loader()
	for i := range n {
		rec := &store.Record{SysID: fmt.Sprintf("%032x", uint64(i)*0x9e3779b97f4a7c15), Class: classes[i%len(classes)], Created: time.Unix(0, 0),
			Values: map[string]any{"name": fmt.Sprintf("host-%07d", i), "os": []string{"Linux", "Windows", "AIX", "Solaris"}[i%4]}}
		if err := l.PutCI(rec); err != nil {
			b.Fatal(err)
		}
	}
	if err := l.Flush(); err != nil {
		b.Fatal(err)
	}
	if _, err := l.Index(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	name := func(rec *store.Record) []string { return []string{payload.Canonical(rec.Values["name"])} }
	for _, c := range []struct {
		name string
		sel  engine.Selection
	}{
		{"first10", engine.Selection{Limit: 10}},
		{"offset-half", engine.Selection{Offset: n / 2, Limit: 10}},
		{"filter-os", engine.Selection{Limit: 10, Match: func(rec *store.Record) bool { return strings.EqualFold(payload.Canonical(rec.Values["os"]), "aix") }}},
		{"orderby-name", engine.Selection{Limit: 10, SortKey: name}},
	} {
		b.Run(fmt.Sprintf("cis=%d/%s", n, c.name), func(b *testing.B) {
			b.ReportAllocs()
			s := c.sel
			s.Class = "cmdb_ci"
			for b.Loop() {
				pg, err := e.Select(context.Background(), s)
				if err != nil || len(pg.Records) != 10 {
					b.Fatalf("%v: %d records", err, len(pg.Records))
				}
			}
		})
	}
}
