package engine_test

import (
	"context"
	"strings"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/identify"
	"github.com/irego/irego/rules"
)

// referenceItems fill a reference attribute with the sys_id another item
// of the payload resolves to, whatever the items' order.
func TestReferenceItems(t *testing.T) {
	e := openEngine(t)
	res := applyResult(t, e, "SCCM", `{"items":[
		{"className":"cmdb_ci_computer","internal_id":"vm","values":{"name":"guest1"}},
		{"className":"cmdb_ci_computer","internal_id":"hv","values":{"name":"hypervisor1"},
		 "related":[{"className":"cmdb_sam_sw_install","internal_id":"sw","values":{"publisher":"P","display_name":"D","version":"1"}}]}],
	 "referenceItems":[{"referenced":"hv","referencedBy":"vm","referenceField":"host"},
	                   {"referenced":"vm","referencedBy":"sw","referenceField":"licensed_for"}]}`)
	vm, hv := res.Items[0], res.Items[1]
	if vm.Operation != "INSERT" || hv.Operation != "INSERT" {
		t.Fatalf("%s", jsonText(res))
	}
	if got := storedValue(t, e, vm.SysID, "host"); got != hv.SysID {
		t.Fatalf("guest1.host = %v, want the hypervisor %s", got, hv.SysID)
	}
	if got := storedValue(t, e, hv.RelatedItems[0].SysID, "licensed_for"); got != vm.SysID {
		t.Fatalf("install.licensed_for = %v, want %s", got, vm.SysID)
	}
	// The same payload again changes nothing.
	again := applyResult(t, e, "SCCM", `{"items":[
		{"className":"cmdb_ci_computer","internal_id":"hv","values":{"name":"hypervisor1"}},
		{"className":"cmdb_ci_computer","internal_id":"vm","values":{"name":"guest1"}}],
	 "referenceItems":[{"referenced":"hv","referencedBy":"vm","referenceField":"host"}]}`)
	if again.Items[0].Operation != "NO_CHANGE" || again.Items[1].Operation != "NO_CHANGE" {
		t.Fatalf("again, in another order: %s", jsonText(again))
	}
	requireClean(t, e)
}

// display_values stand for a reference given by its display value.
func TestDisplayValues(t *testing.T) {
	e := openEngine(t)
	a := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"d1"},"display_values":{"location":"Paris"}}]}`)
	if got := storedValue(t, e, a.SysID, "location"); got != "Paris" {
		t.Fatalf("location = %v", got)
	}
	b := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"d2","location":"0123456789abcdef0123456789abcdef"},"display_values":{"location":"Paris"}}]}`)
	if got := storedValue(t, e, b.SysID, "location"); got != "0123456789abcdef0123456789abcdef" {
		t.Fatalf("a sys_id in values wins over the display value: %v", got)
	}
}

// Relations may join lookup and related records by internal_id.
func TestRelationToRelatedRecord(t *testing.T) {
	e := openEngine(t)
	res := applyResult(t, e, "SCCM", `{"items":[
		{"className":"cmdb_ci_computer","values":{"name":"r1"},
		 "lookup":[{"className":"cmdb_ci_network_adapter","internal_id":"nic","values":{"name":"eth0","mac_address":"aa:bb"}}],
		 "related":[{"className":"cmdb_sam_sw_install","internal_id":"sw","values":{"publisher":"P","display_name":"D","version":"1"}}]},
		{"className":"cmdb_ci_computer","internal_id":"other","values":{"name":"r2"}}],
	 "relations":[{"type":"Depends on::Used by","parent_id":"other","child_id":"sw"},
	              {"type":"Contains::Contained by","parent_id":"other","child_id":"nic"}]}`)
	var sw, nic string
	for _, r := range res.Items[0].RelatedItems {
		if r.ClassName == "cmdb_sam_sw_install" {
			sw = r.SysID
		} else {
			nic = r.SysID
		}
	}
	r0, r1 := res.Relations[0], res.Relations[1]
	if r0.Operation != "INSERT" || r0.Child != sw || r0.Parent != res.Items[1].SysID || r1.Operation != "INSERT" || r1.Child != nic {
		t.Fatalf("%s", jsonText(res))
	}
	ci, err := e.Get(context.Background(), sw)
	if err != nil || len(ci.Inbound) != 1 || ci.Inbound[0].Other.SysID != res.Items[1].SysID {
		t.Fatalf("install's inbound relations: %+v %v", ci, err)
	}
	requireClean(t, e)
}

