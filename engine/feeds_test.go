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
	"github.com/irego/irego/identify"
	"github.com/irego/irego/store"
)

func jsonText(v any) string {
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

func openEngine(t *testing.T) *engine.Engine {
	t.Helper()
	e, err := engine.Open(t.TempDir(), engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

func applyResult(t *testing.T, e *engine.Engine, source, body string) *engine.Result {
	t.Helper()
	res, err := e.Apply(context.Background(), source, mustDecode(t, body), engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func requireClean(t *testing.T, e *engine.Engine) {
	t.Helper()
	problems, err := e.Check(context.Background())
	if err != nil || len(problems) > 0 {
		t.Fatalf("check: %q %v", problems, err)
	}
}

func countClass(t *testing.T, e *engine.Engine, class string) int {
	t.Helper()
	n := 0
	if err := e.List(context.Background(), class, func(*store.Record) error { n++; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// An empty or blank value is no value: it never identifies a CI.
func TestEmptyValuesNeverIdentify(t *testing.T) {
	e := openEngine(t)
	a := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"","serial_number":"E1"}}]}`)
	b := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"","serial_number":"E2"}}]}`)
	c := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"  ","serial_number":"E3"}}]}`)
	if a.Operation != "INSERT" || b.Operation != "INSERT" || c.Operation != "INSERT" || a.SysID == b.SysID || b.SysID == c.SysID {
		t.Fatalf("three machines without names: %s %s, %s %s, %s %s", a.Operation, a.SysID, b.Operation, b.SysID, c.Operation, c.SysID)
	}
	// An item with only blank identifying values cannot be identified.
	d := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":" ","serial_number":""},
		"sys_object_source_info":{"source_native_key":"  "}}]}`)
	if d.ErrorCount != 1 || d.Errors[0].Code != identify.MissingMatchingAttributes {
		t.Fatalf("blank values only: %+v", d)
	}
	for _, at := range d.IdentificationAttempts {
		if at.AttemptResult != identify.Skipped {
			t.Fatalf("a blank value was tried: %+v", d.IdentificationAttempts)
		}
	}
	// Related entries alike: an install with a blank version is not the one without.
	r := applyResult(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"E1"},"related":[
		{"className":"cmdb_sam_sw_install","values":{"publisher":"P","display_name":"D","version":" "}}]}]}`)
	if got := r.Items[0].RelatedItems[0]; got.ErrorCount != 1 || got.Errors[0].Code != identify.MissingMatchingAttributes {
		t.Fatalf("install with a blank version: %+v", got)
	}
	requireClean(t, e)
}

// A relation whose index is out of range fails alone; string indexes work.
func TestBadRelationIndexFailsAlone(t *testing.T) {
	e := openEngine(t)
	res := applyResult(t, e, "ServiceNow", `{"items":[
		{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"a1"}},
		{"className":"cmdb_ci_aws_datacenter","values":{"object_id":"us-east-1"}}],
	  "relations":[{"type":"Hosted on::Hosts","parent":"1","child":"0"},{"type":"Hosted on::Hosts","parent":1,"child":7}]}`)
	if res.Items[0].Operation != "INSERT" || res.Items[1].Operation != "INSERT" || res.Relations[0].Operation != "INSERT" {
		t.Fatalf("items and the good relation: %s", jsonText(res))
	}
	if r := res.Relations[1]; r.ErrorCount != 1 || r.Errors[0].Code != identify.InvalidInputData || !strings.Contains(r.Errors[0].Message, "index 7 out of range (2 items)") {
		t.Fatalf("bad relation: %+v", r)
	}
	requireClean(t, e)
}

// An unknown field changes nothing the known ones do.
func TestUnknownFieldsChangeNothing(t *testing.T) {
	plain := `{"items":[{"className":"cmdb_ci_computer","values":{"name":"u1","serial_number":"U1"}}]}`
	extra := `{"items":[{"className":"cmdb_ci_computer","values":{"name":"u1","serial_number":"U1"},"colour":"red",
		"settings":{"updateWithoutUpgrade":true},"classSwitch":true,"display_values":{"location":"Paris"}}],"future":{"x":1}}`
	e1, e2 := openEngine(t), openEngine(t)
	a, b := applyFrom(t, e1, "SCCM", plain), applyFrom(t, e2, "SCCM", extra)
	if a.Operation != b.Operation || a.ErrorCount+b.ErrorCount != 0 {
		t.Fatalf("plain %+v, with unknown fields %+v", a, b)
	}
}

// The out-of-box Hardware Rule with an SCCM-style payload: serial numbers
// and a network adapter as lookups, installs as related items.
func TestSCCMLookupsThenDiscoveryByMAC(t *testing.T) {
	e := openEngine(t)
	sccm, err := os.ReadFile("../examples/sccm-computer-lookups.json")
	if err != nil {
		t.Fatal(err)
	}
	first := applyResult(t, e, "SCCM", string(sccm))
	it := first.Items[0]
	if it.Operation != "INSERT" || len(it.RelatedItems) != 5 {
		t.Fatalf("first report: %s", jsonText(first))
	}
	for _, r := range it.RelatedItems {
		if r.Operation != "INSERT" || r.ErrorCount != 0 {
			t.Fatalf("related or lookup item: %+v", r)
		}
	}
	if n := len(it.RelatedItems); !it.RelatedItems[0].InputIndices[0].Lookup || it.RelatedItems[n-1].InputIndices[0].Lookup {
		t.Fatalf("lookup items first, then related: %s", jsonText(it.RelatedItems))
	}
	if len(it.RelatedSysIDs) != 3 || it.RelatedSysIDs[2] == nil || *it.RelatedSysIDs[2] != it.RelatedItems[2].SysID {
		t.Fatalf("relatedSysIds name the three lookup records: %s", jsonText(it.RelatedSysIDs))
	}
	again := applyResult(t, e, "SCCM", string(sccm))
	if again.Items[0].Operation != "NO_CHANGE" || again.Items[0].SysID != it.SysID {
		t.Fatalf("second report: %s", jsonText(again))
	}
	for _, r := range again.Items[0].RelatedItems {
		if r.Operation != "NO_CHANGE" {
			t.Fatalf("second report, related or lookup item: %+v", r)
		}
	}
	// Without its native key and serial number, the same machine is still
	// found by its serial number lookup alone.
	bySerial := applyResult(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"ram":16384},
		"lookup":[{"className":"cmdb_serial_number","values":{"serial_number":"4C4C4544-0042-3010-8052-B4C04F385A32","serial_number_type":"uuid"}}]}]}`)
	if got := bySerial.Items[0]; got.SysID != it.SysID || got.IdentificationAttempts[1].AttemptResult != identify.Matched ||
		got.IdentificationAttempts[1].SearchOnTable != "cmdb_serial_number" || got.IdentificationAttempts[0].SearchOnTable != "sys_object_source" {
		t.Fatalf("by serial lookup: %s", jsonText(got))
	}
	disc, err := os.ReadFile("../examples/discovery-by-mac.json")
	if err != nil {
		t.Fatal(err)
	}
	byMAC := applyResult(t, e, "ServiceNow", string(disc)).Items[0]
	if byMAC.SysID != it.SysID || byMAC.Operation != "UPDATE" {
		t.Fatalf("Discovery by MAC address: %s", jsonText(byMAC))
	}
	var last identify.Attempt
	for _, a := range byMAC.IdentificationAttempts {
		last = a
	}
	if last.SearchOnTable != "cmdb_ci_network_adapter" || last.AttemptResult != identify.Matched {
		t.Fatalf("matched by the network adapter entry: %s", jsonText(byMAC.IdentificationAttempts))
	}
	if n := countClass(t, e, "cmdb_ci_computer"); n != 1 {
		t.Fatalf("%d computers, want 1", n)
	}
	requireClean(t, e)
}

