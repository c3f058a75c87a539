package engine_test

import (
	"context"
	"fmt"
	"strings"
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

// A server whose VM waits for its datacenter's account: the server is
// stored, the VM and the datacenter kept as partial, and the server rides
// in the partial (cut down to what identifies it) to restore the relation.
const serverWithWaitingVM = `{"items":[
 {"className":"cmdb_ci_linux_server","values":{"name":"lnx-1","serial_number":"SN1"},
  "lookup":[{"className":"cmdb_ci_network_adapter","values":{"name":"eth0","mac_address":"02:00:00:00:00:01","ip_address":"%s"}},
            {"className":"cmdb_serial_number","values":{"serial_number":"SN1","serial_number_type":"system"}}],
  "related":[{"className":"cmdb_sam_sw_install","values":{"display_name":"tool 1.0","publisher":"ACME","version":"1.0"}}]},
 {"className":"cmdb_ci_vm_instance","values":{"object_id":"i-9","name":""}},
 {"className":"cmdb_ci_aws_datacenter","values":{"object_id":"us-east-1"}}],
 "relations":[{"type":"Virtualized by::Virtualizes","parent":0,"child":1},{"type":"Hosted on::Hosts","parent":1,"child":2}]}`

// Sending a payload again while part of it waits as a partial payload
// merges that partial back in; the lookup records it carried are the
// payload's own, so they are reported once, as the payload lists them, and
// the partial's older values never win over the payload's.
func TestResentPayloadReportsItsLookupsOnce(t *testing.T) {
	e := openDisk(t)
	ctx := context.Background()
	send := func(ip string) *engine.Result {
		t.Helper()
		res, err := e.Apply(ctx, "ServiceNow", mustDecode(t, fmt.Sprintf(serverWithWaitingVM, ip)), engine.DefaultApplyOptions())
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	first := send("10.0.0.1")
	if got := ops(first); got != "INSERT related:INSERT related:INSERT related:INSERT INSERT_AS_PARTIAL INSERT_AS_PARTIAL rel:INSERT_AS_PARTIAL rel:INSERT_AS_PARTIAL" {
		t.Fatalf("first: %s\n%s", got, mustJSON(first))
	}
	parts, err := e.Partials()
	if err != nil || len(parts) != 1 {
		t.Fatalf("partials: %v %v", parts, err)
	}
	if s := string(parts[0].Payload); strings.Contains(s, "10.0.0.1") || strings.Contains(s, "cmdb_sam_sw_install") || !strings.Contains(s, "02:00:00:00:00:01") {
		t.Fatalf("the server rides in the partial with only what identifies it and its lookups: %s", s)
	}

	again := send("10.0.0.2")
	if got := ops(again); got != "NO_CHANGE related:UPDATE related:NO_CHANGE related:NO_CHANGE INSERT_AS_PARTIAL INSERT_AS_PARTIAL rel:INSERT_AS_PARTIAL rel:INSERT_AS_PARTIAL" {
		t.Fatalf("again: %s\n%s", got, mustJSON(again))
	}
	server := again.Items[0]
	if len(server.MergedPayloadIDs) != 1 || server.MergedPayloadIDs[0] != parts[0].ID {
		t.Fatalf("the partial was merged into the server: %v", server.MergedPayloadIDs)
	}
	for _, r := range server.RelatedItems {
		if len(r.InputIndices) != 1 || len(r.DuplicateIndices) != 0 {
			t.Fatalf("each lookup is the payload's own, once: %s", mustJSON(server.RelatedItems))
		}
	}
	if len(server.AdditionalRelatedItems) != 0 || len(server.RelatedSysIDs) != 2 {
		t.Fatalf("nothing came from the partial but the payload's own lookups: %s", mustJSON(server))
	}
	adapter, err := e.Get(ctx, server.RelatedItems[0].SysID)
	if err != nil || adapter.Values["ip_address"] != "10.0.0.2" {
		t.Fatalf("the newer payload's value wins: %v %v", adapter, err)
	}
	checkClean(t, e)
}

// A record the waiting partial carried and the completing payload does not
// is added to the item and reported under additionalRelatedItems.
func TestRecordsFromAPartialAreAdditionalRelatedItems(t *testing.T) {
	e := openDisk(t)
	ctx := context.Background()
	install := func(name string) string {
		return `{"className":"cmdb_sam_sw_install","values":{"display_name":"` + name + `","publisher":"ACME","version":"1.0","install_location":"/opt/new"}}`
	}
	first, err := e.Apply(ctx, "SCCM", mustDecode(t, `{"items":[{"className":"cmdb_ci_linux_server","values":{"ram":"1024"},
		"sys_object_source_info":{"source_name":"SG","source_native_key":"n-1"},"related":[`+strings.Replace(install("tool A"), "/opt/new", "/opt/old", 1)+`]}]}`), engine.DefaultApplyOptions())
	if err != nil || ops(first) != "INSERT_AS_PARTIAL" {
		t.Fatalf("first: %v %s\n%s", err, ops(first), mustJSON(first))
	}
	done, err := e.Apply(ctx, "SCCM", mustDecode(t, `{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"lnx-2"},
		"sys_object_source_info":{"source_name":"SG","source_native_key":"n-1"},"related":[`+install("tool B")+`,`+install("tool A")+`]}]}`), engine.DefaultApplyOptions())
	if err != nil || ops(done) != "INSERT related:INSERT related:INSERT" {
		t.Fatalf("completing: %v %s\n%s", err, ops(done), mustJSON(done))
	}
	if n := len(done.Items[0].AdditionalRelatedItems); n != 0 || len(done.Items[0].RelatedItems) != 2 {
		t.Fatalf("tool A is the payload's own: %s", mustJSON(done.Items[0]))
	}
	for _, r := range done.Items[0].RelatedItems {
		if got, err := e.Get(ctx, r.SysID); err != nil || got.Values["install_location"] != "/opt/new" {
			t.Fatalf("the completing payload's value wins over the partial's: %v %v", got, err)
		}
	}
	// The same with a partial carrying a record the completing payload lacks.
	if _, err := e.Apply(ctx, "SCCM", mustDecode(t, `{"items":[{"className":"cmdb_ci_linux_server","values":{"ram":"2048"},
		"sys_object_source_info":{"source_name":"SG","source_native_key":"n-2"},"related":[`+install("tool C")+`]}]}`), engine.DefaultApplyOptions()); err != nil {
		t.Fatal(err)
	}
	done, err = e.Apply(ctx, "SCCM", mustDecode(t, `{"items":[{"className":"cmdb_ci_linux_server","values":{"name":"lnx-3"},
		"sys_object_source_info":{"source_name":"SG","source_native_key":"n-2"},"related":[`+install("tool D")+`]}]}`), engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	it := done.Items[0]
	if ops(done) != "INSERT related:INSERT" || len(it.AdditionalRelatedItems) != 1 || it.AdditionalRelatedItems[0].Operation != "INSERT" {
		t.Fatalf("tool C is additional: %s\n%s", ops(done), mustJSON(done))
	}
	ci, err := e.Get(ctx, it.SysID)
	if err != nil || len(ci.Related) != 2 || ci.Values["ram"] != "2048" {
		t.Fatalf("the CI holds both installs and the partial's ram: %s %v", mustJSON(ci), err)
	}
	checkClean(t, e)
}