// A dependent CI named by its sys_id needs no parent chain.
func TestDependentBySysID(t *testing.T) {
	e := openEngine(t)
	res := applyResult(t, e, "AWS", `{"items":[
		{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"a1"}},
		{"className":"cmdb_ci_aws_datacenter","values":{"object_id":"eu-west-1"}}],
	 "relations":[{"type":"Hosted on::Hosts","parent":1,"child":0}]}`)
	dc := res.Items[1].SysID
	got := applyFrom(t, e, "AWS", `{"items":[{"className":"cmdb_ci_aws_datacenter","values":{"sys_id":"`+dc+`","name":"Ireland"}}]}`)
	if got.SysID != dc || got.Operation != "UPDATE" || got.ErrorCount != 0 {
		t.Fatalf("datacenter by sys_id alone: %s", jsonText(got))
	}
	requireClean(t, e)
}

const fallbackRules = `
relation_types: ["Runs on::Runs"]
classes:
  - name: cmdb_ci
  - name: cmdb_ci_computer
    extends: cmdb_ci
  - name: cmdb_ci_appl
    extends: cmdb_ci
  - name: cmdb_ci_app_server
    extends: cmdb_ci_appl
duplicates:
  threshold: 3
identification:
  - name: Computer
    applies_to: cmdb_ci_computer
    entries:
      - priority: 100
        attributes: [name]
      - priority: 200
        attributes: [asset_tag]
        active: false
  - name: Application
    applies_to: cmdb_ci_appl
    entries:
      - priority: 100
        attributes: [name]
        filter: 'install_status != "7"'
  - name: App Server
    applies_to: cmdb_ci_app_server
    allow_fallback: true
    entries:
      - priority: 100
        attributes: [install_directory]
    depends_on:
      - class: cmdb_ci_computer
        relation: "Runs on::Runs"
        direction: item_to_parent
`

// An entry's active flag and filter, a dependent rule's fallback to its
// parent class's rule, and the duplicate threshold, from a rule file.
func TestRuleFeatures(t *testing.T) {
	rs, err := rules.Load("fallback.yaml", []byte(fallbackRules))
	if err != nil {
		t.Fatal(err)
	}
	e, err := engine.Open(t.TempDir(), engine.Options{Rules: rs})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	// active: false — the asset tag entry is never tried.
	a := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"h1","asset_tag":"T1"}}]}`)
	b := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"asset_tag":"T1"}}]}`)
	if a.Operation != "INSERT" || b.ErrorCount != 1 || b.Errors[0].Code != identify.MissingMatchingAttributes {
		t.Fatalf("inactive entry: %s\n%s", jsonText(a), jsonText(b))
	}
	for _, at := range b.IdentificationAttempts {
		if strings.Contains(strings.Join(at.Attributes, ","), "asset_tag") {
			t.Fatalf("an inactive entry was tried: %s", jsonText(b.IdentificationAttempts))
		}
	}
	// filter — a retired application (install_status 7) is not matched.
	old := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_appl","values":{"name":"billing","install_status":"7"}}]}`)
	fresh := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_appl","values":{"name":"billing"}}]}`)
	if fresh.Operation != "INSERT" || fresh.SysID == old.SysID {
		t.Fatalf("the filter keeps the retired application out: %s", jsonText(fresh))
	}
	// allow_fallback — an app server its own rule cannot find is found
	// by the Application rule and upgraded.
	res := applyResult(t, e, "SCCM", `{"items":[
		{"className":"cmdb_ci_app_server","values":{"name":"billing","install_directory":"/opt/billing"}},
		{"className":"cmdb_ci_computer","values":{"name":"h1"}}],
	 "relations":[{"type":"Runs on::Runs","parent":0,"child":1}]}`)
	if got := res.Items[0]; got.SysID != fresh.SysID || got.Operation != "UPDATE_WITH_UPGRADE" {
		t.Fatalf("fallback to the Application rule: %s", jsonText(got))
	}
	again := applyResult(t, e, "SCCM", `{"items":[
		{"className":"cmdb_ci_app_server","values":{"name":"billing","install_directory":"/opt/billing"}},
		{"className":"cmdb_ci_computer","values":{"name":"h1"}}],
	 "relations":[{"type":"Runs on::Runs","parent":0,"child":1}]}`)
	if got := again.Items[0]; got.SysID != fresh.SysID || got.Operation != "NO_CHANGE" {
		t.Fatalf("then by its own rule: %s", jsonText(got))
	}
	// threshold 3: two CIs sharing a name still match, three do not.
	applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_appl","values":{"name":"billing"}}]}`)
	applyFrom(t, e, "X", `{"items":[{"className":"cmdb_ci_appl","values":{"name":"crm","install_status":"7"}}]}`)
	applyFrom(t, e, "X", `{"items":[{"className":"cmdb_ci_appl","values":{"name":"crm","install_status":"7"}}]}`)
	requireClean(t, e)
}
