package payload_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/irego/irego/payload"
)

const fiveClasses = `{"className":"a"},{"className":"b"},{"className":"c"},{"className":"d"},{"className":"e"}`

// A relation that cannot be resolved is kept with the reason, so the rest
// of the payload is still processed (ServiceNow answers INVALID_INPUT_DATA
// for that relation alone).
func TestDecodeInvalidRelations(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"index out of range", `{"items":[` + fiveClasses + `],"relations":[{"type":"a::b","parent":7,"child":1}]}`,
			"relations[0].parent: index 7 out of range (5 items)"},
		{"negative index", `{"items":[` + fiveClasses + `],"relations":[{"type":"a::b","parent":0,"child":-1}]}`,
			"relations[0].child: index -1 out of range (5 items)"},
		{"huge index", `{"items":[` + fiveClasses + `],"relations":[{"type":"a::b","parent":0,"child":1e30}]}`,
			"relations[0].child: index 1e30 out of range (5 items)"},
		{"type missing", `{"items":[` + fiveClasses + `],"relations":[{"parent":0,"child":1}]}`,
			"relations[0]: type is required"},
		{"type blank", `{"items":[` + fiveClasses + `],"relations":[{"type":" ","parent":0,"child":1}]}`,
			"relations[0]: type is required"},
		{"type not string", `{"items":[` + fiveClasses + `],"relations":[{"type":1,"parent":0,"child":1}]}`,
			"relations[0].type: must be a string, got a number"},
		{"self relation", `{"items":[` + fiveClasses + `],"relations":[{"type":"a::b","parent":4,"child":4}]}`,
			"relations[0]: parent and child are the same item (4)"},
		{"fractional index", `{"items":[` + fiveClasses + `],"relations":[{"type":"a::b","parent":1.5,"child":0}]}`,
			"relations[0].parent: must be an integer index into items, got 1.5"},
		{"string not a number", `{"items":[` + fiveClasses + `],"relations":[{"type":"a::b","parent":"x","child":0}]}`,
			`relations[0].parent: must be an integer index into items, got "x"`},
		{"string index out of range", `{"items":[` + fiveClasses + `],"relations":[{"type":"a::b","parent":"9","child":0}]}`,
			"relations[0].parent: index 9 out of range (5 items)"},
		{"parent missing", `{"items":[` + fiveClasses + `],"relations":[{"type":"a::b","child":0}]}`,
			"relations[0]: parent is required (an index into items, or parent_id naming an internal_id)"},
		{"both forms", `{"items":[{"className":"a","internal_id":"a"},{"className":"b"}],"relations":[{"type":"a::b","parent":0,"parent_id":"a","child":1}]}`,
			"relations[0]: give either parent or parent_id, not both"},
		{"unknown internal id", `{"items":[{"className":"a","internal_id":"a"},{"className":"b"}],"relations":[{"type":"a::b","parent_id":"a","child_id":"zz"}]}`,
			`relations[0].child_id: no item has internal_id "zz"`},
		{"internal id not string", `{"items":[{"className":"a"}],"relations":[{"type":"a::b","parent_id":0,"child":0}]}`,
			"relations[0].parent_id: must be a string, got a number"},
		{"self relation by id", `{"items":[{"className":"a","internal_id":"a"},{"className":"b"}],"relations":[{"type":"a::b","parent_id":"a","child":0}]}`,
			"relations[0]: parent and child are the same item (0)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := payload.DecodeBytes([]byte(tt.in))
			if err != nil {
				t.Fatalf("DecodeBytes: %v; want the relation kept as invalid", err)
			}
			r := p.Relations[len(p.Relations)-1]
			if r.Invalid != tt.want {
				t.Errorf("Invalid = %q, want %q", r.Invalid, tt.want)
			}
			if r.Parent != -1 || r.Child != -1 || r.ParentSub != nil || r.ChildSub != nil {
				t.Errorf("invalid relation keeps ends %+v; want -1, -1 and no sub-records", r)
			}
		})
	}
}

