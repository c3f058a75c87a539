package rules

import (
	"strings"
	"testing"
)

// Diff names what a composed file changes against the pack it extends, and
// nothing else.
func TestDiff(t *testing.T) {
	def := Default()
	if d := Diff(def, def); len(d) != 0 {
		t.Fatalf("a rule set differs from itself: %v", d)
	}
	mine, err := Load("mine.yaml", []byte(`extends: default
relation_types: ["Likes::Liked by"]
classes: [{name: u_kiosk, extends: cmdb_ci_hardware}]
change:
  identification:
    - name: Hardware Rule
      entries:
        - {priority: 100, search_on_table: cmdb_serial_number, attributes: [serial_number, serial_number_type]}
        - {priority: 200, unique: true, attributes: [serial_number]}
        - {priority: 50, attributes: [name]}
        - {priority: 400, search_on_table: cmdb_ci_network_adapter, attributes: [mac_address, name]}
    - {name: Tomcat, active: false}
remove:
  classes: [cmdb_ci_personal_printer]
reconciliation:
  - applies_to: cmdb_ci_hardware
    attributes: all
    sources: [{name: SCCM, priority: 10}]
duplicates: {threshold: 2}
`))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range Diff(def, mine) {
		got = append(got, c.String())
	}
	text := strings.Join(got, "\n")
	for _, want := range []string{
		"+ class u_kiosk\n    extends cmdb_ci_hardware\n    rule in force: Hardware Rule",
		"- class cmdb_ci_personal_printer",
		"~ class cmdb_ci_app_server_tomcat\n    rule in force: \"Tomcat\" -> \"Application Rule\"",
		"~ rule Hardware Rule\n    - entry priority 300: [name]\n    + entry priority 50: [name]",
		"- rule Tomcat\n    applies to cmdb_ci_app_server_tomcat",
		"+ relation type Likes::Liked by",
		"~ reconciliation cmdb_ci_hardware\n    - attributes all: sources ServiceNow=100, SCCM=200, *=1000; refresh 720h0m0s\n    + attributes all: sources SCCM=10",
		"~ duplicates\n    - threshold 5\n    + threshold 2",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("diff lacks\n%s\nin\n%s", want, text)
		}
	}
	if n := len(got); n != 8 {
		t.Errorf("%d changes, want 8:\n%s", n, text)
	}
}
