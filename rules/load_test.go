package rules

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// hdr declares what the identification cases below refer to; their rules
// start on line 4.
const hdr = `relation_types: ["Hosted on::Hosts"]
classes: [{name: a}, {name: b, extends: a}, {name: c}]
identification:
`

// rhdr declares what the reconciliation and reclassification cases refer
// to: b and c under a share rule R, d has rule S. Their section starts on
// line 3.
const rhdr = `classes: [{name: a}, {name: b, extends: a}, {name: c, extends: a}, {name: d}]
identification: [{name: R, applies_to: a, entries: [{priority: 1, attributes: [x]}]}, {name: S, applies_to: d, entries: [{priority: 1, attributes: [x]}]}]
`

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want []string // every message, in order
	}{
		// Syntax and shape. A syntax error carries the line yaml.v3 reports,
		// here one short of the unclosed list on line 3.
		{"yaml syntax", "classes:\n  - name: a\n  - [b\n",
			[]string{`t.yaml:2: YAML: did not find expected ',' or ']'`}},
		{"empty file", "# nothing here\n",
			[]string{`t.yaml:1: empty rule file`}},
		{"two documents", "classes: []\n---\nclasses: []\n",
			[]string{`t.yaml:2: more than one YAML document; a rule file holds one`}},
		{"top level not a mapping", "- a\n",
			[]string{`t.yaml:1: expected a mapping, got a list`}},
		{"unknown top-level field", "classes: []\nrules: []\n",
			[]string{`t.yaml:2: unknown field "rules"`}},
		{"repeated key", "classes: []\nclasses: []\n",
			[]string{`t.yaml:2: key "classes" repeated (first at line 1)`}},
		{"alias", "classes:\n  - &x {name: a}\n  - *x\n",
			[]string{`t.yaml:3: classes[1]: expected a mapping, got an alias (anchors and aliases are not supported)`}},

		// Relation types.
		{"bad relation type", "relation_types: [\"Hosted on\"]\n",
			[]string{`t.yaml:1: relation_types[0]: bad relation type "Hosted on": want "Parent descriptor::Child descriptor"`}},
		{"duplicate relation type", "relation_types:\n  - \"Hosted on::Hosts\"\n  - \"Hosted on::Hosts\"\n",
			[]string{`t.yaml:3: relation_types[1]: duplicate relation type "Hosted on::Hosts" (first at line 2)`}},
		{"relation type not a string", "relation_types: [1]\n",
			[]string{`t.yaml:1: relation_types[0]: expected a string, got integer "1"`}},

		// Classes.
		{"class without name", "classes:\n  - name: a\n  - extends: a\n",
			[]string{`t.yaml:3: classes[1]: missing name`}},
		{"duplicate class", "classes:\n  - name: a\n  - name: a\n",
			[]string{`t.yaml:3: class "a": duplicate class (first at line 2)`}},
		{"unknown extends", "classes:\n  - name: a\n    extends: b\n",
			[]string{`t.yaml:3: class "a": extends: unknown class "b"`}},
		{"extends cycle", "classes:\n  - name: a\n    extends: b\n  - name: b\n    extends: a\n  - name: c\n    extends: a\n",
			[]string{`t.yaml:3: class "a": extends: cycle a -> b -> a`}},
		{"extends itself", "classes:\n  - {name: a, extends: a}\n",
			[]string{`t.yaml:2: class "a": extends: cycle a -> a`}},
		{"unknown class field", "classes:\n  - name: a\n    parent: b\n",
			[]string{`t.yaml:3: class "a": unknown field "parent"`}},
		{"empty values list", "classes:\n  - name: a\n    values:\n      status: []\n",
			[]string{`t.yaml:4: class "a": values: attribute "status" has no allowed values`}},
		{"required not a list", "classes:\n  - name: a\n    required: name\n",
			[]string{`t.yaml:3: class "a": required: expected a list, got string "name"`}},

		// Identification rules.
		{"rule without name", hdr + "  - applies_to: a\n    entries: [{priority: 1, attributes: [x]}]\n",
			[]string{`t.yaml:4: identification[0]: missing name`}},
		{"unknown applies_to", hdr + "  - name: R\n    applies_to: nope\n    entries: [{priority: 1, attributes: [x]}]\n",
			[]string{`t.yaml:5: rule "R": applies_to: unknown class "nope"`}},
		{"two rules on one class", hdr +
			"  - name: R1\n    applies_to: a\n    entries: [{priority: 1, attributes: [x]}]\n" +
			"  - name: R2\n    applies_to: a\n    entries: [{priority: 1, attributes: [x]}]\n",
			[]string{`t.yaml:8: rule "R2": applies_to: class "a" already has rule "R1" (line 4)`}},
		{"duplicate rule name", hdr +
			"  - name: R1\n    applies_to: a\n    entries: [{priority: 1, attributes: [x]}]\n" +
			"  - name: R1\n    applies_to: b\n    entries: [{priority: 1, attributes: [x]}]\n",
			[]string{`t.yaml:7: rule "R1": duplicate rule name (first at line 4)`}},
		{"no entries", hdr + "  - name: R\n    applies_to: a\n    entries: []\n",
			[]string{`t.yaml:6: rule "R": entries: no entries; at least one is needed`}},
		{"entries missing", hdr + "  - name: R\n    applies_to: a\n",
			[]string{`t.yaml:4: rule "R": missing entries`}},
		{"entry without attributes", hdr + "  - name: R\n    applies_to: a\n    entries:\n      - priority: 1\n",
			[]string{`t.yaml:7: rule "R": entries[0]: missing attributes`}},
		{"entry with empty attributes", hdr + "  - name: R\n    applies_to: a\n    entries:\n      - priority: 1\n        attributes: []\n",
			[]string{`t.yaml:8: rule "R": entries[0].attributes: no attributes; at least one is needed`}},
		{"duplicate attribute", hdr + "  - name: R\n    applies_to: a\n    entries:\n      - priority: 1\n        attributes: [x, y]\n      - priority: 2\n        attributes:\n          - x\n          - y\n          - x\n",
			[]string{`t.yaml:13: rule "R": entries[1].attributes: duplicate attribute "x"`}},
		{"negative priority", hdr + "  - name: R\n    applies_to: a\n    entries:\n      - priority: -5\n        attributes: [x]\n",
			[]string{`t.yaml:7: rule "R": entries[0].priority: negative priority -5`}},
		{"priority not an integer", hdr + "  - name: R\n    applies_to: a\n    entries:\n      - priority: \"1\"\n        attributes: [x]\n",
			[]string{`t.yaml:7: rule "R": entries[0].priority: expected an integer, got string "1"`}},
		{"bad when", hdr + "  - name: R\n    applies_to: a\n    entries:\n      - priority: 1\n        attributes: [x]\n        when: 'x =='\n",
			[]string{`t.yaml:9: rule "R": entries[0].when: bad condition "x ==": unexpected token EOF (1:4)`}},
		{"unknown entry field", hdr + "  - name: R\n    applies_to: a\n    entries:\n      - priority: 1\n        attributes: [x]\n        condition: x\n",
			[]string{`t.yaml:9: rule "R": entries[0]: unknown field "condition"`}},
		{"allow_null not a boolean", hdr + "  - name: R\n    applies_to: a\n    entries:\n      - priority: 1\n        attributes: [x]\n        allow_null: yes\n",
			[]string{`t.yaml:9: rule "R": entries[0].allow_null: expected true or false, got string "yes"`}},

		// Dependencies.
		{"unknown direction", hdr + "  - name: R\n    applies_to: b\n    entries: [{priority: 1, attributes: [x]}]\n    depends_on:\n      - class: c\n        relation: \"Hosted on::Hosts\"\n        direction: sideways\n",
			[]string{`t.yaml:10: rule "R": depends_on[0].direction: unknown direction "sideways": want item_to_parent or parent_to_item`}},
		{"depends_on unknown class and relation", hdr + "  - name: R\n    applies_to: b\n    entries: [{priority: 1, attributes: [x]}]\n    depends_on:\n      - class: nope\n        relation: \"Runs on::Runs\"\n        direction: item_to_parent\n",
			[]string{
				`t.yaml:8: rule "R": depends_on[0].class: unknown class "nope"`,
				`t.yaml:9: rule "R": depends_on[0].relation: unknown relation type "Runs on::Runs" (declare it under relation_types)`,
			}},
		{"depends_on missing direction", hdr + "  - name: R\n    applies_to: b\n    entries: [{priority: 1, attributes: [x]}]\n    depends_on:\n      - {class: c, relation: \"Hosted on::Hosts\"}\n",
			[]string{`t.yaml:8: rule "R": depends_on[0]: missing direction`}},
		{"independent but depends_on", hdr + "  - name: R\n    applies_to: b\n    independent: true\n    entries: [{priority: 1, attributes: [x]}]\n    depends_on: [{class: c, relation: \"Hosted on::Hosts\", direction: item_to_parent}]\n",
			[]string{`t.yaml:6: rule "R": independent: true, but the rule has depends_on`}},
		{"dependent without depends_on", hdr + "  - name: R\n    applies_to: b\n    independent: false\n    entries: [{priority: 1, attributes: [x]}]\n",
			[]string{`t.yaml:6: rule "R": independent: false, but the rule has no depends_on`}},

		// Related entries.
		{"related class unknown", hdr + "  - name: R\n    applies_to: a\n    entries: [{priority: 1, attributes: [x]}]\n    related:\n      - class: nope\n        referenced_field: on\n        entries: [{priority: 1, attributes: [y]}]\n",
			[]string{`t.yaml:8: rule "R": related[0].class: unknown class "nope"`}},
		{"related class twice", hdr + "  - name: R\n    applies_to: a\n    entries: [{priority: 1, attributes: [x]}]\n    related:\n      - {class: c, referenced_field: on, entries: [{priority: 1, attributes: [y]}]}\n      - {class: c, referenced_field: on, entries: [{priority: 2, attributes: [z]}]}\n",
			[]string{`t.yaml:9: rule "R": related[1].class: class "c" is already related at line 8`}},
		{"related without referenced_field", hdr + "  - name: R\n    applies_to: a\n    entries: [{priority: 1, attributes: [x]}]\n    related:\n      - class: c\n        entries: [{priority: 1, attributes: [y]}]\n",
			[]string{`t.yaml:8: rule "R": related[0]: missing referenced_field`}},
		{"referenced_field as criterion", hdr + "  - name: R\n    applies_to: a\n    entries: [{priority: 1, attributes: [x]}]\n    related:\n      - class: c\n        referenced_field: installed_on\n        entries:\n          - priority: 1\n            attributes: [name, installed_on]\n",
			[]string{`t.yaml:12: rule "R": related[0].entries[0].attributes: attribute "installed_on" is the referenced_field; it holds the main item's sys_id and cannot be a criterion`}},

		// Every problem is reported, sorted by line, whatever the order
		// the sections are read in.
		{"all problems sorted by line", "identification:\n  - name: R\n    applies_to: zz\n    entries: []\nclasses:\n  - name: a\n    extends: q\nrelation_types: [bad]\n",
			[]string{
				`t.yaml:3: rule "R": applies_to: unknown class "zz"`,
				`t.yaml:4: rule "R": entries: no entries; at least one is needed`,
				`t.yaml:7: class "a": extends: unknown class "q"`,
				`t.yaml:8: relation_types[0]: bad relation type "bad": want "Parent descriptor::Child descriptor"`,
			}},

		// Reconciliation rules: policies and update with null.
		{"unknown policy", rhdr + "reconciliation:\n  - {applies_to: a, attributes: [y], policy: biggest}\n",
			[]string{`t.yaml:4: reconciliation[0].policy: unknown policy "biggest" (one of latest, largest, smallest, most_reported)`}},
		{"policy and prefer", rhdr + "reconciliation:\n  - applies_to: a\n    attributes: [y]\n    prefer: 'incoming > current'\n    policy: largest\n",
			[]string{`t.yaml:7: reconciliation[0].policy: a rule has a policy or a prefer condition, not both`}},
		{"update_with_null outside attributes", rhdr + "reconciliation:\n  - applies_to: a\n    attributes: [y]\n    sources: [{name: A, priority: 1}]\n    update_with_null: [y, z]\n",
			[]string{`t.yaml:7: reconciliation[0].update_with_null: attribute "z" is not among the rule's attributes`}},
		{"update_with_null on a dynamic rule", rhdr + "reconciliation:\n  - applies_to: a\n    attributes: [y]\n    policy: largest\n    update_with_null: [y]\n",
			[]string{`t.yaml:7: reconciliation[0].update_with_null: a dynamic rule (prefer or policy) chooses among reported values; only a static rule clears attributes with nulls`}},
		{"two dynamic rules for one attribute", rhdr + "reconciliation:\n" +
			"  - {applies_to: a, attributes: [y], sources: [{name: A, priority: 1}]}\n" +
			"  - {applies_to: a, attributes: [y], policy: largest}\n" +
			"  - {applies_to: a, attributes: [y], policy: smallest}\n",
			[]string{`t.yaml:6: reconciliation[2].attributes: attribute "y" of class "a" is already covered by a dynamic rule at line 5`}},
		{"two dynamic all-attributes rules", rhdr + "reconciliation:\n  - {applies_to: a, attributes: all, policy: latest}\n  - {applies_to: a, attributes: all, policy: latest}\n",
			[]string{`t.yaml:5: reconciliation[1]: class "a" already has a dynamic all-attributes reconciliation rule (line 4)`}},
		{"no sources, prefer or policy", rhdr + "reconciliation:\n  - {applies_to: a, attributes: [y]}\n",
			[]string{`t.yaml:4: reconciliation[0]: missing sources (a rule needs sources, a prefer condition or a policy)`}},

		// Reclassification.
		{"unknown reclassification field", rhdr + "reclassification:\n  upgrades: false\n",
			[]string{`t.yaml:4: reclassification: unknown field "upgrades"`}},
		{"reclassification switch not a boolean", rhdr + "reclassification:\n  switch: no way\n",
			[]string{`t.yaml:4: reclassification.switch: expected true or false, got string "no way"`}},
		{"restriction with unknown class and type", rhdr + "reclassification:\n  restrictions:\n  - {name: r, from: b, to: nope, type: upgrade}\n",
			[]string{
				`t.yaml:5: reclassification.restrictions[0].to: unknown class "nope"`,
				`t.yaml:5: reclassification.restrictions[0].type: unknown type "upgrade" (downgrade or switch; upgrades are not restricted)`,
			}},
		{"restriction missing fields", rhdr + "reclassification:\n  restrictions:\n  - {from: b}\n",
			[]string{
				`t.yaml:5: reclassification.restrictions[0]: missing name`,
				`t.yaml:5: reclassification.restrictions[0]: missing to`,
				`t.yaml:5: reclassification.restrictions[0]: missing type`,
			}},
		{"downgrade to a non-ancestor", rhdr + "reclassification:\n  restrictions:\n  - {name: r, from: b, to: c, type: downgrade}\n",
			[]string{`t.yaml:5: reclassification.restrictions[0]: never applies: a downgrade goes to an ancestor, and "c" is not an ancestor of "b"`}},
		{"switch on one branch", rhdr + "reclassification:\n  restrictions:\n  - {name: r, from: b, to: a, type: switch}\n",
			[]string{`t.yaml:5: reclassification.restrictions[0]: never applies: a switch goes to another branch, and "b" and "a" are on one branch`}},
		{"restriction across rules", rhdr + "reclassification:\n  restrictions:\n  - {name: r, from: b, to: d, type: switch}\n",
			[]string{`t.yaml:5: reclassification.restrictions[0]: "b" and "d" do not share an identification rule, so a CI never moves between them`}},
		{"same class", rhdr + "reclassification:\n  restrictions:\n  - {name: r, from: b, to: b, type: switch}\n",
			[]string{`t.yaml:5: reclassification.restrictions[0]: from and to are both "b"`}},
		{"inherited switch still on one branch", rhdr + "reclassification:\n  restrictions:\n  - {name: r, from: a, from_inheritance: true, to: a, type: switch}\n",
			[]string{`t.yaml:5: reclassification.restrictions[0]: never applies: a switch goes to another branch, and "a" and "a" are on one branch`}},
		{"duplicate restriction name", rhdr + "reclassification:\n  restrictions:\n  - {name: r, from: b, to: a, type: downgrade}\n  - {name: r, from: c, to: a, type: downgrade}\n",
			[]string{`t.yaml:6: reclassification.restrictions[1].name: duplicate restriction name "r" (first at line 5)`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rs, err := Load("t.yaml", []byte(tt.in))
			if err == nil {
				t.Fatalf("Load succeeded (%d classes); want errors:\n%s", len(rs.Classes()), strings.Join(tt.want, "\n"))
			}
			if rs != nil {
				t.Error("Load returned a rule set along with its errors")
			}
			var list ErrorList
			if !errors.As(err, &list) {
				t.Fatalf("error is %T, want ErrorList", err)
			}
			if diff := cmp.Diff(tt.want, strings.Split(err.Error(), "\n")); diff != "" {
				t.Errorf("messages (-want +got):\n%s", diff)
			}
		})
	}
}

