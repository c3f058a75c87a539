package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

func openDisk(t *testing.T) *engine.Engine {
	t.Helper()
	e, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func mustDecode(t *testing.T, s string) *payload.Payload {
	t.Helper()
	p, err := payload.DecodeBytes([]byte(s))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func byol(t *testing.T) *payload.Payload {
	t.Helper()
	b, err := os.ReadFile("../examples/byol-dedicated-vm.json")
	if err != nil {
		t.Fatal(err)
	}
	return mustDecode(t, string(b))
}

var seedOptions = engine.ApplyOptions{PartialPayloads: false, PartialCommits: true, DeduplicatePayloads: true}

func apply(t *testing.T, e *engine.Engine, p *payload.Payload) *engine.Result {
	t.Helper()
	res, err := e.Apply(context.Background(), "ServiceNow", p, seedOptions)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func ops(res *engine.Result) string {
	var parts []string
	for _, it := range res.Items {
		parts = append(parts, it.Operation)
		for _, r := range it.RelatedItems {
			parts = append(parts, "related:"+r.Operation)
		}
	}
	for _, r := range res.Relations {
		parts = append(parts, "rel:"+r.Operation)
	}
	return strings.Join(parts, " ")
}

func checkClean(t *testing.T, e *engine.Engine) {
	t.Helper()
	problems, err := e.Check(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("store inconsistent:\n%s", strings.Join(problems, "\n"))
	}
}

func countRecords(t *testing.T, e *engine.Engine) map[string]int {
	t.Helper()
	n := map[string]int{}
	if err := e.Records(context.Background(), func(r *store.Record) error { n[r.Class]++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestBYOLInsertThenNoChange(t *testing.T) {
	e := openDisk(t)
	first := apply(t, e, byol(t))
	if first.HasError {
		t.Fatalf("errors: %s", mustJSON(first))
	}
	want := "INSERT related:INSERT INSERT INSERT INSERT INSERT rel:INSERT rel:INSERT rel:INSERT rel:INSERT"
	if got := ops(first); got != want {
		t.Fatalf("first apply: got %s, want %s", got, want)
	}
	second := apply(t, e, byol(t))
	want = "NO_CHANGE related:NO_CHANGE NO_CHANGE NO_CHANGE NO_CHANGE NO_CHANGE rel:NO_CHANGE rel:NO_CHANGE rel:NO_CHANGE rel:NO_CHANGE"
	if got := ops(second); got != want {
		t.Fatalf("second apply: got %s, want %s\n%s", got, want, mustJSON(second))
	}
	for i := range first.Items {
		if first.Items[i].SysID != second.Items[i].SysID || len(first.Items[i].SysID) != 32 {
			t.Errorf("item %d: sys_id %q then %q", i, first.Items[i].SysID, second.Items[i].SysID)
		}
	}
	if a, b := first.Items[0].RelatedItems[0].SysID, second.Items[0].RelatedItems[0].SysID; a != b {
		t.Errorf("install sys_id %s then %s", a, b)
	}
	for i := range first.Relations {
		if first.Relations[i].SysID != second.Relations[i].SysID {
			t.Errorf("relation %d: sys_id changed", i)
		}
	}
	checkClean(t, e)
	if got := countRecords(t, e); len(got) != 6 {
		t.Errorf("records per class: %v", got)
	}
	// The computer reads back with its install and its VM.
	ci, err := e.Get(context.Background(), first.Items[0].SysID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ci.Related) != 1 || len(ci.Outbound) != 1 || ci.Outbound[0].Type != "Virtualized by::Virtualizes" {
		t.Errorf("computer read back: %s", mustJSON(ci))
	}
}

func TestSameDatacenterUnderTwoAccounts(t *testing.T) {
	e := openDisk(t)
	mk := func(account string) *payload.Payload {
		return mustDecode(t, fmt.Sprintf(`{"items":[
			{"className":"cmdb_ci_aws_datacenter","values":{"object_id":"us-east-1"}},
			{"className":"cmdb_ci_cloud_service_account","values":{"account_id":%q}}],
			"relations":[{"type":"Hosted on::Hosts","parent":0,"child":1}]}`, account))
	}
	a := apply(t, e, mk("111"))
	b := apply(t, e, mk("222"))
	if a.HasError || b.HasError {
		t.Fatalf("errors: %s %s", mustJSON(a), mustJSON(b))
	}
	if a.Items[0].SysID == b.Items[0].SysID {
		t.Fatalf("one datacenter for two accounts: %s", a.Items[0].SysID)
	}
	if b.Items[0].Operation != "INSERT" {
		t.Errorf("second datacenter: %s", b.Items[0].Operation)
	}
	again := apply(t, e, mk("111"))
	if again.Items[0].SysID != a.Items[0].SysID || again.Items[0].Operation != "NO_CHANGE" {
		t.Errorf("re-sent datacenter: %s %s", again.Items[0].Operation, again.Items[0].SysID)
	}
	checkClean(t, e)
}

func TestDatacenterWithoutAccount(t *testing.T) {
	e := openDisk(t)
	res := apply(t, e, mustDecode(t, `{"items":[{"className":"cmdb_ci_aws_datacenter","values":{"object_id":"dc-1"}}]}`))
	it := res.Items[0]
	if !res.HasError || it.ErrorCount != 1 || it.Errors[0].Code != "MISSING_DEPENDENCY" {
		t.Fatalf("got %s", mustJSON(res))
	}
	msg := it.Errors[0].Message
	for _, want := range []string{"item 0", "cmdb_ci_aws_datacenter", "Hosted on::Hosts", "cmdb_ci_cloud_service_account", "item is the relation's parent"} {
		if !strings.Contains(msg, want) {
			t.Errorf("message %q lacks %q", msg, want)
		}
	}
	if it.SysID != engine.Unknown {
		t.Errorf("sysId %s", it.SysID)
	}
	if got := countRecords(t, e); len(got) != 0 {
		t.Errorf("written: %v", got)
	}
}

func TestConcurrentSameNewCIGivesOneCI(t *testing.T) {
	e := openDisk(t)
	var wg sync.WaitGroup
	ids := make([]string, 16)
	for g := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := mustDecode(t, fmt.Sprintf(`{"items":[
				{"className":"cmdb_ci_aws_datacenter","values":{"object_id":"dc-%d"}},
				{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"shared"}}],
				"relations":[{"type":"Hosted on::Hosts","parent":0,"child":1}]}`, g))
			res, err := e.Apply(context.Background(), "ServiceNow", p, seedOptions)
			if err != nil || res.HasError {
				t.Errorf("apply: %v %s", err, mustJSON(res))
				return
			}
			ids[g] = res.Items[1].SysID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("account sys_ids differ: %v", ids)
		}
	}
	n := countRecords(t, e)
	if n["cmdb_ci_cloud_service_account"] != 1 || n["cmdb_ci_aws_datacenter"] != 16 {
		t.Errorf("records: %v", n)
	}
	checkClean(t, e)
}

func mustJSON(v any) string {
	b, _ := json.MarshalIndent(v, "", "  ")
	return string(b)
}

func TestApplyBatchSeesEarlierPayloads(t *testing.T) {
	e := openDisk(t)
	var ps []*payload.Payload
	for range 3 {
		ps = append(ps, byol(t))
	}
	res, err := e.ApplyBatch(context.Background(), "ServiceNow", ps, seedOptions)
	if err != nil {
		t.Fatal(err)
	}
	if ops(res[0]) != ops(apply(t, openDisk(t), byol(t))) || strings.Contains(ops(res[1]), "INSERT") || strings.Contains(ops(res[2]), "INSERT") {
		t.Fatalf("batch results: %q / %q / %q", ops(res[0]), ops(res[1]), ops(res[2]))
	}
	if res[0].Items[0].SysID != res[2].Items[0].SysID {
		t.Fatal("the same computer got two sys_ids within one batch")
	}
	checkClean(t, e)
	if n := countRecords(t, e); n["cmdb_ci_cloud_service_account"] != 1 {
		t.Fatalf("records: %v", n)
	}
}
