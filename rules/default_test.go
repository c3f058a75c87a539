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

	// ServiceNow's standard relation types and the product inventory's.
	if n := len(rs.RelationTypes()); n < 60 {
		t.Errorf("%d relation types, want ServiceNow's standard list (60 or more)", n)
	}
	for _, name := range []string{"Hosted on::Hosts", "Runs on::Runs", "Virtualized by::Virtualizes",
		"Contains::Contained by", "Owns::Owned by", "Depends on::Used by", "Uses::Used by",
		"Members::Member of", "Connects to::Connected by", "IP Connection::IP Connection", "Cluster of::Cluster",
		"Bundles::Bundled in", "Realized by service::Realizes", "Realized by resource::Realizes"} {
		if !rs.HasRelationType(name) {
			t.Errorf("relation type %q missing", name)
		}
	}

	if n := len(rs.Classes()); n < 300 {
		t.Errorf("%d classes, want ServiceNow's principal classes (300 or more)", n)
	}
	wantParents := map[string]string{
		"cmdb":                                "",
		"cmdb_ci":                             "cmdb",
		"cmdb_ci_hardware":                    "cmdb_ci",
		"cmdb_ci_computer":                    "cmdb_ci_hardware",
		"cmdb_ci_server":                      "cmdb_ci_computer",
		"cmdb_ci_win_server":                  "cmdb_ci_server",
		"cmdb_ci_linux_server":                "cmdb_ci_server",
		"cmdb_ci_aix_server":                  "cmdb_ci_server",
		"cmdb_ci_solaris_server":              "cmdb_ci_server",
		"cmdb_ci_esx_server":                  "cmdb_ci_server",
		"cmdb_ci_ip_switch":                   "cmdb_ci_netgear",
		"cmdb_ci_cloud_host":                  "cmdb_ci_hardware",
		"cmdb_ci_cloud_service_account":       "cmdb_ci",
		"cmdb_ci_logical_datacenter":          "cmdb_ci",
		"cmdb_ci_aws_datacenter":              "cmdb_ci_logical_datacenter",
		"cmdb_ci_azure_datacenter":            "cmdb_ci_logical_datacenter",
		"cmdb_ci_google_datacenter":           "cmdb_ci_logical_datacenter",
		"cmdb_ci_vm_instance":                 "cmdb_ci_vm_object",
		"cmdb_ci_vmware_instance":             "cmdb_ci_vm_instance",
		"cmdb_ci_cloud_load_balancer":         "cmdb_ci_vm_object",
		"cmdb_ci_app_server_tomcat":           "cmdb_ci_app_server",
		"cmdb_ci_app_server":                  "cmdb_ci_appl",
		"cmdb_ci_db_mysql_instance":           "cmdb_ci_db_instance",
		"cmdb_ci_db_mysql_catalog":            "cmdb_ci_db_catalog",
		"cmdb_ci_kubernetes_pod":              "cmdb_ci_kubernetes_component",
		"cmdb_ci_kubernetes_deployment":       "cmdb_ci_kubernetes_workload",
		"cmdb_ci_docker_container":            "cmdb_ci_oslv_container",
		"service_offering":                    "cmdb_ci_service",
		"cmdb_ci_service_discovered":          "cmdb_ci_service_auto",
		"cmdb_sam_sw_install":                 "",
		"cmdb_serial_number":                  "",
		"cmdb_ci_network_adapter":             "cmdb_ci",
		"cmdb_ci_ip_address":                  "cmdb_ci",
		"samp_sw_usage":                       "",
		"sn_prd_invt_product_inventory":       "",
		"sn_prd_invt_product_characteristics": "",
	}
	parents := parentOf(rs)
	for class, want := range wantParents {
		if got, ok := parents[class]; !ok || got != want {
			t.Errorf("class %s: parent %q (declared %v), want %q", class, got, ok, want)
		}
	}

	// The rules the BYOL chain, the product inventory and the license
	// metrics rely on keep their shape.
	wantRules := []string{
		"Hardware Rule on cmdb_ci_hardware: [100 serial_number,serial_number_type on cmdb_serial_number] [200 serial_number unique] [300 name]" +
			" [400 mac_address,name on cmdb_ci_network_adapter]" +
			"; related cmdb_sam_sw_install via installed_on: [100 publisher,display_name,version unique]" +
			"; related cmdb_serial_number via cmdb_ci: [100 serial_number,serial_number_type unique]" +
			"; related cmdb_ci_network_adapter via cmdb_ci: [100 mac_address,name unique]",
		"Cloud Service Account Rule on cmdb_ci_cloud_service_account: [100 account_id unique] [200 object_id unique]",
		"Logical Datacenter Rule on cmdb_ci_logical_datacenter: [100 object_id unique] [200 region unique]" +
			"; depends on cmdb_ci_cloud_service_account via Hosted on::Hosts item_to_parent",
		"Cloud Host Rule on cmdb_ci_cloud_host: [100 object_id unique]" +
			"; depends on cmdb_ci_logical_datacenter via Hosted on::Hosts item_to_parent",
		"VM Instance Rule on cmdb_ci_vm_instance: [100 object_id unique]" +
			"; depends on cmdb_ci_logical_datacenter via Hosted on::Hosts item_to_parent" +
			"; depends on cmdb_ci_cloud_host via Runs on::Runs item_to_parent" +
			"; depends on cmdb_ci_vcenter_datacenter via Hosted on::Hosts item_to_parent",
		`Software Usage Rule on samp_sw_usage: [100 configuration_item,norm_product,year,month_used when reclamation_type == "total_usage" unique]` +
			` [200 configuration_item,norm_product when reclamation_type == "last_used_date" unique]`,
		"Product Inventory Rule on sn_prd_invt_product_inventory: [100 pid unique] [200 number unique]" +
			"; related sn_prd_invt_product_characteristics via product: [100 name unique]",
		"Network Adapter Rule on cmdb_ci_network_adapter: [100 name,mac_address unique]" +
			"; depends on cmdb_ci_hardware via Owns::Owned by parent_to_item",
		"Application Rule on cmdb_ci_appl: [100 cl_port] [200 running_process_command,running_process_key_parameters]" +
			"; depends on cmdb_ci_hardware via Runs on::Runs item_to_parent" +
			"; depends on cmdb_ci_oslv_container via Runs on::Runs item_to_parent",
		"Software on cmdb_ci_spkg: [100 key unique]; related cmdb_software_instance via software: [100 installed_on unique]",
	}
	got := map[string]bool{}
	for _, r := range summarize(rs) {
		got[r] = true
	}
	for _, want := range wantRules {
		if !got[want] {
			t.Errorf("rule missing or changed:\n%s\nrules:\n%s", want, strings.Join(summarize(rs), "\n"))
		}
	}

	wantRuleOf := map[string]string{
		"cmdb_ci":                             "",
		"cmdb_ci_hardware":                    "Hardware Rule",
		"cmdb_ci_computer":                    "Hardware Rule",
		"cmdb_ci_server":                      "Hardware Rule",
		"cmdb_ci_win_server":                  "Hardware Rule",
		"cmdb_ci_esx_server":                  "Hardware Rule",
		"cmdb_ci_ip_switch":                   "Hardware Rule",
		"cmdb_ci_cloud_host":                  "Cloud Host Rule",
		"cmdb_ci_cloud_service_account":       "Cloud Service Account Rule",
		"cmdb_ci_logical_datacenter":          "Logical Datacenter Rule",
		"cmdb_ci_aws_datacenter":              "Logical Datacenter Rule",
		"cmdb_ci_azure_datacenter":            "Logical Datacenter Rule",
		"cmdb_ci_vm_instance":                 "VM Instance Rule",
		"cmdb_ci_kvm_vm_instance":             "VM Instance Rule",
		"cmdb_ci_cloud_load_balancer":         "Cloud Resource Rule",
		"cmdb_ci_cloud_object_storage":        "Cloud Resource Rule",
		"cmdb_ci_ip_address":                  "IP Address Rule",
		"cmdb_ci_web_server":                  "Application Rule",
		"cmdb_ci_app_server_tomcat":           "Tomcat",
		"cmdb_ci_db_mysql_instance":           "Database Instance Rule",
		"cmdb_ci_db_ora_instance":             "Oracle Instance Rule",
		"cmdb_ci_kubernetes_pod":              "Kubernetes Component Rule",
		"cmdb_ci_kubernetes_namespace":        "Kubernetes Namespace Rule",
		"cmdb_ci_docker_container":            "Container Rule",
		"service_offering":                    "Service Rule",
		"cmdb_sam_sw_install":                 "",
		"cmdb_serial_number":                  "",
		"samp_sw_usage":                       "Software Usage Rule",
		"sn_prd_invt_product_inventory":       "Product Inventory Rule",
		"sn_prd_invt_product_characteristics": "",
	}
	ruleOfs := ruleOf(rs)
	for class, want := range wantRuleOf {
		if got := ruleOfs[class]; got != want {
			t.Errorf("class %s: rule in force %q, want %q", class, got, want)
		}
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

// Every suggested pair names declared classes (the loader checks), and the
// documented ones are there.
func TestDefaultSuggestedRelations(t *testing.T) {
	rs := Default()
	for _, c := range []struct{ rel, parent, child string }{
		{"Owns::Owned by", "cmdb_ci_computer", "cmdb_ci_network_adapter"},
		{"Owns::Owned by", "cmdb_ci_network_adapter", "cmdb_ci_ip_address"},
		{"Runs on::Runs", "cmdb_ci_appl", "cmdb_ci_server"},
		{"Contains::Contained by", "cmdb_ci_kubernetes_cluster", "cmdb_ci_kubernetes_pod"},
		{"Hosted on::Hosts", "cmdb_ci_vm_instance", "cmdb_ci_azure_datacenter"},
	} {
		rt, _, ok := rs.RelationType(c.rel)
		if !ok {
			t.Fatalf("%s not declared", c.rel)
		}
		found := false
		for _, p := range rt.Suggested {
			found = found || (p == ClassPair{Parent: c.parent, Child: c.child})
		}
		if !found {
			t.Errorf("%s: suggested pairs lack [%s, %s]", c.rel, c.parent, c.child)
		}
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

// Compiling the whole pack is part of every start; keep an eye on it.
func BenchmarkLoadDefault(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load("default.yaml", defaultSource); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkLoadSmall(b *testing.B) {
	src, err := os.ReadFile("../examples/byol-rules.yaml")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load("byol-rules.yaml", src); err != nil {
			b.Fatal(err)
		}
	}
}