// A lookup record of a class the rule does not search is refused alone.
func TestLookupWithoutLookupEntry(t *testing.T) {
	e := openEngine(t)
	res := applyResult(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"l1"},
		"lookup":[{"className":"cmdb_sam_sw_install","values":{"display_name":"x"}}]}]}`)
	it := res.Items[0]
	if it.Operation != "INSERT" || it.RelatedItems[0].ErrorCount != 1 || it.RelatedItems[0].Errors[0].Code != identify.IdentificationRuleForLookupMiss {
		t.Fatalf("%s", jsonText(res))
	}
}

// Names may be shared; serial numbers may not; the first entry that finds
// CIs decides.
func TestSharedNamesAndUniqueSerials(t *testing.T) {
	e := openEngine(t)
	ci1 := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"A","name":"X"}}]}`).SysID
	ci2 := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"B","name":"Y"}}]}`).SysID
	got := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"B","name":"X"}}]}`)
	if got.SysID != ci2 || got.Operation != "UPDATE" {
		t.Fatalf("serial B named X updates CI2 %s: %s", ci2, jsonText(got))
	}
	l1 := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S1","name":"localhost"}}]}`)
	l2 := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S2","name":"localhost"}}]}`)
	if l1.Operation != "INSERT" || l2.Operation != "INSERT" || l1.SysID == l2.SysID {
		t.Fatalf("two localhosts with different serials: %s\n%s", jsonText(l1), jsonText(l2))
	}
	// A report by name alone finds both: the oldest is matched, the
	// attempt says MULTI_MATCH and names them.
	res := applyResult(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"localhost","ram":2}}]}`)
	by := res.Items[0]
	a := by.IdentificationAttempts[len(by.IdentificationAttempts)-1]
	if by.SysID != l1.SysID || by.Operation != "UPDATE" || a.AttemptResult != identify.MultiMatch ||
		!strings.Contains(a.Info, l1.SysID) || !strings.Contains(a.Info, l2.SysID) {
		t.Fatalf("by name alone: %s", jsonText(by))
	}
	if n := countClass(t, e, "cmdb_ci_computer"); n != 4 {
		t.Fatalf("%d computers, want 4 (%s %s and two localhosts)", n, ci1, ci2)
	}
	// Both in one payload: two CIs as well.
	both := applyResult(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S3","name":"ubuntu"}},
		{"className":"cmdb_ci_computer","values":{"serial_number":"S4","name":"ubuntu"}}]}`)
	if both.Items[0].Operation != "INSERT" || both.Items[1].Operation != "INSERT" || both.Items[0].SysID == both.Items[1].SysID {
		t.Fatalf("two ubuntus in one payload: %s", jsonText(both))
	}
	requireClean(t, e)
}

