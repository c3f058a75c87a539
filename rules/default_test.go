package rules

import (
	"bytes"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// summarize renders a rule set's rules one line each, so a test can state
// a whole pack's shape and cmp.Diff shows exactly what moved.
func summarize(rs *RuleSet) []string {
	entries := func(es []*Entry) string {
		var parts []string
		for _, e := range es {
			s := fmt.Sprintf("%d %s", e.Priority, strings.Join(e.Attributes, ","))
			if e.AllowNull {
				s += " allow_null"
			}
			if e.When != nil {
				s += " when " + e.When.Source
			}
			if e.SearchOn != "" {
				s += " on " + e.SearchOn
			}
			if e.Unique {
				s += " unique"
			}
			parts = append(parts, "["+s+"]")
		}
		return strings.Join(parts, " ")
	}
	var out []string
	for _, r := range rs.Rules() {
		s := fmt.Sprintf("%s on %s: %s", r.Name, r.AppliesTo, entries(r.Entries))
		for _, d := range r.DependsOn {
			s += fmt.Sprintf("; depends on %s via %s %s", d.Class, d.Relation, d.Direction)
		}
		for _, re := range r.Related {
			s += fmt.Sprintf("; related %s via %s: %s", re.Class, re.ReferencedField, entries(re.Entries))
		}
		out = append(out, s)
	}
	return out
}

// ruleOf maps every class to the name of the rule in force ("" for none).
func ruleOf(rs *RuleSet) map[string]string {
	out := map[string]string{}
	for _, name := range rs.Classes() {
		c, _ := rs.Class(name)
		out[name] = ""
		if c.Rule != nil {
			out[name] = c.Rule.Name
		}
	}
	return out
}

func parentOf(rs *RuleSet) map[string]string {
	out := map[string]string{}
	for _, name := range rs.Classes() {
		c, _ := rs.Class(name)
		out[name] = ""
		if c.Parent != nil {
			out[name] = c.Parent.Name
		}
	}
	return out
}

func TestDefaultShape(t *testing.T) {
	rs := Default()
	if rs != Default() {
		t.Error("Default() compiled twice; want one shared rule set")
	}

	wantRelations := []string{"Hosted on::Hosts", "Runs on::Runs", "Virtualized by::Virtualizes",
		"Contains::Contained by", "Owned by::Owns", "Depends on::Used by",
		"Bundles::Bundled in", "Realized by service::Realizes", "Realized by resource::Realizes"}
	if diff := cmp.Diff(wantRelations, rs.RelationTypes()); diff != "" {
		t.Errorf("relation types (-want +got):\n%s", diff)
	}

	wantParents := map[string]string{
		"cmdb_ci":                             "",
		"cmdb_ci_hardware":                    "cmdb_ci",
		"cmdb_ci_computer":                    "cmdb_ci_hardware",
		"cmdb_ci_server":                      "cmdb_ci_computer",
		"cmdb_ci_cloud_host":                  "cmdb_ci_hardware",
		"cmdb_ci_cloud_service_account":       "cmdb_ci",
		"cmdb_ci_logical_datacenter":          "cmdb_ci",
		"cmdb_ci_aws_datacenter":              "cmdb_ci_logical_datacenter",
		"cmdb_ci_azure_datacenter":            "cmdb_ci_logical_datacenter",
		"cmdb_ci_vm_instance":                 "cmdb_ci",
		"cmdb_sam_sw_install":                 "",
		"cmdb_serial_number":                  "",
		"cmdb_ci_network_adapter":             "cmdb_ci",
		"samp_sw_usage":                       "",
		"sn_prd_invt_product_inventory":       "",
		"sn_prd_invt_product_characteristics": "",
	}
	if diff := cmp.Diff(wantParents, parentOf(rs)); diff != "" {
		t.Errorf("class parents (-want +got):\n%s", diff)
	}

	wantRules := []string{
		"Hardware Rule on cmdb_ci_hardware: [100 serial_number,serial_number_type on cmdb_serial_number] [200 serial_number unique] [300 name]" +
			" [400 mac_address,name on cmdb_ci_network_adapter]" +
			"; related cmdb_sam_sw_install via installed_on: [100 publisher,display_name,version unique]" +
			"; related cmdb_serial_number via cmdb_ci: [100 serial_number,serial_number_type unique]" +
			"; related cmdb_ci_network_adapter via cmdb_ci: [100 mac_address,name unique]",
		"Cloud Service Account Rule on cmdb_ci_cloud_service_account: [100 account_id unique] [200 object_id unique]",
		"Logical Datacenter Rule on cmdb_ci_logical_datacenter: [100 object_id unique]" +
			"; depends on cmdb_ci_cloud_service_account via Hosted on::Hosts item_to_parent",
		"Cloud Host Rule on cmdb_ci_cloud_host: [100 object_id unique]" +
			"; depends on cmdb_ci_logical_datacenter via Hosted on::Hosts item_to_parent",
		"VM Instance Rule on cmdb_ci_vm_instance: [100 object_id unique]" +
			"; depends on cmdb_ci_logical_datacenter via Hosted on::Hosts item_to_parent" +
			"; depends on cmdb_ci_cloud_host via Runs on::Runs item_to_parent",
		`Software Usage Rule on samp_sw_usage: [100 configuration_item,norm_product,year,month_used when reclamation_type == "total_usage" unique]` +
			` [200 configuration_item,norm_product when reclamation_type == "last_used_date" unique]`,
		"Product Inventory Rule on sn_prd_invt_product_inventory: [100 pid unique] [200 number unique]" +
			"; related sn_prd_invt_product_characteristics via product: [100 name unique]",
	}
	if diff := cmp.Diff(wantRules, summarize(rs)); diff != "" {
		t.Errorf("rules (-want +got):\n%s", diff)
	}

	wantRuleOf := map[string]string{
		"cmdb_ci":                             "",
		"cmdb_ci_hardware":                    "Hardware Rule",
		"cmdb_ci_computer":                    "Hardware Rule",
		"cmdb_ci_server":                      "Hardware Rule",
		"cmdb_ci_cloud_host":                  "Cloud Host Rule",
		"cmdb_ci_cloud_service_account":       "Cloud Service Account Rule",
		"cmdb_ci_logical_datacenter":          "Logical Datacenter Rule",
		"cmdb_ci_aws_datacenter":              "Logical Datacenter Rule",
		"cmdb_ci_azure_datacenter":            "Logical Datacenter Rule",
		"cmdb_ci_vm_instance":                 "VM Instance Rule",
		"cmdb_sam_sw_install":                 "",
		"cmdb_serial_number":                  "",
		"cmdb_ci_network_adapter":             "",
		"samp_sw_usage":                       "Software Usage Rule",
		"sn_prd_invt_product_inventory":       "Product Inventory Rule",
		"sn_prd_invt_product_characteristics": "",
	}
	if diff := cmp.Diff(wantRuleOf, ruleOf(rs)); diff != "" {
		t.Errorf("rule in force per class (-want +got):\n%s", diff)
	}

	usage, _ := rs.Class("samp_sw_usage")
	if diff := cmp.Diff([]string{"reclamation_type", "configuration_item", "norm_product"}, usage.Required); diff != "" {
		t.Errorf("samp_sw_usage required (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string][]string{"reclamation_type": {"total_usage", "last_used_date"}}, usage.Allowed); diff != "" {
		t.Errorf("samp_sw_usage allowed values (-want +got):\n%s", diff)
	}

	// Inherited rules are the same value, not copies: matching spans every
	// class that shares a rule.
	computer, _ := rs.Class("cmdb_ci_computer")
	hardware, _ := rs.Class("cmdb_ci_hardware")
	if computer.Rule != hardware.Rule {
		t.Error("cmdb_ci_computer's rule is not cmdb_ci_hardware's")
	}
	install, _ := rs.Class("cmdb_sam_sw_install")
	if re := computer.Rule.RelatedFor(install); re == nil || re.ReferencedField != "installed_on" {
		t.Errorf("cmdb_ci_computer: related entry for cmdb_sam_sw_install = %+v, want one via installed_on", re)
	}
}

func TestDefaultEntryIDs(t *testing.T) {
	hex32 := regexp.MustCompile(`^[0-9a-f]{32}$`)
	seen := map[string]string{}
	check := func(where string, es []*Entry) {
		for _, e := range es {
			if !hex32.MatchString(e.ID) {
				t.Errorf("%s: entry %v: ID %q is not 32 lowercase hex", where, e.Attributes, e.ID)
			}
			if prev, dup := seen[e.ID]; dup {
				t.Errorf("%s: entry %v shares ID %s with %s", where, e.Attributes, e.ID, prev)
			}
			seen[e.ID] = fmt.Sprintf("%s %v", where, e.Attributes)
		}
	}
	for _, r := range Default().Rules() {
		check(r.Name, r.Entries)
		for _, re := range r.Related {
			check(r.Name+" related "+re.Class, re.Entries)
		}
	}
}

// The embedded pack must be the file in the repository, so `irego rules
// default` prints what Default compiles.
func TestDefaultSource(t *testing.T) {
	onDisk, err := os.ReadFile("default.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(onDisk, DefaultSource()) {
		t.Error("DefaultSource differs from default.yaml")
	}
	src := DefaultSource()
	src[0] = 'X'
	if DefaultSource()[0] == 'X' {
		t.Error("DefaultSource hands out the embedded bytes; want a copy")
	}
}
