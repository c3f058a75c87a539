package engine_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/identify"
	"github.com/irego/irego/rules"
)

// Identification that finds several CIs records one open task per group,
// however often the group is found; a dismissed group found again gets a
// new task; a group at the threshold gets one too.
func TestDuplicateTasksFromApply(t *testing.T) {
	e := openEngine(t)
	ctx := context.Background()
	l1 := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S1","name":"localhost"}}]}`)
	l2 := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S2","name":"localhost"}}]}`)
	if ts, _ := e.DuplicateTasks(ctx, ""); len(ts) != 0 {
		t.Fatalf("tasks before any multiple match: %s", jsonText(ts))
	}
	for range 3 {
		applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"localhost","ram":2}}]}`)
	}
	ts, err := e.DuplicateTasks(ctx, engine.TaskOpen)
	if err != nil || len(ts) != 1 {
		t.Fatalf("open tasks after three reports by name: %s %v", jsonText(ts), err)
	}
	task := ts[0]
	if !slices.Equal(task.CIs, []string{l1.SysID, l2.SysID}) || task.Number != "DUP0000001" || task.Source != "SCCM" ||
		task.Values["name"] != "localhost" {
		t.Fatalf("task: %s", jsonText(task))
	}
	if got, err := e.DuplicateTask(ctx, "dup0000001"); err != nil || got.SysID != task.SysID {
		t.Fatalf("by number: %v %v", got, err)
	}
	if _, err := e.DuplicateTask(ctx, "DUP9"); !errors.Is(err, engine.ErrTaskNotFound) {
		t.Fatalf("unknown task: %v", err)
	}
	if _, err := e.DismissDuplicates(ctx, task.SysID, "two machines"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.DismissDuplicates(ctx, task.SysID, ""); !errors.Is(err, engine.ErrTaskClosed) {
		t.Fatalf("dismissing twice: %v", err)
	}
	applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"localhost","ram":3}}]}`)
	if ts, _ := e.DuplicateTasks(ctx, engine.TaskOpen); len(ts) != 1 || ts[0].SysID == task.SysID {
		t.Fatalf("found again after dismissal: %s", jsonText(ts))
	}
	// At the threshold nothing is updated, but the group is recorded.
	for i := range 5 {
		applyFrom(t, e, "SCCM", fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"D%d","name":"dup"}}]}`, i))
	}
	got := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"dup","ram":1}}]}`)
	if got.ErrorCount != 1 || got.Errors[0].Code != identify.MultipleDuplicateRecords {
		t.Fatalf("five named dup: %s", jsonText(got))
	}
	if ts, _ := e.DuplicateTasks(ctx, engine.TaskOpen); len(ts) != 2 || len(ts[1].CIs) != 5 {
		t.Fatalf("open tasks after MULTIPLE_DUPLICATE_RECORDS: %s", jsonText(ts))
	}
	// Identify writes nothing, tasks included.
	if _, err := e.Identify(ctx, "SCCM", mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"name":"localhost"}}]}`), engine.DefaultApplyOptions()); err != nil {
		t.Fatal(err)
	}
	if ts, _ := e.DuplicateTasks(ctx, ""); len(ts) != 3 {
		t.Fatalf("%d tasks after identify, want 3", len(ts))
	}
	requireClean(t, e)
}

// oldRules are the default rules as they were before serial numbers
// identified anything alone: three computers sharing a serial number but
// not a name were three CIs.
func oldRules(t *testing.T) *rules.RuleSet {
	t.Helper()
	src := string(rules.DefaultSource())
	const serial = "        unique: true\n        attributes: [serial_number]\n"
	if !strings.Contains(src, serial) {
		t.Fatal("the default rules have no unique serial number entry to make old rules from")
	}
	rs, err := rules.Load("old.yaml", []byte(strings.Replace(src, serial, "        attributes: [serial_number, name]\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// Three computers sharing a serial number, loaded under rules that let
// them, become one task under the default rules, and the merge leaves one
// CI with every relation and install, none twice.
func TestScanAndMergeAfterRuleChange(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	ctx := context.Background()
	old, err := engine.Open(dir, engine.Options{Rules: oldRules(t)})
	if err != nil {
		t.Fatal(err)
	}
	// a, b and c share serial SER; each runs with installs and relations
	// to the switch; a and b both depend on it (one relation after the
	// merge), c depends on a (gone: a CI does not depend on itself).
	res := applyResult(t, old, "SCCM", `{"items":[
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER","name":"a","ram":1},
		 "sys_object_source_info":{"source_native_key":"sccm-a"},
		 "related":[{"className":"cmdb_sam_sw_install","values":{"publisher":"P","display_name":"Chrome","version":"1"}}]},
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER","name":"b","os":"Linux"},
		 "related":[{"className":"cmdb_sam_sw_install","values":{"publisher":"P","display_name":"Chrome","version":"1","install_date":"2024-01-01"}},
		            {"className":"cmdb_sam_sw_install","values":{"publisher":"P","display_name":"Vim","version":"9"}}]},
		{"className":"cmdb_ci_computer","values":{"serial_number":"SER","name":"c"},
		 "related":[{"className":"cmdb_sam_sw_install","values":{"publisher":"P","display_name":"Go","version":"1.26"}}]},
		{"className":"cmdb_ci_computer","values":{"serial_number":"SW","name":"switch"}}],
	  "relations":[{"type":"Depends on::Used by","parent":0,"child":3},{"type":"Depends on::Used by","parent":1,"child":3},
	               {"type":"Depends on::Used by","parent":2,"child":0},{"type":"Runs on::Runs","parent":3,"child":2}]}`)
	if res.HasError {
		t.Fatalf("load: %s", jsonText(res))
	}
	a, b, c, sw := res.Items[0].SysID, res.Items[1].SysID, res.Items[2].SysID, res.Items[3].SysID
	old.Close()

	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if problems, err := e.Check(ctx); err != nil || len(problems) != 2 {
		t.Fatalf("check before the merge: the two newer CIs lack the serial's identity: %q %v", problems, err)
	}
	found, err := e.ScanDuplicates(ctx)
	if err != nil || len(found) != 1 {
		t.Fatalf("scan: %s %v", jsonText(found), err)
	}
	task := found[0]
	if got := slices.Sorted(slices.Values(task.CIs)); !slices.Equal(got, slices.Sorted(slices.Values([]string{a, b, c}))) {
		t.Fatalf("task CIs %v, want %s %s %s", task.CIs, a, b, c)
	}
	if again, err := e.ScanDuplicates(ctx); err != nil || len(again) != 0 {
		t.Fatalf("second scan opened %s %v", jsonText(again), err)
	}

	mr, err := e.MergeDuplicates(ctx, task.Number, engine.MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	main := mr.Main
	if mr.Task.State != engine.TaskMerged || len(mr.Merged) != 2 || mr.RelatedFolded != 1 {
		t.Fatalf("merge: %s", jsonText(mr))
	}
	ci, err := e.Get(ctx, main)
	if err != nil {
		t.Fatal(err)
	}
	// The oldest (they were created together: by content) is main; it keeps
	// its name and gains what only the others had.
	if ci.Values["os"] != "Linux" || ci.Values["serial_number"] != "SER" || ci.Values[identify.DuplicateOf] != nil {
		t.Fatalf("main CI values: %s", jsonText(ci))
	}
	if len(ci.Related) != 3 {
		t.Fatalf("main CI has %d installs, want Chrome, Vim and Go once each: %s", len(ci.Related), jsonText(ci.Related))
	}
	var links []string
	for _, l := range ci.Outbound {
		links = append(links, "out "+l.Type+" "+l.Other.SysID)
	}
	for _, l := range ci.Inbound {
		links = append(links, "in "+l.Type+" "+l.Other.SysID)
	}
	slices.Sort(links)
	want := []string{"in Runs on::Runs " + sw, "out Depends on::Used by " + sw}
	if !slices.Equal(links, want) {
		t.Fatalf("main CI relations %q, want %q", links, want)
	}
	for _, id := range mr.Merged {
		rec, err := e.Record(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Values[identify.DuplicateOf] != main || rec.Values["install_status"] != engine.RetiredStatus || !rec.Retired || len(rec.IdentityKeys) != 0 {
			t.Fatalf("merged CI %s: %s", id, jsonText(rec))
		}
	}
	if n := countClass(t, e, "cmdb_sam_sw_install"); n != 3 {
		t.Fatalf("%d installs, want 3", n)
	}
	requireClean(t, e)

	// The main CI's history shows the merge; the serial now identifies it
	// alone, and the native key of a merged CI leads to it.
	hist, err := e.History(ctx, main)
	if err != nil {
		t.Fatal(err)
	}
	last := hist[len(hist)-1]
	if last.Op != engine.OpMerge || !slices.Equal(last.Merged, mr.Merged) {
		t.Fatalf("history: %s", jsonText(hist))
	}
	by := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"SER","ram":8}}]}`)
	if by.SysID != main || by.Operation != "UPDATE" {
		t.Fatalf("by serial after merge: %s", jsonText(by))
	}
	nk := applyResult(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"ram":16},"sys_object_source_info":{"source_native_key":"sccm-a"}}]}`)
	if nk.Items[0].SysID != main {
		t.Fatalf("by native key of a after merge: %s", jsonText(nk))
	}
	if _, err := e.MergeDuplicates(ctx, task.SysID, engine.MergeOptions{}); !errors.Is(err, engine.ErrTaskClosed) {
		t.Fatalf("merging twice: %v", err)
	}
	requireClean(t, e)
}

// Merging with a chosen main CI, a chosen value and deletion.
func TestMergeChosenMainDeletesAndNoChains(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "db")
	ctx := context.Background()
	old, err := engine.Open(dir, engine.Options{Rules: oldRules(t)})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, n := range []string{"x", "y", "z"} {
		ids = append(ids, applyFrom(t, old, "SCCM", fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"Q","name":%q}}]}`, n)).SysID)
	}
	old.Close()
	e, err := engine.Open(dir, engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	found, err := e.ScanDuplicates(ctx)
	if err != nil || len(found) != 1 {
		t.Fatalf("scan: %v %v", found, err)
	}
	if _, err := e.MergeDuplicates(ctx, found[0].Number, engine.MergeOptions{Main: strings.Repeat("0", 32)}); err == nil {
		t.Fatal("a main CI outside the task was accepted")
	}
	mr, err := e.MergeDuplicates(ctx, found[0].Number, engine.MergeOptions{Main: ids[2], Delete: true, Take: map[string]string{"name": ids[1]}})
	if err != nil {
		t.Fatal(err)
	}
	if mr.Main != ids[2] || !mr.Deleted {
		t.Fatalf("merge: %s", jsonText(mr))
	}
	rec, err := e.Record(ctx, ids[2])
	if err != nil || rec.Values["name"] != "y" {
		t.Fatalf("main CI after taking y's name: %v %v", rec, err)
	}
	for _, id := range ids[:2] {
		if _, err := e.Record(ctx, id); !errors.Is(err, engine.ErrNotFound) {
			t.Fatalf("merged CI %s not deleted: %v", id, err)
		}
	}
	requireClean(t, e)
}

