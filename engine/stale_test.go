package engine_test

import (
	"context"
	"testing"
	"time"

	"github.com/irego/irego/engine"
)

func account(id string) string {
	return `{"items":[{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"` + id + `"}}]}`
}

func TestStaleRecordsOfOneSource(t *testing.T) {
	c := newClock()
	e := openWith(t, c, nil)
	ctx := context.Background()
	a1 := applyFrom(t, e, "AWS", account("a1")).SysID
	a2 := applyFrom(t, e, "AWS", account("a2")).SysID
	a3 := applyFrom(t, e, "AWS", account("a3")).SysID
	applyFrom(t, e, "ServiceNow", account("a3")) // another source vouches for a3

	c.advance(24 * time.Hour)
	run := c.Now()
	applyFrom(t, e, "AWS", account("a1")) // the full run reports only a1

	q := engine.StaleQuery{Source: "AWS", RunStart: run}
	list, err := e.Stale(ctx, q)
	if err != nil || len(list) != 1 || list[0].SysID != a2 {
		t.Fatalf("stale list %+v, %v; want only a2 (%s)", list, err, a2)
	}
	q.Retention = 48 * time.Hour
	if list, _ := e.Stale(ctx, q); len(list) != 0 {
		t.Fatalf("within the retention period nothing is stale: %+v", list)
	}
	q.Retention = 0

	q.Action = engine.StaleRetire
	if _, err := e.Stale(ctx, q); err != nil {
		t.Fatal(err)
	}
	if rec, _ := e.Record(ctx, a2); rec == nil || !rec.Retired {
		t.Fatalf("a2 retired: %+v", rec)
	}
	if got := applyFrom(t, e, "AWS", account("a2")); got.Operation != "UPDATE" || got.SysID != a2 {
		t.Fatalf("a retired CI reported again comes back: %+v", got)
	}
	if rec, _ := e.Record(ctx, a2); rec.Retired {
		t.Fatal("a2 still retired after being reported")
	}

	c.advance(24 * time.Hour)
	q = engine.StaleQuery{Source: "AWS", RunStart: c.Now(), Action: engine.StaleDelete}
	applyFrom(t, e, "AWS", account("a2"))
	gone, err := e.Stale(ctx, q)
	if err != nil || len(gone) != 1 || gone[0].SysID != a1 {
		t.Fatalf("deleted %+v, %v; want a1", gone, err)
	}
	if _, err := e.Get(ctx, a1); err != engine.ErrNotFound {
		t.Fatalf("a1 after delete: %v", err)
	}
	if _, err := e.Get(ctx, a3); err != nil {
		t.Fatalf("a3, vouched for by ServiceNow, stays: %v", err)
	}
	checkClean(t, e)
	if got := applyFrom(t, e, "AWS", account("a1")); got.Operation != "INSERT" {
		t.Fatalf("a deleted CI's identity is free again: %+v", got)
	}
}
