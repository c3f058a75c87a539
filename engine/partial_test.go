package engine_test

import (
	"context"
	"testing"

	"github.com/irego/irego/engine"
)

const dcBeforeAccount = `{"items":[
 {"className":"cmdb_ci_aws_datacenter","values":{"object_id":"us-east-1","name":"US East"}},
 {"className":"cmdb_ci_vm_instance","values":{"object_id":"i-1","name":"vm1"}}],
 "relations":[{"type":"Hosted on::Hosts","parent":1,"child":0}]}`

const accountWithDC = `{"items":[
 {"className":"cmdb_ci_cloud_service_account","values":{"account_id":"a1"}},
 {"className":"cmdb_ci_aws_datacenter","values":{"object_id":"us-east-1"}}],
 "relations":[{"type":"Hosted on::Hosts","parent":1,"child":0}]}`

func TestDatacenterBeforeAccountIsKeptAndCompleted(t *testing.T) {
	e := openDisk(t)
	ctx := context.Background()
	res, err := e.Apply(ctx, "AWS", mustDecode(t, dcBeforeAccount), engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.HasError || !res.HasWarning || ops(res) != "INSERT_AS_PARTIAL INSERT_AS_PARTIAL rel:INSERT_AS_PARTIAL" {
		t.Fatalf("first payload: %s hasError=%v\n%s", ops(res), res.HasError, mustJSON(res))
	}
	if res.Items[0].Warnings[0].Code != "MISSING_DEPENDENCY" || res.Items[1].Warnings[0].Code != "ABANDONED" {
		t.Fatalf("reasons: %s", mustJSON(res.Items))
	}
	if n := countRecords(t, e); len(n) != 0 {
		t.Fatalf("nothing may be stored yet: %v", n)
	}
	parts, err := e.Partials()
	if err != nil || len(parts) != 1 {
		t.Fatalf("partials: %v %v", parts, err)
	}

	res, err = e.Apply(ctx, "AWS", mustDecode(t, accountWithDC), engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if res.HasError || ops(res) != "INSERT INSERT rel:INSERT" || len(res.AdditionalCommittedItems) != 1 || len(res.AdditionalCommittedRelations) != 1 {
		t.Fatalf("completing payload: %s\n%s", ops(res), mustJSON(res))
	}
	if got := res.Items[1].MergedPayloadIDs; len(got) != 1 || got[0] != parts[0].ID {
		t.Fatalf("mergedPayloadIds %v, want [%s]", got, parts[0].ID)
	}
	vm := res.AdditionalCommittedItems[0]
	if vm.ClassName != "cmdb_ci_vm_instance" || vm.Operation != "INSERT" {
		t.Fatalf("additional item: %+v", vm)
	}
	dc, err := e.Get(ctx, res.Items[1].SysID)
	if err != nil {
		t.Fatal(err)
	}
	if dc.Values["name"] != "US East" || len(dc.Inbound) != 1 || len(dc.Outbound) != 1 {
		t.Fatalf("the datacenter carries the partial's name and both relations: %s", mustJSON(dc))
	}
	if parts, _ := e.Partials(); len(parts) != 0 {
		t.Fatalf("merged partials are deleted: %v", parts)
	}
	checkClean(t, e)
	if n := countRecords(t, e); n["cmdb_ci_vm_instance"] != 1 || n["cmdb_ci_aws_datacenter"] != 1 || n["cmdb_ci_cloud_service_account"] != 1 {
		t.Fatalf("records: %v", n)
	}
}

func TestIncompleteItemsAreRecordedNotRetried(t *testing.T) {
	e := openDisk(t)
	res, err := e.Apply(context.Background(), "AWS", mustDecode(t, `{"items":[{"className":"no_such_class","values":{"name":"x"}}]}`), engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if !res.HasError || res.Items[0].Errors[0].Code != "INVALID_INPUT_DATA" {
		t.Fatalf("%s", mustJSON(res))
	}
	inc, err := e.Incomplete()
	if err != nil || len(inc) != 1 || inc[0].Errors[0].Code != "INVALID_INPUT_DATA" {
		t.Fatalf("incomplete: %+v %v", inc, err)
	}
	if parts, _ := e.Partials(); len(parts) != 0 {
		t.Fatalf("an unknown class is not partial: %v", parts)
	}
}
