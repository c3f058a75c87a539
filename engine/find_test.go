package engine_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/rules"
	"github.com/irego/irego/store"
)

const productClass = "sn_prd_invt_product_inventory"

// product is one test product and the attributes the queries look at.
type product struct{ pid, state, customer, name string }

func products(n int) []product { return productsOf(n, 7) }

// productsOf makes n products: a third in each of three states, spread
// over the given number of customers.
func productsOf(n, customers int) []product {
	out := make([]product, n)
	states := []string{"active", "installation_pending", "inactive"}
	for i := range out {
		out[i] = product{pid: fmt.Sprintf("p%05d", i), state: states[i%3], customer: fmt.Sprintf("c%d", i%customers), name: fmt.Sprintf("n%d", i%5)}
	}
	return out
}

func (p product) item() payload.Item {
	return payload.Item{ClassName: productClass, Values: map[string]any{"pid": p.pid, "state": p.state, "customer": p.customer, "name": p.name}}
}

// loadProducts applies ps in payloads of 500 and returns the sys_id of each.
func loadProducts(t testing.TB, e *engine.Engine, ps []product) []string {
	t.Helper()
	ids := make([]string, 0, len(ps))
	for start := 0; start < len(ps); start += 500 {
		p := &payload.Payload{}
		for _, x := range ps[start:min(start+500, len(ps))] {
			p.Items = append(p.Items, x.item())
		}
		res, err := e.Apply(context.Background(), "ProductInventory", p, engine.StrictApplyOptions())
		if err != nil {
			t.Fatal(err)
		}
		if res.HasError {
			t.Fatalf("apply: %+v", res.Items[0].Errors)
		}
		for _, it := range res.Items {
			ids = append(ids, it.SysID)
		}
	}
	return ids
}

// matching is the sorted sys_ids of the products keep accepts: the model
// Find is held to.
func matching(ps []product, ids []string, keep func(product) bool) []string {
	var out []string
	for i, p := range ps {
		if keep(p) {
			out = append(out, ids[i])
		}
	}
	slices.Sort(out)
	return out
}

func find(t *testing.T, e *engine.Engine, q engine.Query) *engine.Page {
	t.Helper()
	pg, err := e.Find(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	return pg
}

func sysIDs(recs []*store.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.SysID
	}
	return out
}

