package engine_test

import (
	"strings"
	"testing"
)

// The default pack's class model applied end to end: each chain, shaped as
// ServiceNow's documentation relates those classes, inserts every item and
// relation, then changes nothing when sent again.
func TestClassModelChains(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		// rels are the stored relations wanted, "parent index>type>child index".
		rels []string
	}{
		{"windows server with network adapters and IP addresses", `{"items":[
			{"className":"cmdb_ci_win_server","values":{"name":"WIN-APP-01","os":"Windows 2019 Datacenter"},
			 "lookup":[{"className":"cmdb_serial_number","values":{"serial_number":"VMware-42 1a 2b","serial_number_type":"system"}}]},
			{"className":"cmdb_ci_network_adapter","values":{"name":"Ethernet0","mac_address":"00:50:56:aa:bb:01"}},
			{"className":"cmdb_ci_network_adapter","values":{"name":"Ethernet1","mac_address":"00:50:56:aa:bb:02"}},
			{"className":"cmdb_ci_ip_address","values":{"ip_address":"10.0.0.11","ip_version":"4"}},
			{"className":"cmdb_ci_ip_address","values":{"ip_address":"10.0.1.11","ip_version":"4"}}],
		 "relations":[
			{"type":"Owns::Owned by","parent":0,"child":1},
			{"type":"Owns::Owned by","parent":0,"child":2},
			{"type":"Owns::Owned by","parent":1,"child":3},
			{"type":"Owned By::Owns","parent":4,"child":2}]}`,
			// The last relation reads the other way round: stored as the
			// declared type, adapter 2 owning address 4.
			[]string{"0>Owns::Owned by>1", "0>Owns::Owned by>2", "1>Owns::Owned by>3", "2>Owns::Owned by>4"}},
		{"linux server with a Tomcat and a MySQL instance", `{"items":[
			{"className":"cmdb_ci_linux_server","values":{"name":"lnx-shop-01","serial_number":"4C4C4544-0031-3810-8052-B4C04F4E4E32","os":"Linux Red Hat"}},
			{"className":"cmdb_ci_app_server_tomcat","values":{"name":"Tomcat lnx-shop-01:8080","install_directory":"/opt/tomcat",
			 "running_process_key_parameters":"-Dcatalina.base=/opt/tomcat","tcp_port":"8080","version":"9.0.85"}},
			{"className":"cmdb_ci_db_mysql_instance","values":{"name":"mysql@lnx-shop-01:3306","tcp_port":"3306","version":"8.0.36"}},
			{"className":"cmdb_ci_db_mysql_catalog","values":{"name":"orders"}}],
		 "relations":[
			{"type":"Runs on::Runs","parent":1,"child":0},
			{"type":"Runs on::Runs","parent":2,"child":0},
			{"type":"Contains::Contained by","parent":2,"child":3},
			{"type":"Depends on::Used by","parent":1,"child":2}]}`,
			[]string{"1>Runs on::Runs>0", "2>Runs on::Runs>0", "2>Contains::Contained by>3", "1>Depends on::Used by>2"}},
		{"kubernetes pod chain", `{"items":[
			{"className":"cmdb_ci_kubernetes_cluster","values":{"name":"aks-shop","ip_address":"10.1.0.1","port":"443"}},
			{"className":"cmdb_ci_kubernetes_namespace","values":{"name":"shop","uid":"0b7c2f0e-ns"}},
			{"className":"cmdb_ci_kubernetes_node","values":{"name":"aks-node-1","uid":"5d1e-node"}},
			{"className":"cmdb_ci_kubernetes_pod","values":{"name":"web-7d9f","uid":"9a4e-pod"}},
			{"className":"cmdb_ci_docker_container","values":{"name":"web","container_id":"containerd://abc123"}},
			{"className":"cmdb_ci_kubernetes_deployment","values":{"name":"web","uid":"77c1-deploy"}}],
		 "relations":[
			{"type":"Contains::Contained by","parent":0,"child":1},
			{"type":"Cluster of::Cluster","parent":0,"child":2},
			{"type":"Contains::Contained by","parent":0,"child":3},
			{"type":"Contains::Contained by","parent":1,"child":3},
			{"type":"Runs on::Runs","parent":3,"child":2},
			{"type":"Contains::Contained by","parent":3,"child":4},
			{"type":"Hosted on::Hosts","parent":5,"child":0},
			{"type":"Contains::Contained by","parent":1,"child":5}]}`,
			[]string{"0>Contains::Contained by>1", "0>Cluster of::Cluster>2", "0>Contains::Contained by>3", "1>Contains::Contained by>3",
				"3>Runs on::Runs>2", "3>Contains::Contained by>4", "5>Hosted on::Hosts>0", "1>Contains::Contained by>5"}},
		{"azure VM chain", `{"items":[
			{"className":"cmdb_ci_cloud_service_account","values":{"account_id":"3f2b-sub","object_id":"/subscriptions/3f2b-sub","name":"Shop subscription","datacenter_type":"cmdb_ci_azure_datacenter"}},
			{"className":"cmdb_ci_azure_datacenter","values":{"object_id":"westeurope","region":"westeurope","name":"West Europe"}},
			{"className":"cmdb_ci_resource_group","values":{"object_id":"/subscriptions/3f2b-sub/resourceGroups/rg-shop","name":"rg-shop"}},
			{"className":"cmdb_ci_vm_instance","values":{"object_id":"/subscriptions/3f2b-sub/resourceGroups/rg-shop/providers/Microsoft.Compute/virtualMachines/vm-shop-1","name":"vm-shop-1"}},
			{"className":"cmdb_ci_linux_server","values":{"name":"vm-shop-1","serial_number":"7d2c1f9a-azure-vm"}},
			{"className":"cmdb_ci_cloud_load_balancer","values":{"object_id":"/subscriptions/3f2b-sub/resourceGroups/rg-shop/providers/Microsoft.Network/loadBalancers/lb-shop","name":"lb-shop"}}],
		 "relations":[
			{"type":"Hosted on::Hosts","parent":1,"child":0},
			{"type":"Contains::Contained by","parent":1,"child":2},
			{"type":"Hosted on::Hosts","parent":3,"child":1},
			{"type":"Contains::Contained by","parent":2,"child":3},
			{"type":"Virtualized by::Virtualizes","parent":4,"child":3},
			{"type":"Hosts::Hosted on","parent":1,"child":5},
			{"type":"Contains::Contained by","parent":2,"child":5}]}`,
			[]string{"1>Hosted on::Hosts>0", "1>Contains::Contained by>2", "3>Hosted on::Hosts>1", "2>Contains::Contained by>3",
				"4>Virtualized by::Virtualizes>3", "5>Hosted on::Hosts>1", "2>Contains::Contained by>5"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := openDisk(t)
			first := apply(t, e, mustDecode(t, tc.payload))
			if first.HasError {
				t.Fatalf("first apply has errors: %s", mustJSON(first))
			}
			nItems, nRels := len(first.Items), len(first.Relations)
			for _, op := range strings.Fields(ops(first)) {
				if !strings.HasSuffix(op, "INSERT") {
					t.Fatalf("first apply: %s, want every item and relation inserted", ops(first))
				}
			}
			index := map[string]string{} // sys_id → item index
			for i, it := range first.Items {
				index[it.SysID] = string(rune('0' + i))
			}
			var got []string
			for _, r := range first.Relations {
				got = append(got, index[r.Parent]+">"+r.Type+">"+index[r.Child])
			}
			if strings.Join(got, " ") != strings.Join(tc.rels, " ") {
				t.Errorf("relations stored:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.rels, "\n"))
			}
			second := apply(t, e, mustDecode(t, tc.payload))
			if second.HasError {
				t.Fatalf("second apply has errors: %s", mustJSON(second))
			}
			for _, op := range strings.Fields(ops(second)) {
				if !strings.HasSuffix(op, "NO_CHANGE") {
					t.Fatalf("second apply: %s, want nothing changed", ops(second))
				}
			}
			for i, it := range second.Items {
				if it.SysID != first.Items[i].SysID {
					t.Errorf("item %d (%s): second apply matched %s, first inserted %s", i, it.ClassName, it.SysID, first.Items[i].SysID)
				}
			}
			if len(second.Items) != nItems || len(second.Relations) != nRels {
				t.Errorf("second apply reports %d items and %d relations, want %d and %d", len(second.Items), len(second.Relations), nItems, nRels)
			}
			checkClean(t, e)
		})
	}
}

