package ilmt_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"testing"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/license"
)

// TestStreamedListsOrder: over an estate whose quantities tie often, the
// per-server and per-computer lists ordered by quantity keep the ties in
// the order the license package lists them (title, metric, server for
// per-server; computer system, title, metric for peaks), as the lists did
// when they sorted every row, and their pages one after the other give
// the whole list.
func TestStreamedListsOrder(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	if res, err := v.e.Apply(ctx, "AWS", benchEstate(0, 12), engine.DefaultApplyOptions()); err != nil || res.HasError {
		t.Fatalf("apply: %v %+v", err, res)
	}
	v.importNow()
	v.call(request{user: "root", method: "PUT", path: "/api/sam/configs", body: `{"expose_deprecated_api": true}`}, 200, nil)
	day := today.Format("2006-01-02")

	servers, err := v.m.ServerUsage(ctx, license.AllComputers, day)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(servers, func(a, b license.ServerUsage) int { return cmp.Compare(b.Quantity, a.Quantity) })
	var want []string
	for _, u := range servers {
		want = append(want, fmt.Sprintf("%d %d %s %g", u.Server.ID, u.Title.ID, u.Metric.CodeName, u.Quantity))
	}
	perServer := func(page string) []string {
		var out []string
		for _, r := range v.list("viewer", "/api/sam/v2/license_usage_per_server?date="+day+"&order[]=hwm_quantity%20desc"+page).Rows {
			out = append(out, fmt.Sprintf("%v %v %v %v", r["server_id"], r["product_id"], r["metric_code_name"], r["hwm_quantity"]))
		}
		return out
	}
	checkList(t, "per server", want, perServer)

	peaks, _, err := v.m.Peaks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	slices.SortStableFunc(peaks, func(a, b license.PeakUsage) int { return cmp.Compare(b.Value, a.Value) })
	want = nil
	for _, p := range peaks {
		want = append(want, fmt.Sprintf("%d %d %s %g", p.System.ID, p.Title.ID, p.Metric.CodeName, p.Value))
	}
	perComputer := func(page string) []string {
		var rs []map[string]any
		v.call(request{user: "viewer", path: "/api/sam/license_usages?order[]=peak_value%20desc" + page}, 200, &rs)
		var out []string
		for _, r := range rs {
			out = append(out, fmt.Sprintf("%v %v %v %v", r["computer_system_id"], r["software_title_id"], r["metric_name"], r["peak_value"]))
		}
		return out
	}
	checkList(t, "per computer", want, perComputer)
}

// checkList compares a list, whole and in pages of 5, with want.
func checkList(t *testing.T, name string, want []string, get func(page string) []string) {
	t.Helper()
	if len(want) < 20 || want[0] == want[len(want)-1] {
		t.Fatalf("%s: too few rows to show the order: %v", name, want)
	}
	if diff := gocmp.Diff(want, get("")); diff != "" {
		t.Errorf("%s, whole (-sorted in memory +served):\n%s", name, diff)
	}
	var pages []string
	for off := 0; off <= len(want); off += 5 {
		pages = append(pages, get(fmt.Sprintf("&limit=5&offset=%d", off))...)
	}
	if diff := gocmp.Diff(want, pages); diff != "" {
		t.Errorf("%s, in pages (-sorted in memory +served):\n%s", name, diff)
	}
}
