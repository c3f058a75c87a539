package engine_test

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
)

// A dry run names the ends of a relation between CIs it would create
// "Unknown", as it names the CIs: a sys_id it made up would name nothing
// (and not what Apply then creates). Ends already stored keep their sys_ids.
func TestIdentifyReportsNewRelationEndsAsUnknown(t *testing.T) {
	e := openDisk(t)
	p := mustDecode(t, `{"items":[
		{"className":"cmdb_ci_aws_datacenter","values":{"object_id":"r1"}},
		{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"a1"}}],
		"relations":[{"type":"Hosted on::Hosts","parent":0,"child":1}]}`)
	dry, err := e.Identify(context.Background(), "AWS", p, engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r := dry.Relations[0]; r.Operation != "INSERT" || r.Parent != engine.Unknown || r.Child != engine.Unknown || r.SysID != engine.Unknown {
		t.Fatalf("dry run of a relation between new CIs: %+v", r)
	}
	res, err := e.Apply(context.Background(), "AWS", p, engine.DefaultApplyOptions())
	if err != nil || res.HasError {
		t.Fatalf("apply: %v %+v", err, res)
	}
	p.Items = append(p.Items, p.Items[0])
	p.Items[2].Values = map[string]any{"object_id": "r2"}
	p.Relations = append(p.Relations, p.Relations[0])
	p.Relations[1].Parent = 2
	dry, err = e.Identify(context.Background(), "AWS", p, engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	if r := dry.Relations[0]; r.Operation != "NO_CHANGE" || r.Parent != res.Items[0].SysID || r.Child != res.Items[1].SysID {
		t.Fatalf("dry run of a stored relation: %+v, want %s -> %s", r, res.Items[0].SysID, res.Items[1].SysID)
	}
	if r := dry.Relations[1]; r.Operation != "INSERT" || r.Parent != engine.Unknown || r.Child != res.Items[1].SysID {
		t.Fatalf("dry run of a relation from a new CI to a stored one: %+v", r)
	}
}

// An item that would be a new CI but clashes with a stored one over a
// unique identity is not named by a sys_id no CI will ever have.
func TestClashOfANewCINamesNoMadeUpSysID(t *testing.T) {
	e := openDisk(t)
	first, err := e.Apply(context.Background(), "AWS", mustDecode(t, `{"items":[{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"a1","object_id":"o1"}}]}`), engine.DefaultApplyOptions())
	if err != nil || first.HasError {
		t.Fatalf("apply: %v %+v", err, first)
	}
	clash := `{"items":[{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"a1","object_id":"o2"}}]}`
	for _, run := range []func(context.Context, string, *payload.Payload, engine.ApplyOptions) (*engine.Result, error){e.Identify, e.Apply} {
		res, err := run(context.Background(), "AWS", mustDecode(t, clash), engine.DefaultApplyOptions())
		if err != nil || len(res.Items[0].Errors) != 1 {
			t.Fatalf("clash: %v %+v", err, res)
		}
		want := "item 0 (cmdb_ci_cloud_service_account): identified as a new CI, but its values [account_id=\"a1\"] already identify CI " + first.Items[0].SysID
		if is := res.Items[0].Errors[0]; is.Code != "MULTI_MATCH" || !strings.HasPrefix(is.Message, want) {
			t.Fatalf("clash: %+v, want MULTI_MATCH %q…", is, want)
		}
	}
}

// A dry run names the partial payload and the incomplete items it would
// keep "Unknown", as Apply names them by their ids: the same operations,
// and no made-up id.
func TestIdentifyNamesWhatItWouldKeepUnknown(t *testing.T) {
	e := openDisk(t)
	p := mustDecode(t, `{"items":[
		{"className":"cmdb_ci_aws_datacenter","values":{"object_id":"r1"}},
		{"className":"cmdb_ci_computer","values":{"ram":1}}]}`)
	dry, err := e.Identify(context.Background(), "AWS", p, engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.Apply(context.Background(), "AWS", p, engine.DefaultApplyOptions())
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []struct{ op, dry, real string }{
		{"INSERT_AS_PARTIAL", dry.Items[0].PartialSysIDs[0], res.Items[0].PartialSysIDs[0]},
		{"INSERT_AS_INCOMPLETE", strings.Join(dry.Items[1].IncompleteSysIDs, ","), strings.Join(res.Items[1].IncompleteSysIDs, ",")},
	} {
		if dry.Items[i].Operation != want.op || res.Items[i].Operation != want.op || want.dry != engine.Unknown || want.real == engine.Unknown || want.real == "" {
			t.Fatalf("item %d: dry run %s %q, apply %s %q; want %s, Unknown and an id", i, dry.Items[i].Operation, want.dry, res.Items[i].Operation, want.real, want.op)
		}
	}
}

// A dry run's attempts, messages and explanations name the CIs it would
// create "Unknown" too: here a name found two of them.
func TestIdentifyNamesNewCIsUnknownInTexts(t *testing.T) {
	e := openDisk(t)
	// Two computers named h1 with other serial numbers are two new CIs; the
	// item with only the name finds both.
	p := mustDecode(t, `{"items":[
		{"className":"cmdb_ci_computer","values":{"name":"h1","serial_number":"S1"}},
		{"className":"cmdb_ci_computer","values":{"name":"h1"}},
		{"className":"cmdb_ci_computer","values":{"name":"h1","serial_number":"S2"}},
		{"className":"cmdb_ci_computer","values":{"name":"localhost","serial_number":"S3"},"lookup":[{"className":"cmdb_serial_number","values":{"serial_number":"S1","serial_number_type":"system"}}]}]}`)
	o := engine.DefaultApplyOptions()
	o.Explain = true
	dry, err := e.Identify(context.Background(), "AWS", p, o)
	if err != nil {
		t.Fatal(err)
	}
	text := fmt.Sprintf("%+v", dry)
	if id := regexp.MustCompile(`[0-9a-f]{32}`).FindString(text); id != "" {
		t.Fatalf("the dry run names %s, which no CI has:\n%s", id, text)
	}
	if !strings.Contains(text, "2 CIs hold these values (Unknown, Unknown)") {
		t.Fatalf("the dry run does not say which CIs the name found:\n%s", text)
	}
}