// A Tomcat is dependent: sent without the host it runs on it is refused,
// naming the relation that would tie it.
func TestClassModelDependentNeedsHost(t *testing.T) {
	e := openDisk(t)
	res := apply(t, e, mustDecode(t, `{"items":[
		{"className":"cmdb_ci_app_server_tomcat","values":{"install_directory":"/opt/tomcat","running_process_key_parameters":"-Dcatalina.base=/opt/tomcat"}}]}`))
	if !res.HasError || len(res.Items[0].Errors) == 0 {
		t.Fatalf("a Tomcat without its host was accepted: %s", mustJSON(res))
	}
	is := res.Items[0].Errors[0]
	if is.Code != "MISSING_DEPENDENCY" || !strings.Contains(is.Message, "cmdb_ci_app_server_tomcat >> Runs on::Runs >> cmdb_ci_hardware") {
		t.Errorf("error = %s: %s", is.Code, is.Message)
	}
}

// Messages name the items, related records and relations they are about:
// a Tomcat on two hosts names both and the relations that tie them, a
// related record of an unknown class and an unreadable discovery time name
// their item.
func TestMessagesNameTheirItems(t *testing.T) {
	e := openDisk(t)
	res := apply(t, e, mustDecode(t, `{"items":[
		{"className":"cmdb_ci_app_server_tomcat","values":{"install_directory":"/opt/tomcat","running_process_key_parameters":"-Dcatalina.base=/opt/tomcat"}},
		{"className":"cmdb_ci_linux_server","values":{"name":"host-a","serial_number":"SN-A"}},
		{"className":"cmdb_ci_linux_server","values":{"name":"host-b","serial_number":"SN-B","last_discovered":"yesterday"},
		 "related":[{"className":"no_such_class","values":{"name":"x"}}]}],
		"relations":[{"parent":0,"child":1,"type":"Runs on::Runs"},{"parent":0,"child":2,"type":"Runs on::Runs"}]}`))
	want := map[string]string{
		"MULTIPLE_DEPENDENCIES": "item 0 (cmdb_ci_app_server_tomcat): depends on more than one item: item 1 (cmdb_ci_linux_server) via relation 0 (Runs on::Runs), item 2 (cmdb_ci_linux_server) via relation 1 (Runs on::Runs)",
		"INVALID_INPUT_DATA":    "item 2 related 0: unknown class [no_such_class]",
		"time":                  `item 2 (cmdb_ci_linux_server): last_discovered "yesterday" is not a time`,
	}
	var all []string
	for _, it := range res.Items {
		for _, is := range it.Errors {
			all = append(all, is.Code+": "+is.Message)
		}
		for _, is := range it.Warnings {
			all = append(all, is.Code+": "+is.Message)
		}
		for _, r := range it.RelatedItems {
			for _, is := range r.Errors {
				all = append(all, is.Code+": "+is.Message)
			}
		}
	}
	for code, text := range want {
		found := false
		for _, m := range all {
			found = found || strings.Contains(m, text)
		}
		if !found {
			t.Errorf("no %s message containing %q in:\n%s", code, text, strings.Join(all, "\n"))
		}
	}
}