// Payloads racing to report one group of duplicates open one task.
func TestConcurrentDuplicateReportsOpenOneTask(t *testing.T) {
	e := openEngine(t)
	ctx := context.Background()
	for _, serial := range []string{"S1", "S2", "S3"} {
		applyFrom(t, e, "SCCM", fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":%q,"name":"localhost"}}]}`, serial))
	}
	var wg sync.WaitGroup
	for i := range 32 {
		wg.Go(func() {
			_, err := e.Apply(ctx, "SCCM", mustDecode(t, fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"name":"localhost","ram":%d}}]}`, i)), engine.DefaultApplyOptions())
			if err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	tasks, err := e.DuplicateTasks(ctx, "")
	if err != nil || len(tasks) != 1 || len(tasks[0].CIs) != 3 {
		t.Fatalf("tasks: %s %v", jsonText(tasks), err)
	}
	requireClean(t, e)
}

// mergeRules is a small pack with a reconciliation rule for os and a merge
// template for location and ram.
const mergeRules = `
relation_types: ["Depends on::Used by"]
classes:
  - name: cmdb_ci
  - {name: cmdb_ci_hardware, extends: cmdb_ci}
  - {name: cmdb_ci_computer, extends: cmdb_ci_hardware}
identification:
  - name: Hardware Rule
    applies_to: cmdb_ci_hardware
    entries:
      - {priority: 100, unique: true, attributes: [serial_number]}
      - {priority: 200, attributes: [name]}
reconciliation:
  - applies_to: cmdb_ci_hardware
    attributes: [os]
    sources:
      - {name: ServiceNow, priority: 100}
      - {name: SCCM, priority: 200}
duplicates:
  merge: {location: newest, ram: oldest}
`

// A merge takes each value as the options, the merge template and the
// reconciliation rules say, in that order, else the main CI's.
func TestMergeValues(t *testing.T) {
	rs, err := rules.Load("merge.yaml", []byte(mergeRules))
	if err != nil {
		t.Fatal(err)
	}
	if got := rs.Duplicates().Merge; got["location"] != rules.MergeNewest || got["ram"] != rules.MergeOldest {
		t.Fatalf("merge template %v", got)
	}
	for _, take := range []bool{false, true} {
		e, err := engine.Open(t.TempDir(), engine.Options{Rules: rs})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		x := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S1","name":"n","os":"Windows","location":"A","ram":1,"cpu":4}}]}`).SysID
		y := applyFrom(t, e, "ServiceNow", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S2","name":"n","os":"Linux","location":"B","ram":2,"cpu":8,"model":"M"}}]}`).SysID
		applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"n"}}]}`)
		o := engine.MergeOptions{}
		want := map[string]any{"serial_number": "S1", "os": "Linux", "location": "B", "ram": int64(1), "cpu": int64(4), "model": "M"}
		if take {
			o.Take = map[string]string{"os": x, "cpu": y, "model": x} // x has no model: y's stays
			want["os"], want["cpu"] = "Windows", int64(8)
		}
		mr, err := e.MergeDuplicates(ctx, "DUP0000001", o)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := e.Record(ctx, mr.Main)
		if err != nil || mr.Main != x {
			t.Fatalf("main %s, want the oldest %s: %v", mr.Main, x, err)
		}
		for k, v := range want {
			if rec.Values[k] != v {
				t.Errorf("take %v: %s = %#v, want %#v (merged %s)", take, k, rec.Values[k], v, jsonText(mr))
			}
		}
		if _, err := e.MergeDuplicates(ctx, "DUP0000001", o); !errors.Is(err, engine.ErrTaskClosed) {
			t.Fatalf("merged twice: %v", err)
		}
		requireClean(t, e)
		e.Close()
	}
	if _, err := rules.Load("bad.yaml", []byte(strings.Replace(mergeRules, "ram: oldest", "ram: largest", 1))); err == nil ||
		!strings.Contains(err.Error(), `unknown merge winner "largest"`) {
		t.Fatalf("a bad merge winner: %v", err)
	}
}

// A CI merged earlier into one that is merged now names the new main CI:
// duplicate_of never chains.
func TestMergeLeavesNoChains(t *testing.T) {
	e := openEngine(t)
	ctx := context.Background()
	x := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S1","name":"n1"}}]}`).SysID
	y := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S2","name":"n1"}}]}`).SysID
	applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"n1"}}]}`)
	if _, err := e.MergeDuplicates(ctx, "DUP0000001", engine.MergeOptions{Main: y}); err != nil {
		t.Fatal(err)
	}
	z := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S3","name":"n2"}}]}`).SysID
	if got := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S2","name":"n2"}}]}`); got.SysID != y {
		t.Fatalf("serial S2 after the merge: %s, want %s", got.SysID, y)
	}
	applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"n2"}}]}`)
	if _, err := e.MergeDuplicates(ctx, "DUP0000002", engine.MergeOptions{Main: z}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{x, y} {
		rec, err := e.Record(ctx, id)
		if err != nil || rec.Values[identify.DuplicateOf] != z {
			t.Fatalf("%s: duplicate_of %v, want %s: %v", id, rec.Values[identify.DuplicateOf], z, err)
		}
	}
	requireClean(t, e)
	// Named by its sys_id, a merged CI is refused, as in ServiceNow.
	if got := applyFrom(t, e, "SCCM", fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"sys_id":%q,"ram":1}}]}`, x)); got.ErrorCount != 1 ||
		got.Errors[0].Code != identify.InvalidInputData || !strings.Contains(got.Errors[0].Message, "merged into "+z) {
		t.Fatalf("a merged CI by sys_id: %s", jsonText(got))
	}
	// Reported by its old serial number, a merged CI is not found again.
	if got := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S1"}}]}`); got.Operation != "INSERT" {
		t.Fatalf("serial S1 of a merged CI: %s", jsonText(got))
	}
	// The main CI is not deleted while CIs merged into it name it; with
	// cascade they go with it.
	if _, err := e.Delete(ctx, z, engine.DeleteOptions{}); !errors.Is(err, engine.ErrReferenced) || !strings.Contains(err.Error(), "duplicate_of") {
		t.Fatalf("deleting the main CI: %v", err)
	}
	deleted, err := e.Delete(ctx, z, engine.DeleteOptions{Cascade: true})
	if err != nil || !slices.Contains(deleted, x) || !slices.Contains(deleted, y) {
		t.Fatalf("deleting the main CI with cascade: %v %v", deleted, err)
	}
	requireClean(t, e)
}

