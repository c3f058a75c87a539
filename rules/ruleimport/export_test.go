package ruleimport_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// The test's instance: a small CMDB model in the Table API's shape.
// References come both as bare sys_ids and as {"link", "value"} objects.

// id is the sys_id of the n-th record.
func id(n int) string { return fmt.Sprintf("%032x", n) }

// link is a reference exported with its link.
func link(table string, n int) map[string]string {
	return map[string]string{"link": "https://example.service-now.com/api/now/table/" + table + "/" + id(n), "value": id(n)}
}

type rec = map[string]any

// Record numbers of the export, named where tests refer to them.
const (
	idHardwareRule = 200
	idKioskRule    = 201
	idTomcatRule   = 202
	idNowhereRule  = 203
	idOrphanEntry  = 318
	idBogusEntry   = 317
	idBadRecon     = 504
	idBadRefresh   = 601
	idBadRelType   = 402
)

func exportTables() map[string][]rec {
	obj := func(n int, name string, super any) rec {
		r := rec{"sys_id": id(n), "name": name, "label": name}
		if super != nil {
			r["super_class"] = super
		} else {
			r["super_class"] = ""
		}
		return r
	}
	entry := func(n, rule int, table, attrs string, order int) rec {
		return rec{"sys_id": id(n), "identifier": link("cmdb_identifier", rule), "table": table, "attributes": attrs,
			"order": strconv.Itoa(order), "active": "true", "allow_null_attribute": "false"}
	}
	return map[string][]rec{
		"sys_db_object": {
			obj(100, "cmdb", nil),
			obj(101, "cmdb_ci", link("sys_db_object", 100)),
			obj(102, "cmdb_ci_hardware", id(101)),
			obj(103, "cmdb_ci_computer", link("sys_db_object", 102)),
			obj(104, "cmdb_ci_server", id(103)),
			obj(105, "cmdb_ci_linux_server", link("sys_db_object", 104)),
			obj(106, "cmdb_serial_number", nil),
			obj(107, "u_kiosk", id(102)),
			obj(108, "task", nil),
			obj(109, "incident", id(108)),
		},
		"sys_dictionary": {
			{"sys_id": id(150), "name": "cmdb_ci", "element": "name"},
			{"sys_id": id(151), "name": "cmdb_ci", "element": "serial_number"},
			{"sys_id": id(152), "name": "cmdb_ci", "element": "install_status"},
			{"sys_id": id(153), "name": "u_kiosk", "element": "u_kiosk_id"},
			{"sys_id": id(154), "name": "u_kiosk", "element": ""},
		},
		"cmdb_identifier": {
			{"sys_id": id(idHardwareRule), "name": "Hardware Rule", "applies_to": "cmdb_ci_hardware", "independent": "true", "active": "true"},
			{"sys_id": id(idKioskRule), "name": "Kiosk Rule", "applies_to": "u_kiosk", "independent": "true", "active": "true"},
			{"sys_id": id(idTomcatRule), "name": "Tomcat", "applies_to": "cmdb_ci_app_server_tomcat", "independent": "false", "active": "false"},
			{"sys_id": id(idNowhereRule), "name": "Nowhere Rule", "applies_to": "u_nowhere", "independent": "true", "active": "true"},
		},
		"cmdb_identifier_entry": {
			entry(300, idHardwareRule, "cmdb_serial_number", "serial_number,serial_number_type", 100),
			entry(301, idHardwareRule, "cmdb_ci_hardware", "serial_number", 200),
			entry(302, idHardwareRule, "cmdb_ci_hardware", "name", 300),
			entry(303, idHardwareRule, "cmdb_ci_network_adapter", "mac_address, name", 400),
			entry(310, idKioskRule, "u_kiosk", "u_kiosk_id", 100),
			{"sys_id": id(311), "identifier": id(idKioskRule), "table": "u_kiosk", "attributes": "name", "priority": "200",
				"optional_condition": "install_status!=7^nameISNOTEMPTY"},
			{"sys_id": id(312), "identifier": id(idKioskRule), "table": "u_kiosk", "attributes": "asset_tag", "order": "50", "active": "false"},
			{"sys_id": id(idBogusEntry), "identifier": id(idKioskRule), "table": "u_kiosk", "attributes": "u_bogus", "order": "300",
				"optional_condition": "nameSTARTSWITHk^ORname=x"},
			{"sys_id": id(idOrphanEntry), "identifier": id(999), "table": "u_kiosk", "attributes": "name", "order": "100"},
			entry(320, idTomcatRule, "cmdb_ci_app_server_tomcat", "install_directory,running_process_key_parameters", 100),
		},
		"cmdb_related_entry": {
			{"sys_id": id(350), "identifier": link("cmdb_identifier", idHardwareRule), "table": "cmdb_sam_sw_install",
				"referenced_field": "installed_on", "attributes": "publisher,display_name,version", "order": "100", "active": "true"},
		},
		"cmdb_rel_type": {
			{"sys_id": id(400), "name": "Runs on::Runs", "parent_descriptor": "Runs on", "child_descriptor": "Runs"},
			{"sys_id": id(401), "parent_descriptor": "Chills", "child_descriptor": "Chilled by"},
			{"sys_id": id(idBadRelType), "name": "Broken"},
		},
		"cmdb_reconciliation_definition": {
			{"sys_id": id(500), "applies_to": "cmdb_ci_hardware", "attributes": "", "discovery_source": "ServiceNow", "priority": "100", "active": "true"},
			{"sys_id": id(501), "applies_to": "cmdb_ci_hardware", "attributes": "", "discovery_source": "SCCM", "priority": "200", "active": "true"},
			{"sys_id": id(502), "applies_to": "u_kiosk", "attributes": "u_kiosk_id,name", "discovery_source": "KioskFeed", "priority": "50",
				"update_with_null": "name", "active": "true"},
			{"sys_id": id(503), "applies_to": "u_kiosk", "attributes": "name", "discovery_source": "Old", "priority": "10", "active": "false"},
			{"sys_id": id(idBadRecon), "applies_to": "u_nowhere", "attributes": "", "discovery_source": "SCCM", "priority": "1"},
		},
		"cmdb_datasource_refresh": {
			{"sys_id": id(600), "applies_to": "cmdb_ci_hardware", "discovery_source": "SCCM", "duration": "1970-01-08 00:00:00", "active": "true"},
			{"sys_id": id(idBadRefresh), "applies_to": "cmdb_ci_hardware", "discovery_source": "Altiris", "duration": "1970-01-02 00:00:00"},
		},
	}
}

