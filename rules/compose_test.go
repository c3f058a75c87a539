package rules

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// A file extending the default pack adds, changes, deactivates and removes
// items without copying the pack.
func TestComposeExtendsDefault(t *testing.T) {
	src := `extends: default
relation_types:
  - "Likes::Liked by"
classes:
  - name: u_kiosk
    extends: cmdb_ci_hardware
identification:
  - name: Kiosk Rule
    applies_to: u_kiosk
    entries:
      - priority: 100
        unique: true
        attributes: [asset_tag]
change:
  classes:
    - name: cmdb_ci_linux_server
      required: [name]
  identification:
    - name: Hardware Rule
      entries:
        - priority: 100
          unique: true
          attributes: [serial_number]
        - priority: 50
          attributes: [name]
    - name: Tomcat
      active: false
remove:
  relation_types: ["Member of::Members"]
duplicates:
  threshold: 3
`
	rs, err := Load("mine.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	if got, want := len(rs.Classes()), len(def.Classes())+1; got != want {
		t.Errorf("%d classes, want %d", got, want)
	}
	if got, want := len(rs.RelationTypes()), len(def.RelationTypes()); got != want {
		t.Errorf("%d relation types, want %d (one added, one removed)", got, want)
	}
	if rs.HasRelationType("Members::Member of") || !rs.HasRelationType("Likes::Liked by") {
		t.Errorf("relation types: Members %v, Likes %v", rs.HasRelationType("Members::Member of"), rs.HasRelationType("Likes::Liked by"))
	}
	kiosk, _ := rs.Class("u_kiosk")
	if kiosk.Parent == nil || kiosk.Parent.Name != "cmdb_ci_hardware" || kiosk.Rule == nil || kiosk.Rule.Name != "Kiosk Rule" {
		t.Errorf("u_kiosk: %+v", kiosk)
	}
	linux, _ := rs.Class("cmdb_ci_linux_server")
	if !slices.Contains(linux.Required, "name") || linux.Parent.Name != "cmdb_ci_server" {
		t.Errorf("cmdb_ci_linux_server changed to required %v, parent %s", linux.Required, linux.Parent.Name)
	}
	if linux.Rule.Name != "Hardware Rule" || len(linux.Rule.Entries) != 2 || linux.Rule.Entries[0].Attributes[0] != "name" {
		t.Errorf("Hardware Rule entries: %v", entryAttrs(linux.Rule.Entries))
	}
	// The pack's related entry of the rule is kept: only entries were given.
	if len(linux.Rule.Related) == 0 || linux.Rule.Related[0].Class != "cmdb_sam_sw_install" {
		t.Errorf("Hardware Rule related entries lost: %v", linux.Rule.Related)
	}
	tomcat, _ := rs.Class("cmdb_ci_app_server_tomcat")
	if tomcat.Rule == nil || tomcat.Rule.Name == "Tomcat" {
		t.Errorf("the deactivated Tomcat rule is in force: %v", tomcat.Rule)
	}
	if len(rs.Rules()) != len(def.Rules()) {
		t.Errorf("%d rules, want %d (one added, one deactivated)", len(rs.Rules()), len(def.Rules()))
	}
	if rs.Duplicates().Threshold != 3 {
		t.Errorf("threshold %d", rs.Duplicates().Threshold)
	}
	// Unchanged rules keep their entry IDs, so stores keep their keys.
	if a, b := ruleNamed(rs, "Cloud Host Rule"), ruleNamed(def, "Cloud Host Rule"); a.Entries[0].ID != b.Entries[0].ID {
		t.Error("an unchanged rule's entry ID changed")
	}
}

func entryAttrs(es []*Entry) [][]string {
	var out [][]string
	for _, e := range es {
		out = append(out, e.Attributes)
	}
	return out
}

func ruleNamed(rs *RuleSet, name string) *Rule {
	for _, r := range rs.Rules() {
		if r.Name == name {
			return r
		}
	}
	return nil
}

// Changes and removals of things the pack lacks, and additions of things it
// has, are errors at the offending line of the file.
func TestComposeErrors(t *testing.T) {
	for _, tc := range []struct{ src, want string }{
		{"extends: default\nchange:\n  classes:\n    - name: cmdb_ci_nope\n      required: [a]\n",
			`mine.yaml:4: change.classes[0].name: no class "cmdb_ci_nope" in default.yaml to change`},
		{"extends: default\nchange:\n  identification:\n    - {name: Nope Rule, active: false}\n",
			`mine.yaml:4: change.identification[0].name: no rule "Nope Rule" in default.yaml to change`},
		{"extends: default\nremove:\n  relation_types: [\"Adores::Adored by\"]\n",
			`mine.yaml:3: remove.relation_types[0]: no relation type "Adores::Adored by" in default.yaml to remove`},
		{"extends: default\nremove:\n  reconciliation:\n    - {applies_to: cmdb_ci_computer, attributes: all}\n",
			`mine.yaml:4: remove.reconciliation[0]: no reconciliation rule for cmdb_ci_computer (attributes all) in default.yaml to remove`},
		{"extends: default\nclasses:\n  - name: cmdb_ci_server\n",
			`mine.yaml:3: classes[0]: class "cmdb_ci_server" is already in default.yaml (line `},
		{"extends: default\nidentification:\n  - name: Mine\n    applies_to: cmdb_ci_hardware\n    entries: [{priority: 1, attributes: [name]}]\n",
			`mine.yaml:4: identification[0].applies_to: class "cmdb_ci_hardware" already has rule "Hardware Rule" in default.yaml`},
		{"extends: default\nrelation_types: [\"Hosts::Hosted on\"]\n",
			`mine.yaml:2: relation_types[0]: relation type "Hosts::Hosted on" is already in default.yaml`},
		{"extends: default\nchange:\n  identification:\n    - name: Hardware Rule\n      entries: [{priority: 1, attributes: []}]\n",
			`mine.yaml:5: rule "Hardware Rule": entries[0].attributes: no attributes`},
		{"extends: nowhere.yaml\n", `mine.yaml:1: extends: cannot read "nowhere.yaml"`},
		{"extends: default\nclasses: {}\n", `mine.yaml:2: classes: expected a list, got a mapping`},
		{"extends: default\nsurprise: 1\n", `mine.yaml:2: unknown field "surprise"`},
		{"classes: [{name: a}]\nremove:\n  classes: [a]\n", `mine.yaml:2: remove needs a pack to remove: start the file with extends: default`},
	} {
		_, err := Load("mine.yaml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s\ngot  %v\nwant %s", tc.src, err, tc.want)
		}
	}
	// Removing a class a pack's rule applies to is reported where the pack
	// uses it, in the pack's file.
	line := slices.Index(strings.Split(string(DefaultSource()), "\n"), "    applies_to: cmdb_ci_app_server_tomcat") + 1
	_, err := Load("mine.yaml", []byte("extends: default\nremove:\n  classes: [cmdb_ci_app_server_tomcat]\n"))
	if want := fmt.Sprintf(`default.yaml:%d: rule "Tomcat": applies_to: unknown class "cmdb_ci_app_server_tomcat"`, line); line == 0 || err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("removing a used class: %v", err)
	}
}