// A computer known by its serial number alone, then a payload where one
// item gives it a name by that serial number and another has only the
// name: the name-only item is identified after the one matched by serial
// number, so it finds the stored CI, and the payload sent again matches
// every item as before (a counterexample the idempotence property found).
func TestNameOnlyItemSeesTheNameAStrongerItemGave(t *testing.T) {
	e := openDisk(t)
	apply(t, e, mustDecode(t, `{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"s1"}}]}`))
	p := `{"items":[
		{"className":"cmdb_ci_computer","values":{"name":"c2","serial_number":"s2","virtual":false}},
		{"className":"cmdb_ci_computer","values":{"cpu_count":2,"name":"c2"}},
		{"className":"cmdb_ci_computer","values":{"cpu_count":4,"name":"c2","serial_number":"s1","virtual":false}}]}`
	first := apply(t, e, mustDecode(t, p))
	if first.Items[1].SysID != first.Items[2].SysID || first.Items[0].SysID == first.Items[2].SysID {
		t.Fatalf("first apply: %s; want the name-only item on the CI known by s1, the other computer apart", ops(first))
	}
	second := apply(t, e, mustDecode(t, p))
	for i := range first.Items {
		if second.Items[i].SysID != first.Items[i].SysID || second.Items[i].Operation != "NO_CHANGE" {
			t.Fatalf("item %d: %s %s, then %s %s", i, first.Items[i].Operation, first.Items[i].SysID, second.Items[i].Operation, second.Items[i].SysID)
		}
	}
}