// Merging two accounts brings their datacenters of one region under the
// main account: a follow-on task names them, and merging it leaves one
// datacenter with both VMs.
func TestMergeDependents(t *testing.T) {
	src := string(rules.DefaultSource())
	const account = "        unique: true\n        attributes: [account_id]\n"
	if !strings.Contains(src, account) {
		t.Fatal("the default rules have no unique account_id entry to make old rules from")
	}
	old, err := rules.Load("old.yaml", []byte(strings.Replace(src, account, "        attributes: [account_id, name]\n", 1)))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "db")
	ctx := context.Background()
	e, err := engine.Open(dir, engine.Options{Rules: old})
	if err != nil {
		t.Fatal(err)
	}
	var vms []string
	for _, n := range []string{"x", "y"} {
		res := applyResult(t, e, "AWS", fmt.Sprintf(`{"items":[
			{"className":"cmdb_ci_vm_instance","values":{"object_id":"vm-%s"}},
			{"className":"cmdb_ci_aws_datacenter","values":{"object_id":"us-east-1"}},
			{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"A1","name":%q}}],
			"relations":[{"type":"Hosted on::Hosts","parent":0,"child":1},{"type":"Hosted on::Hosts","parent":1,"child":2}]}`, n, n))
		if res.HasError {
			t.Fatalf("load: %s", jsonText(res))
		}
		vms = append(vms, res.Items[0].SysID)
	}
	e.Close()
	if e, err = engine.Open(dir, engine.Options{}); err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	found, err := e.ScanDuplicates(ctx)
	if err != nil || len(found) != 1 {
		t.Fatalf("scan: %s %v", jsonText(found), err)
	}
	mr, err := e.MergeDuplicates(ctx, found[0].Number, engine.MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(mr.Dependents) != 1 || len(mr.FollowOn) != 1 {
		t.Fatalf("merge of the accounts: %s", jsonText(mr))
	}
	mr2, err := e.MergeDuplicates(ctx, mr.FollowOn[0], engine.MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, vm := range vms {
		rec, err := e.Record(ctx, vm)
		if err != nil || rec.Scope != mr2.Main {
			t.Fatalf("VM %s lives under %v, want the merged datacenter %s: %v", vm, rec, mr2.Main, err)
		}
	}
	if n := countClass(t, e, "cmdb_ci_aws_datacenter"); n != 2 {
		t.Fatalf("%d datacenters, want the merged one and the retired one", n)
	}
	requireClean(t, e)
	if got := applyResult(t, e, "AWS", `{"items":[
		{"className":"cmdb_ci_vm_instance","values":{"object_id":"vm-y","ram":4}},
		{"className":"cmdb_ci_aws_datacenter","values":{"object_id":"us-east-1"}},
		{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"A1"}}],
		"relations":[{"type":"Hosted on::Hosts","parent":0,"child":1},{"type":"Hosted on::Hosts","parent":1,"child":2}]}`); got.Items[0].SysID != vms[1] || got.Items[0].Operation != "UPDATE" {
		t.Fatalf("vm-y after the merges: %s", jsonText(got))
	}
}