func TestErrorFields(t *testing.T) {
	_, err := Load("t.yaml", []byte(hdr+"  - name: R\n    applies_to: a\n    entries:\n      - priority: 1\n        attributes: [x, x]\n"))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("errors.As(%v, *Error) failed", err)
	}
	want := &Error{File: "t.yaml", Line: 8, Rule: "R", Field: "entries[0].attributes", Reason: `duplicate attribute "x"`}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("error (-want +got):\n%s", diff)
	}
}

func TestLoadJSON(t *testing.T) {
	rs, err := LoadFile(filepath.Join("testdata", "minimal.json"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"Account Rule on cmdb_ci_cloud_service_account: [100 account_id]",
		"Datacenter Rule on cmdb_ci_logical_datacenter: [100 object_id allow_null]" +
			"; depends on cmdb_ci_cloud_service_account via Hosted on::Hosts parent_to_item",
	}
	if diff := cmp.Diff(want, summarize(rs)); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}
	if r := rs.Rules()[1]; r.Line != 15 || r.Independent() {
		t.Errorf("Datacenter Rule: line %d, independent %v; want line 15, dependent", r.Line, r.Independent())
	}

	path := filepath.Join("testdata", "broken.json")
	_, err = LoadFile(path)
	wantErrs := []string{
		path + `:2: relation_types[0]: bad relation type "Hosted on": want "Parent descriptor::Child descriptor"`,
		path + `:5: class "cmdb_ci_hardware": unknown field "colour"`,
		path + `:12: rule "Hardware Rule": entries[0].priority: expected an integer, got string "high"`,
	}
	if err == nil {
		t.Fatal("broken.json loaded")
	}
	if diff := cmp.Diff(wantErrs, strings.Split(err.Error(), "\n")); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

func TestLoadFileMissing(t *testing.T) {
	if _, err := LoadFile(filepath.Join("testdata", "no-such-file.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("err = %v, want one wrapping os.ErrNotExist", err)
	}
}

func TestInheritance(t *testing.T) {
	rs, err := LoadFile(filepath.Join("testdata", "override.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	wantRuleOf := map[string]string{"base": "Base Rule", "mid": "Mid Rule", "leaf": "Mid Rule", "other": "Base Rule", "install": ""}
	if diff := cmp.Diff(wantRuleOf, ruleOf(rs)); diff != "" {
		t.Errorf("rule in force (-want +got):\n%s", diff)
	}

	// Mid's own rule replaced Base's entirely: its related entries too.
	leaf, _ := rs.Class("leaf")
	other, _ := rs.Class("other")
	install, _ := rs.Class("install")
	if re := leaf.Rule.RelatedFor(install); re != nil {
		t.Errorf("leaf: related entry %+v survived the override", re)
	}
	if re := other.Rule.RelatedFor(install); re == nil {
		t.Error("other: lost the inherited related entry")
	}

	// Priority ascending, ties in file order.
	wantOrder := "Base Rule on base: [100 serial_number] [100 asset_tag] [200 name]" +
		"; related install via installed_on: [100 display_name unique]"
	if got := summarize(rs)[0]; got != wantOrder {
		t.Errorf("Base Rule:\n got %s\nwant %s", got, wantOrder)
	}

	mid, _ := rs.Class("mid")
	for _, c := range []*Class{mid, leaf} {
		if diff := cmp.Diff([]string{"p", "q", "s"}, c.Required); diff != "" {
			t.Errorf("%s required (-want +got):\n%s", c.Name, diff)
		}
		if diff := cmp.Diff(map[string][]string{"t": {"3"}, "u": {"x"}}, c.Allowed); diff != "" {
			t.Errorf("%s allowed (-want +got):\n%s", c.Name, diff)
		}
	}
	if diff := cmp.Diff(map[string][]string{"t": {"1", "2"}, "u": {"x"}}, other.Allowed); diff != "" {
		t.Errorf("other allowed (-want +got):\n%s", diff)
	}
	if install.Required != nil || install.Allowed != nil {
		t.Errorf("install: required %v, allowed %v; want none", install.Required, install.Allowed)
	}
	if !leaf.IsA("base") || leaf.IsA("other") {
		t.Error("leaf.IsA: want base yes, other no")
	}
	if diff := cmp.Diff([]string{"leaf", "mid"}, rs.Descendants("mid")); diff != "" {
		t.Errorf("Descendants(mid) (-want +got):\n%s", diff)
	}
}

func TestEntryID(t *testing.T) {
	rs, err := LoadFile(filepath.Join("testdata", "override.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	id := func(s string) string {
		sum := sha256.Sum256([]byte(s))
		return hex.EncodeToString(sum[:])[:32]
	}
	base := rs.Rules()[0]
	// Sorted order is serial_number (file index 1), asset_tag (2), name (0):
	// the ID follows the entry's place in the file, not its sorted place.
	want := []string{
		id("Base Rule\x001\x00serial_number"),
		id("Base Rule\x002\x00asset_tag"),
		id("Base Rule\x000\x00name"),
	}
	var got []string
	for _, e := range base.Entries {
		got = append(got, e.ID)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entry IDs (-want +got):\n%s", diff)
	}
	if rel := base.Related[0].Entries[0].ID; rel != id("Base Rule\x00install\x000\x00display_name") {
		t.Errorf("related entry ID = %s", rel)
	}

	// Loading again yields the same IDs: they key the identity index.
	again, _ := LoadFile(filepath.Join("testdata", "override.yaml"))
	if again.Rules()[0].Entries[0].ID != want[0] {
		t.Error("entry ID changed between loads")
	}
}

func TestConditions(t *testing.T) {
	rule := Default().Rules()[5]
	total, last := rule.Entries[0].When, rule.Entries[1].When
	tests := []struct {
		name        string
		values      map[string]any
		total, last bool
	}{
		{"total usage", map[string]any{"reclamation_type": "total_usage"}, true, false},
		{"last used date", map[string]any{"reclamation_type": "last_used_date"}, false, true},
		{"other value", map[string]any{"reclamation_type": "other"}, false, false},
		{"null", map[string]any{"reclamation_type": nil}, false, false},
		{"missing attribute", map[string]any{"norm_product": "x"}, false, false},
		{"no values", nil, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, c := range []struct {
				cond *Condition
				want bool
			}{{total, tt.total}, {last, tt.last}} {
				got, err := c.cond.Eval(tt.values)
				if err != nil || got != c.want {
					t.Errorf("%s on %v = %v, %v; want %v", c.cond.Source, tt.values, got, err, c.want)
				}
			}
		})
	}
}