// A file may extend another file, by a path relative to itself; a cycle is
// an error.
func TestComposeExtendsFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, src string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("base.yaml", "extends: default\nclasses: [{name: u_a, extends: cmdb_ci}]\n")
	top := write("top.yaml", "extends: base.yaml\nclasses: [{name: u_b, extends: u_a}]\n")
	rs, err := LoadFile(top)
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := rs.Class("u_b"); !ok || !b.IsA("cmdb_ci") || len(rs.Classes()) != len(Default().Classes())+2 {
		t.Errorf("u_b: %v, %d classes", b, len(rs.Classes()))
	}
	// An error in the base file names the base file.
	write("base.yaml", "extends: default\nclasses: [{name: u_a, extends: u_nope}]\n")
	if _, err := LoadFile(top); err == nil || !strings.Contains(err.Error(), filepath.Join(dir, "base.yaml")+`:2: class "u_a": extends: unknown class "u_nope"`) {
		t.Errorf("error in the base: %v", err)
	}
	write("base.yaml", "extends: top.yaml\n")
	if _, err := LoadFile(top); err == nil || !strings.Contains(err.Error(), "extends itself") {
		t.Errorf("cycle: %v", err)
	}
}

// The example pack in the repository loads.
func TestComposeExample(t *testing.T) {
	rs, err := LoadFile("../examples/extends-default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := rs.Class("u_cmdb_ci_kiosk"); !ok || rs.HasRelationType("Members::Member of") {
		t.Error("the example's class is missing or its removed relation type is present")
	}
}

// LoadFS reads the packs a file extends from the same file system.
func TestComposeLoadFS(t *testing.T) {
	fsys := fstest.MapFS{
		"packs/base.yaml": {Data: []byte("extends: default\nclasses: [{name: u_a, extends: cmdb_ci}]\n")},
		"packs/top.yaml":  {Data: []byte("extends: base.yaml\nclasses: [{name: u_b, extends: u_a}]\n")},
	}
	rs, err := LoadFS(fsys, "packs/top.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if b, ok := rs.Class("u_b"); !ok || !b.IsA("cmdb_ci") {
		t.Errorf("u_b: %v", b)
	}
	if _, err := LoadFS(fstest.MapFS{"p.yaml": {Data: []byte("extends: ../etc/x.yaml\n")}}, "p.yaml"); err == nil || !strings.Contains(err.Error(), `p.yaml:1: extends: cannot read "../etc/x.yaml"`) {
		t.Errorf("a path outside the file system: %v", err)
	}
}

// A composed rule set's Source is the whole composed file: loaded alone
// (as another process loads it from a store), it names no pack and gives
// the same rules; a plain file's Source is its own text.
func TestComposedSourceLoadsAlone(t *testing.T) {
	rs, err := LoadFile("../examples/extends-default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(rs.Source()), "extends: default") {
		t.Fatal("Source still extends the default pack")
	}
	again, err := Load("stored", rs.Source())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(again.Classes(), rs.Classes()) || !slices.Equal(again.RelationTypes(), rs.RelationTypes()) {
		t.Errorf("reloaded: %d classes and %d relation types, want %d and %d", len(again.Classes()), len(again.RelationTypes()), len(rs.Classes()), len(rs.RelationTypes()))
	}
	kiosk, ok := again.Class("u_cmdb_ci_kiosk")
	hw, _ := again.Class("cmdb_ci_hardware")
	if !ok || kiosk.Rule == nil || kiosk.Rule.Name != "Kiosk Rule" || len(hw.Rule.Entries) != 5 {
		t.Errorf("reloaded rules lost the file's additions or changes: kiosk %v, hardware entries %d", kiosk, len(hw.Rule.Entries))
	}
	plain := []byte("classes:\n  - name: cmdb_ci\n")
	p, err := Load("plain.yaml", plain)
	if err != nil || string(p.Source()) != string(plain) {
		t.Errorf("a plain file's Source = %q, %v; want its text", p.Source(), err)
	}
}