// checkIndex verifies that every chunk count equals the entries it counts
// and that every record's index keys exist.
func checkIndex(t *testing.T, e *engine.Engine) {
	t.Helper()
	entries := map[string]int64{}
	counts := map[string]int64{}
	err := e.Store().View(func(r store.Reader) error {
		if err := r.Iterate(store.IndexPrefix(), func(k, _ []byte) error {
			ck, err := store.IndexCountKeyOfEntry(k)
			entries[string(ck)]++
			return err
		}); err != nil {
			return err
		}
		return engine.CountsUnder(r, store.IndexCountsPrefix(), func(k []byte, n int64) error {
			counts[string(k)] = n
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(entries, counts); diff != "" {
		t.Errorf("index chunk counts (-entries +counts):\n%s", diff)
	}
}

func TestFindServesPagesFromTheIndex(t *testing.T) {
	e := openDisk(t)
	ps := products(600)
	ids := loadProducts(t, e, ps)
	checkIndex(t, e)
	want := func(keep func(product) bool) []string { return matching(ps, ids, keep) }
	all := want(func(product) bool { return true })
	active := want(func(p product) bool { return p.state == "active" })
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range []struct {
		name  string
		where []engine.Condition
		want  []string
	}{
		{"no condition", nil, all},
		{"state", []engine.Condition{{Attribute: "state", Values: []string{"active"}}}, active},
		{"class", []engine.Condition{{Attribute: rules.IndexedClassAttribute, Values: []string{productClass}}}, all},
	} {
		pg := find(t, e, engine.Query{Class: productClass, Where: c.where, Limit: -1})
		if diff := cmp.Diff(c.want, sysIDs(pg.Records)); diff != "" || pg.Total != len(c.want) || pg.Scanned {
			t.Fatalf("%s: total %d, scanned %v (-want +got):\n%s", c.name, pg.Total, pg.Scanned, diff)
		}
		for range 25 {
			off, lim := rng.IntN(len(c.want)+20), rng.IntN(120)
			pg := find(t, e, engine.Query{Class: productClass, Where: c.where, Offset: off, Limit: lim})
			w := c.want[min(off, len(c.want)):min(off+lim, len(c.want))]
			if diff := cmp.Diff(w, sysIDs(pg.Records), cmpopts.EquateEmpty()); diff != "" || pg.Total != len(c.want) {
				t.Fatalf("%s offset %d limit %d: total %d (-want +got):\n%s", c.name, off, lim, pg.Total, diff)
			}
		}
	}
	if pg := find(t, e, engine.Query{Class: productClass, Limit: 0}); len(pg.Records) != 0 || pg.Total != len(ps) {
		t.Errorf("limit 0: %d records, total %d; want none and %d", len(pg.Records), pg.Total, len(ps))
	}
}

func TestFindCombinesConditions(t *testing.T) {
	e := openDisk(t)
	ps := products(350)
	ids := loadProducts(t, e, ps)
	model := func(keep func(product) bool) []string { return matching(ps, ids, keep) }
	for _, c := range []struct {
		name    string
		where   []engine.Condition
		keep    func(product) bool
		scanned bool
	}{
		{"two indexed", []engine.Condition{{Attribute: "state", Values: []string{"active"}}, {Attribute: "customer", Values: []string{"c3"}}},
			func(p product) bool { return p.state == "active" && p.customer == "c3" }, false},
		{"values are alternatives", []engine.Condition{{Attribute: "state", Values: []string{"active", "inactive"}}, {Attribute: "customer", Values: []string{"c1", "c2"}}},
			func(p product) bool {
				return p.state != "installation_pending" && (p.customer == "c1" || p.customer == "c2")
			}, false},
		{"indexed and not", []engine.Condition{{Attribute: "customer", Values: []string{"c4"}}, {Attribute: "name", Values: []string{"n2"}}},
			func(p product) bool { return p.customer == "c4" && p.name == "n2" }, false},
		{"only unindexed", []engine.Condition{{Attribute: "name", Values: []string{"n1"}}},
			func(p product) bool { return p.name == "n1" }, true},
		{"by sys_id", []engine.Condition{{Attribute: "sys_id", Values: []string{ids[5], ids[6], "nope"}}, {Attribute: "state", Values: []string{ps[5].state}}},
			func(p product) bool { return p.pid == ps[5].pid }, false},
		{"nothing", []engine.Condition{{Attribute: "state", Values: []string{"aborted"}}}, func(product) bool { return false }, false},
	} {
		want := model(c.keep)
		pg := find(t, e, engine.Query{Class: productClass, Where: c.where, Limit: -1})
		got := sysIDs(pg.Records)
		slices.Sort(got)
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" || pg.Total != len(want) || pg.Scanned != c.scanned {
			t.Errorf("%s: total %d, scanned %v (-want +got):\n%s", c.name, pg.Total, pg.Scanned, diff)
		}
		// Pages of the same query add up to the whole answer.
		var paged []string
		for off := 0; off < len(want)+5; off += 7 {
			paged = append(paged, sysIDs(find(t, e, engine.Query{Class: productClass, Where: c.where, Offset: off, Limit: 7}).Records)...)
		}
		if diff := cmp.Diff(sysIDs(pg.Records), paged, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("%s: pages (-whole +pages):\n%s", c.name, diff)
		}
	}
	// Attributes without an index are scanned; the default rules index
	// every CI's name.
	apply(t, e, byol(t))
	pg := find(t, e, engine.Query{Class: "cmdb_ci", Where: []engine.Condition{{Attribute: "name", Values: []string{"AWS DataCenter - 1"}}}, Limit: 10})
	if pg.Total != 1 || pg.Scanned || pg.Records[0].Class != "cmdb_ci_aws_datacenter" {
		t.Errorf("name in cmdb_ci: %+v", pg)
	}
	pg = find(t, e, engine.Query{Class: "cmdb_ci", Where: []engine.Condition{{Attribute: "object_id", Values: []string{pg.Records[0].Values["object_id"].(string)}}}, Limit: 10})
	if pg.Total != 1 || !pg.Scanned || pg.Records[0].Class != "cmdb_ci_aws_datacenter" {
		t.Errorf("unindexed attribute: %+v", pg)
	}
	if _, err := e.Find(context.Background(), engine.Query{Class: "nope"}); !errors.Is(err, engine.ErrUnknownClass) {
		t.Errorf("unknown class: %v", err)
	}
}

func TestIndexFollowsUpdatesAndDeletes(t *testing.T) {
	e := openDisk(t)
	ids := loadProducts(t, e, products(30))
	ctx := context.Background()
	// p00001 becomes inactive: it leaves the active bucket.
	p := &payload.Payload{Items: []payload.Item{{ClassName: productClass, Values: map[string]any{"pid": "p00001", "state": "inactive"}}}}
	if res, err := e.Apply(ctx, "ProductInventory", p, engine.StrictApplyOptions()); err != nil || res.Items[0].Operation != "UPDATE" {
		t.Fatalf("update: %v %+v", err, res)
	}
	active := find(t, e, engine.Query{Class: productClass, Where: []engine.Condition{{Attribute: "state", Values: []string{"active"}}}, Limit: -1})
	if active.Total != 10 || slices.Contains(sysIDs(active.Records), ids[1]) {
		t.Errorf("after the update: %d active, %v", active.Total, sysIDs(active.Records))
	}
	if _, err := e.Delete(ctx, ids[0], engine.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	if pg := find(t, e, engine.Query{Class: productClass, Limit: 0}); pg.Total != 29 {
		t.Errorf("after a delete: %d products", pg.Total)
	}
	checkIndex(t, e)
	checkClean(t, e)
}

func TestIndexRebuiltWhenRulesChange(t *testing.T) {
	dir := t.TempDir()
	small, err := rules.Load("small.yaml", bytes.Replace(rules.DefaultSource(),
		[]byte("indexed: [state, pid, customer, place, product_offering, product_specification, has_pending_relation]"), []byte("indexed: [state]"), 1))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(dir, engine.Options{Rules: small})
	if err != nil {
		t.Fatal(err)
	}
	loadProducts(t, e, products(50))
	byCustomer := engine.Query{Class: productClass, Where: []engine.Condition{{Attribute: "customer", Values: []string{"c2"}}}, Limit: -1}
	if pg := find(t, e, byCustomer); !pg.Scanned || pg.Total != 7 {
		t.Errorf("customer not indexed: scanned %v, total %d", pg.Scanned, pg.Total)
	}
	e.Close()
	if e, err = engine.Open(dir, engine.Options{}); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if pg := find(t, e, byCustomer); pg.Scanned || pg.Total != 7 {
		t.Errorf("customer indexed after reopening with the default rules: scanned %v, total %d", pg.Scanned, pg.Total)
	}
	checkIndex(t, e)
	checkClean(t, e)
}

func TestDeleteRefusesReferencedUnlessCascade(t *testing.T) {
	e := openDisk(t)
	ctx := context.Background()
	res := apply(t, e, byol(t))
	ids := map[string]string{}
	for _, it := range res.Items {
		ids[it.ClassName] = it.SysID
	}
	account := ids["cmdb_ci_cloud_service_account"]
	_, err := e.Delete(ctx, account, engine.DeleteOptions{})
	var re *engine.ReferencedError
	if !errors.As(err, &re) || len(re.By) != 1 || re.By[0].Other.SysID != ids["cmdb_ci_aws_datacenter"] || !strings.Contains(err.Error(), "cascade") {
		t.Fatalf("delete referenced account: %v", err)
	}
	// Cascade takes the account and everything identified under it: the
	// datacenter, the host and the VM; the computer only loses its relation.
	deleted, err := e.Delete(ctx, account, engine.DeleteOptions{Cascade: true})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(deleted)
	want := []string{account, ids["cmdb_ci_aws_datacenter"], ids["cmdb_ci_cloud_host"], ids["cmdb_ci_vm_instance"]}
	slices.Sort(want)
	if diff := cmp.Diff(want, deleted); diff != "" {
		t.Errorf("cascade (-want +got):\n%s", diff)
	}
	ci, err := e.Get(ctx, ids["cmdb_ci_computer"])
	if err != nil || len(ci.Outbound)+len(ci.Inbound) != 0 {
		t.Errorf("computer after cascade: %v %+v", err, ci)
	}
	if _, err := e.Delete(ctx, account, engine.DeleteOptions{}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("delete again: %v", err)
	}
	// The computer goes with its software install (a related record).
	if _, err := e.Delete(ctx, ids["cmdb_ci_computer"], engine.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := e.Records(ctx, func(*store.Record) error { n++; return nil }); err != nil || n != 0 {
		t.Errorf("records left: %d (%v)", n, err)
	}
	checkClean(t, e)
}

func TestApplyRemovingReplacesInOneTransaction(t *testing.T) {
	e := openDisk(t)
	ctx := context.Background()
	p := mustDecode(t, `{"items": [
		{"className": "sn_prd_invt_product_inventory", "values": {"pid": "bundle", "state": "active", "description": "d"},
		 "related": [{"className": "sn_prd_invt_product_characteristics", "values": {"name": "speed", "value": "1G"}},
		             {"className": "sn_prd_invt_product_characteristics", "values": {"name": "colour", "value": "red"}}]},
		{"className": "sn_prd_invt_product_inventory", "values": {"pid": "part", "state": "active"}}],
		"relations": [{"type": "Bundles::Bundled in", "parent": 0, "child": 1}]}`)
	res, err := e.Apply(ctx, "ProductInventory", p, engine.StrictApplyOptions())
	if err != nil || res.HasError {
		t.Fatalf("%v %+v", err, res)
	}
	bundle, part := res.Items[0].SysID, res.Items[1].SysID
	colour := ""
	for _, r := range res.Items[0].RelatedItems {
		if rec, _ := e.Record(ctx, r.SysID); rec.Values["name"] == "colour" {
			colour = r.SysID
		}
	}
	// Drop pid and description, the colour and the relation; set a state.
	rm := engine.Removal{Attributes: map[string][]string{bundle: {"pid", "description"}}, Records: []string{colour},
		Relations: []engine.Unlink{{Type: "Bundles::Bundled in", Parent: bundle, Child: part}}}
	upd := &payload.Payload{Items: []payload.Item{{ClassName: productClass, Values: map[string]any{"sys_id": bundle, "state": "suspended"}}}}
	if res, err = e.ApplyRemoving(ctx, "ProductInventory", upd, rm); err != nil || res.HasError || res.Items[0].Operation != "UPDATE" {
		t.Fatalf("%v %+v", err, res)
	}
	ci, err := e.Get(ctx, bundle)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"state": "suspended"}, ci.Values); diff != "" || len(ci.Related) != 1 || len(ci.Outbound) != 0 {
		t.Errorf("bundle after (-want +got):\n%s\nrelated %v, outbound %v", diff, ci.Related, ci.Outbound)
	}
	hist, err := e.History(ctx, bundle)
	if err != nil || len(hist) != 3 || hist[1].Attributes["pid"].Before != "bundle" || hist[1].Attributes["pid"].After != nil {
		t.Errorf("history: %v %+v", err, hist)
	}
	// The pid no longer identifies the bundle: reporting it makes a new product.
	again := &payload.Payload{Items: []payload.Item{{ClassName: productClass, Values: map[string]any{"pid": "bundle", "state": "active"}}}}
	if res, err := e.Apply(ctx, "ProductInventory", again, engine.StrictApplyOptions()); err != nil || res.Items[0].Operation != "INSERT" {
		t.Errorf("pid after removal: %v %+v", err, res.Items)
	}
	// A failing payload writes nothing, removals included.
	bad := &payload.Payload{Items: []payload.Item{{ClassName: productClass, Values: map[string]any{"sys_id": bundle, "state": "nonsense"}}}}
	res, err = e.ApplyRemoving(ctx, "ProductInventory", bad, engine.Removal{Attributes: map[string][]string{bundle: {"state"}}})
	if err != nil || !res.HasError {
		t.Fatalf("bad payload: %v %+v", err, res)
	}
	if rec, _ := e.Record(ctx, bundle); rec.Values["state"] != "suspended" {
		t.Errorf("a failed ApplyRemoving removed the state: %v", rec.Values)
	}
	checkIndex(t, e)
	checkClean(t, e)
}

func TestNextNumbersNeverRepeat(t *testing.T) {
	e := openDisk(t)
	ctx := context.Background()
	seen := map[int64]bool{}
	for _, n := range []int{1, 3, 1} {
		first, err := e.Next(ctx, "seq", n)
		if err != nil {
			t.Fatal(err)
		}
		for i := range int64(n) {
			if seen[first+i] {
				t.Fatalf("number %d handed out twice", first+i)
			}
			seen[first+i] = true
		}
	}
	if first, _ := e.Next(ctx, "seq", 1); first != 6 {
		t.Errorf("after 5 numbers the next is %d", first)
	}
}