// More CIs than the threshold hold the values: none is updated.
func TestMultipleDuplicateRecords(t *testing.T) {
	e := openEngine(t)
	for i := range 5 {
		applyFrom(t, e, "SCCM", fmt.Sprintf(`{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"D%d","name":"dup"}}]}`, i))
	}
	got := applyFrom(t, e, "SCCM", `{"items":[{"className":"cmdb_ci_computer","values":{"name":"dup","ram":1}}]}`)
	if got.ErrorCount != 1 || got.Errors[0].Code != identify.MultipleDuplicateRecords || got.SysID != engine.Unknown {
		t.Fatalf("five CIs named dup (threshold 5): %s", jsonText(got))
	}
	requireClean(t, e)
}

// Concurrent payloads describing one new CI create one CI; with distinct
// serial numbers and one shared name, one CI each.
func TestConcurrentInsertsOfOneIdentity(t *testing.T) {
	e := openEngine(t)
	const n = 32
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			_, err := e.Apply(context.Background(), "SCCM", mustDecode(t,
				`{"items":[{"className":"cmdb_ci_computer","values":{"name":"web01"}}]}`), engine.DefaultApplyOptions())
			errs <- err
		}()
		go func() {
			defer wg.Done()
			_, err := e.Apply(context.Background(), "SCCM", mustDecode(t, fmt.Sprintf(
				`{"items":[{"className":"cmdb_ci_computer","values":{"name":"shared","serial_number":"C%d"}}]}`, i)), engine.DefaultApplyOptions())
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := countClass(t, e, "cmdb_ci_computer"); got != n+1 {
		t.Fatalf("%d computers, want %d (one web01, %d sharing a name)", got, n+1, n)
	}
	requireClean(t, e)
}
