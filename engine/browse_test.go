package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// Paging through a class with BrowseClass visits every record of it and
// its subclasses once, in List's order, whatever the page size.
func TestBrowseClassPagesLikeList(t *testing.T) {
	e, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	p := &payload.Payload{}
	for i := range 60 {
		class := "cmdb_ci_computer"
		if i%3 == 0 {
			class = "cmdb_ci_linux_server"
		}
		p.Items = append(p.Items, payload.Item{ClassName: class, Values: map[string]any{"name": fmt.Sprintf("host-%02d", i), "serial_number": fmt.Sprintf("SN-%02d", i)}})
	}
	if res, err := e.Apply(ctx, "ServiceNow", p, engine.StrictApplyOptions()); err != nil || res.HasError {
		t.Fatalf("apply: %v %+v", err, res)
	}
	var want []string
	if err := e.List(ctx, "cmdb_ci_computer", func(r *store.Record) error { want = append(want, r.SysID); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(want) != 60 {
		t.Fatalf("List found %d, want 60", len(want))
	}
	for _, size := range []int{1, 7, 60, 100} {
		var got []string
		after := ""
		for pages := 0; ; pages++ {
			b, err := e.BrowseClass(ctx, "cmdb_ci_computer", after, size, 1000)
			if err != nil {
				t.Fatal(err)
			}
			if b.Total != 60 || b.Capped {
				t.Fatalf("size %d: total %d capped %v, want 60", size, b.Total, b.Capped)
			}
			for _, r := range b.Records {
				got = append(got, r.SysID)
			}
			if b.Next == "" {
				break
			}
			if pages > 100 {
				t.Fatal("paging does not end")
			}
			after = b.Next
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("size %d: pages differ from List (-want +got):\n%s", size, d)
		}
	}
	// cmdb_ci_computer has an index (cmdb_ci's): counted exactly from it
	// whatever the cap; cmdb has none, so its count stops at the cap.
	b, err := e.BrowseClass(ctx, "cmdb_ci_computer", "", 5, 10)
	if err != nil {
		t.Fatal(err)
	}
	if b.Total != 60 || b.Capped || len(b.Records) != 5 {
		t.Errorf("indexed count: total %d capped %v records %d, want 60 false 5", b.Total, b.Capped, len(b.Records))
	}
	b, err = e.BrowseClass(ctx, "cmdb", "", 5, 10)
	if err != nil {
		t.Fatal(err)
	}
	if b.Total != 10 || !b.Capped || len(b.Records) != 5 {
		t.Errorf("capped count: total %d capped %v records %d, want 10 true 5", b.Total, b.Capped, len(b.Records))
	}
	if _, err := e.BrowseClass(ctx, "no_such_class", "", 5, 10); err != engine.ErrUnknownClass {
		t.Errorf("unknown class: %v, want ErrUnknownClass", err)
	}
}

// FindByIdentity finds CIs by name through the identity index while every
// class holding records identifies by name alone, and declines otherwise.
func TestFindByIdentity(t *testing.T) {
	e, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	ctx := context.Background()
	p := &payload.Payload{}
	for i := range 30 {
		p.Items = append(p.Items, payload.Item{ClassName: "cmdb_ci_computer", Values: map[string]any{"name": fmt.Sprintf("host-%d", i%10), "serial_number": fmt.Sprintf("SN-%02d", i)}})
	}
	p.Items = append(p.Items, payload.Item{ClassName: "cmdb_ci_linux_server", Values: map[string]any{"name": "host-3", "serial_number": "SN-L"}},
		payload.Item{ClassName: "cmdb_ci_computer", Values: map[string]any{"name": "solo", "serial_number": "SN-S"}})
	if res, err := e.Apply(ctx, "ServiceNow", p, engine.StrictApplyOptions()); err != nil || res.HasError {
		t.Fatalf("apply: %v %+v", err, res)
	}
	pg, ok, err := e.FindByIdentity(ctx, "cmdb_ci_computer", "name", "host-3", 0, 100)
	if err != nil || !ok {
		t.Fatalf("FindByIdentity: ok %v, %v", ok, err)
	}
	if pg.Total != 4 || len(pg.Records) != 4 {
		t.Errorf("host-3: total %d, %d records; want 4 (three computers and a Linux server)", pg.Total, len(pg.Records))
	}
	pg, _, _ = e.FindByIdentity(ctx, "cmdb_ci_computer", "name", "solo", 0, 100)
	if pg.Total != 1 || len(pg.Records) != 1 || pg.Records[0].Values["name"] != "solo" {
		t.Errorf("solo, the name of one CI: total %d, %d records; want 1", pg.Total, len(pg.Records))
	}
	pg, _, _ = e.FindByIdentity(ctx, "cmdb_ci_linux_server", "name", "host-3", 0, 100)
	if pg.Total != 1 || pg.Records[0].Class != "cmdb_ci_linux_server" {
		t.Errorf("host-3 among Linux servers: %d, want 1", pg.Total)
	}
	pg, _, _ = e.FindByIdentity(ctx, "cmdb_ci_computer", "name", "host-3", 2, 1)
	if pg.Total != 4 || len(pg.Records) != 1 {
		t.Errorf("offset 2 limit 1: total %d, %d records; want 4 and 1", pg.Total, len(pg.Records))
	}
	if _, ok, _ := e.FindByIdentity(ctx, "cmdb_ci_computer", "serial_number_type", "x", 0, 10); ok {
		t.Errorf("an attribute no entry holds alone was answered from the index")
	}
	acct := &payload.Payload{Items: []payload.Item{{ClassName: "cmdb_ci_cloud_service_account", Values: map[string]any{"account_id": "1", "name": "host-3"}}}}
	if res, err := e.Apply(ctx, "ServiceNow", acct, engine.StrictApplyOptions()); err != nil || res.HasError {
		t.Fatalf("apply: %v %+v", err, res)
	}
	if _, ok, _ := e.FindByIdentity(ctx, "cmdb_ci", "name", "host-3", 0, 10); ok {
		t.Errorf("cmdb_ci holds accounts, which are not identified by name: the index cannot answer")
	}
}
