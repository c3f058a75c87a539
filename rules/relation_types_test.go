package rules

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRelationTypeSpellings(t *testing.T) {
	rs, err := Load("t.yaml", []byte(`
relation_types:
  - name: "Owns::Owned by"
    suggested: [[computer, adapter]]
  - "Hosted on::Hosts"
  - "IP Connection::IP Connection"
classes: [{name: computer}, {name: adapter}]
`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		spelling, want string
		reversed, ok   bool
	}{
		{"Owns::Owned by", "Owns::Owned by", false, true},
		{"Owned by::Owns", "Owns::Owned by", true, true},
		{"Owned By::Owns", "Owns::Owned by", true, true},
		{" owns :: owned  BY", "Owns::Owned by", false, true},
		{"Hosts::Hosted on", "Hosted on::Hosts", true, true},
		{"IP Connection::IP Connection", "IP Connection::IP Connection", false, true},
		{"Owns::Hosts", "", false, false},
		{"Owns", "", false, false},
	}
	for _, tc := range tests {
		rt, reversed, ok := rs.RelationType(tc.spelling)
		name := ""
		if rt != nil {
			name = rt.Name
		}
		if name != tc.want || reversed != tc.reversed || ok != tc.ok {
			t.Errorf("RelationType(%q) = %q, reversed %v, ok %v; want %q, %v, %v", tc.spelling, name, reversed, ok, tc.want, tc.reversed, tc.ok)
		}
	}
	rt, _, _ := rs.RelationType("Owns::Owned by")
	if diff := cmp.Diff([]ClassPair{{Parent: "computer", Child: "adapter"}}, rt.Suggested); diff != "" {
		t.Errorf("suggested (-want +got):\n%s", diff)
	}
	if rs.HasRelationType("Owned by::Owns") {
		t.Error("HasRelationType accepts the reversed spelling; it answers for declared names only")
	}
}

// A dependency may name a type the other way round: it is stored as the
// declared type with the direction flipped, so it meets relations as stored.
func TestDependencyReversedSpelling(t *testing.T) {
	rs, err := Load("t.yaml", []byte(`
relation_types: ["Owns::Owned by"]
classes: [{name: computer}, {name: adapter}]
identification:
  - name: Adapter
    applies_to: adapter
    entries: [{priority: 1, attributes: [name]}]
    depends_on: [{class: computer, relation: "Owned by::Owns", direction: item_to_parent}]
`))
	if err != nil {
		t.Fatal(err)
	}
	d := rs.Rules()[0].DependsOn[0]
	if d.Relation != "Owns::Owned by" || d.Direction != ParentToItem {
		t.Errorf("dependency = %s %s, want Owns::Owned by parent_to_item", d.Relation, d.Direction)
	}
}

func TestRelationTypeErrors(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"reverse declared too", `relation_types: ["Owns::Owned by", "Owned by::Owns"]`,
			`t.yaml:1: relation_types[1]: relation type "Owned by::Owns" is the type at line 1 read the other way round`},
		{"other case", `relation_types: ["Owns::Owned by", "Owns::Owned By"]`,
			`t.yaml:1: relation_types[1]: duplicate relation type "Owns::Owned By" (first at line 1)`},
		{"unknown suggested class", "relation_types: [{name: \"Owns::Owned by\", suggested: [[a, nope]]}]\nclasses: [{name: a}]",
			`t.yaml:1: relation_types[0].suggested[0]: unknown class "nope"`},
		{"pair of three", "relation_types: [{name: \"Owns::Owned by\", suggested: [[a, a, a]]}]\nclasses: [{name: a}]",
			`t.yaml:1: relation_types[0].suggested[0]: want [parent class, child class], got 3 entries`},
		{"mapping without name", `relation_types: [{suggested: []}]`,
			`t.yaml:1: relation_types[0]`},
		{"unknown key", `relation_types: [{name: "A::B", parents: []}]`,
			`t.yaml:1: relation_types[0]`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Load("t.yaml", []byte(tc.in))
			if err == nil {
				t.Fatal("loaded; want an error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error:\n%v\nwant it to contain:\n%s", err, tc.want)
			}
		})
	}
}