// writeExport writes the export as a directory of Table API pages; the
// entries come as two pages.
func writeExport(t *testing.T, tables map[string][]rec) string {
	t.Helper()
	dir := t.TempDir()
	page := func(name string, recs []rec) {
		b, err := json.MarshalIndent(map[string]any{"result": recs}, "", " ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	for table, recs := range tables {
		if table == "cmdb_identifier_entry" {
			page(table+"_1.json", recs[:4])
			page(table+"_2.json", recs[4:])
			continue
		}
		page(table+".json", recs)
	}
	return dir
}

// instance serves the export as ServiceNow's Table API: basic auth,
// sysparm_limit and sysparm_offset paging in sys_id order, 404 for other
// tables. pages counts the requests per table.
type instance struct {
	*httptest.Server
	mu    sync.Mutex
	pages map[string]int
}

func serveInstance(t *testing.T, tables map[string][]rec, user, password string) *instance {
	in := &instance{pages: map[string]int{}}
	in.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u, p, ok := r.BasicAuth(); !ok || u != user || p != password {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error":{"message":"User Not Authenticated","detail":"Required to provide Auth information"},"status":"failure"}`)
			return
		}
		table, ok := strings.CutPrefix(r.URL.Path, "/api/now/table/")
		recs, known := tables[table]
		if !ok || !known {
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprint(w, `{"error":{"message":"Invalid table `+table+`","detail":null},"status":"failure"}`)
			return
		}
		sorted := append([]rec(nil), recs...)
		sort.Slice(sorted, func(i, j int) bool { return sorted[i]["sys_id"].(string) < sorted[j]["sys_id"].(string) })
		limit, _ := strconv.Atoi(r.URL.Query().Get("sysparm_limit"))
		offset, _ := strconv.Atoi(r.URL.Query().Get("sysparm_offset"))
		end := min(offset+limit, len(sorted))
		if offset > end {
			offset = end
		}
		in.mu.Lock()
		in.pages[table]++
		in.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"result": sorted[offset:end]})
	}))
	t.Cleanup(in.Close)
	return in
}