// Connectors send indexes as strings; ServiceNow accepts them.
func TestDecodeStringIndexes(t *testing.T) {
	p, err := payload.DecodeBytes([]byte(`{"items":[` + fiveClasses + `],"relations":[{"type":"a::b","parent":"1","child":" 3 "}]}`))
	if err != nil {
		t.Fatal(err)
	}
	want := payload.Relation{Type: "a::b", Parent: 1, Child: 3}
	if diff := cmp.Diff(want, p.Relations[0]); diff != "" {
		t.Errorf("relation (-want +got):\n%s", diff)
	}
}

// Fields this version does not read are listed, never fatal.
func TestDecodeIgnoresUnknownFields(t *testing.T) {
	in := `{"items":[{"className":"c","colour":"red","related":[{"className":"r","weight":1}],
		"sys_object_source_info":{"source_name":"SCCM","x":1}}],
		"relations":[],"extra":1,"options":{}}`
	p, err := payload.DecodeBytes([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"extra", "options", "items[0].colour", "items[0].sys_object_source_info.x", "items[0].related[0].weight"}
	if diff := cmp.Diff(want, p.Ignored); diff != "" {
		t.Errorf("Ignored (-want +got):\n%s", diff)
	}
	if p.Items[0].ClassName != "c" || p.Items[0].SourceInfo.SourceName != "SCCM" || len(p.Items[0].Related) != 1 {
		t.Errorf("known fields lost: %+v", p.Items[0])
	}
}

func TestDecodeLookupDisplayValuesAndReferences(t *testing.T) {
	in := `{"items":[
	  {"className":"cmdb_ci_computer","internal_id":"pc","values":{"name":"pc1"},
	   "display_values":{"location":"Paris"},
	   "lookup":[{"className":"cmdb_serial_number","values":{"serial_number":"S1","serial_number_type":"bios"}},
	             {"className":"cmdb_ci_network_adapter","internal_id":"nic","values":{"mac_address":"00:11"}}],
	   "related":[{"className":"cmdb_software_instance","internal_id":"sw","values":{"name":"x"}}]},
	  {"className":"cmdb_ci_ip_address","internal_id":"ip","values":{"ip_address":"10.0.0.1"}}],
	 "relations":[{"type":"Owns::Owned by","parent_id":"nic","child_id":"ip"}],
	 "referenceItems":[{"referenced":"pc","referencedBy":"sw","referenceField":"installed_on"}]}`
	p, err := payload.DecodeBytes([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	it := p.Items[0]
	if len(it.Lookup) != 2 || it.Lookup[1].InternalID != "nic" || it.Lookup[0].Values["serial_number"] != "S1" {
		t.Errorf("lookup = %+v", it.Lookup)
	}
	if it.DisplayValues["location"] != "Paris" {
		t.Errorf("display_values = %+v", it.DisplayValues)
	}
	wantRel := payload.Relation{Type: "Owns::Owned by", Parent: 0, Child: 1, ParentSub: &payload.SubRef{Lookup: true, Index: 1}}
	if diff := cmp.Diff(wantRel, p.Relations[0]); diff != "" {
		t.Errorf("relation (-want +got):\n%s", diff)
	}
	wantRef := []payload.Reference{{Referenced: "pc", ReferencedBy: "sw", Field: "installed_on"}}
	if diff := cmp.Diff(wantRef, p.References); diff != "" {
		t.Errorf("references (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(p, p.Clone()); diff != "" {
		t.Errorf("Clone (-want +got):\n%s", diff)
	}
}

func TestDecodeReferenceErrors(t *testing.T) {
	for in, want := range map[string]string{
		`{"items":[{"className":"a","internal_id":"a"}],"referenceItems":[{"referenced":"a","referencedBy":"zz","referenceField":"f"}]}`: `payload: referenceItems[0]: no item has internal_id "zz"`,
		`{"items":[{"className":"a","internal_id":"a"}],"referenceItems":[{"referenced":"a","referencedBy":"a"}]}`:                       "payload: referenceItems[0]: referenceField is required (a string)",
		`{"items":[],"referenceItems":[7]}`: "payload: referenceItems[0]: must be an object, got a number",
	} {
		if _, err := payload.DecodeBytes([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("DecodeBytes(%s) = %v, want %q", in, err, want)
		}
	}
}
