package ilmt_test

import (
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const was = "WebSphere Application Server 9.0"

// summary renders rows as "product metric=quantity", sorted.
func summary(rs rows, quantity string) []string {
	var out []string
	for _, r := range rs.Rows {
		out = append(out, fmt.Sprintf("%v %v=%v", r["product_name"], r["metric_code_name"], r[quantity]))
	}
	sort.Strings(out)
	return out
}

// TestLicenseUsage reads PVU full and sub-capacity over the seed's BYOL
// graph through the v2 APIs: two BYOL VMs on one 32-core dedicated host, a
// BYOL VM on shared tenancy, a License Included VM (never counted).
func TestLicenseUsage(t *testing.T) {
	v := newEnv(t)
	v.apply("byol-ibm-three-vms.json")
	v.importNow()
	resp := v.call(request{user: "viewer", path: "/api/sam/v2/license_usage"}, 200, nil)
	for k, want := range map[string]string{"startdate": "2025-12-03", "enddate": "2026-03-02", "computerGroupId": "0",
		"Import-Mode": "idle", "Import-Last-Status": "successful", "Import-Last-Success-Time": "2026-03-02T09:30:00Z", "Content-Language": "en-US"} {
		if got := resp.Header.Values(k); len(got) != 1 || got[0] != want {
			t.Errorf("header %s: %q, want %q", k, got, want)
		}
	}
	got := v.list("viewer", "/api/sam/v2/license_usage")
	want := []string{was + " PVU_FULL_CAP=2800", was + " PVU_SUB_CAP=980", was + " VIRTUAL_PROCESSOR_CORE=14"}
	if diff := cmp.Diff(want, summary(got, "hwm_quantity")); diff != "" {
		t.Errorf("license_usage (-want +got):\n%s", diff)
	}
	r := got.Rows[0]
	for k, want := range map[string]any{"bundle_id": nil, "bundle_name": nil, "bundle_type": nil, "bundle_metric_contribution": nil,
		"flex_id": nil, "product_bundle_ratio_divider": nil, "product_publisher_name": "IBM"} {
		if v, ok := r[k]; !ok || v != want {
			t.Errorf("%s = %v, want %v", k, r[k], want)
		}
	}
	if _, hidden := r["hwm_date"]; hidden {
		t.Error("hwm_date is returned without asking")
	}
	// criteria, columns, order, paging, countSwitch.
	sub := v.list("viewer", "/api/sam/v2/license_usage?criteria="+q(`{"and": [["metric_code_name", "begins_with", "PVU"], ["product_publisher_name", "=", "ibm"]]}`)+
		"&columns[]=metric_code_name&columns[]=hwm_quantity&columns[]=hwm_date&order[]=hwm_quantity%20desc&limit=1&offset=1")
	if *sub.Total != 2 || len(sub.Rows) != 1 || sub.Rows[0]["hwm_quantity"] != 980.0 || sub.Rows[0]["hwm_date"] != "2026-03-02" || len(sub.Rows[0]) != 3 {
		t.Errorf("filtered page: %+v", sub)
	}
	if c := v.list("viewer", "/api/sam/v2/license_usage?countSwitch=2"); c.Total == nil || *c.Total != 3 || c.Rows == nil || len(c.Rows) != 0 {
		t.Errorf("countSwitch=2: %+v", c)
	}
	if c := v.list("viewer", "/api/sam/v2/license_usage?countSwitch=1"); c.Total != nil || len(c.Rows) != 3 {
		t.Errorf("countSwitch=1: %+v", c)
	}
	// A period before the import holds nothing.
	if old := v.list("viewer", "/api/sam/v2/license_usage?startdate=2025-01-01&enddate=2025-02-01"); *old.Total != 0 {
		t.Errorf("old period: %+v", old)
	}
	// Per server: the dedicated host counts once for full capacity, with its cores.
	per := v.list("viewer", "/api/sam/v2/license_usage_per_server?date=2026-03-02&criteria="+q(`{"and": [["metric_code_name", "=", "PVU_FULL_CAP"]]}`))
	var servers []string
	for _, r := range per.Rows {
		servers = append(servers, fmt.Sprintf("%v %v cores=%v", r["server_name"], r["hwm_quantity"], r["hwm_cores"]))
	}
	sort.Strings(servers)
	if diff := cmp.Diff([]string{"AWS Dedicated Host IBM 2240 cores=32", "ibm-shared-1 560 cores=8"}, servers); diff != "" {
		t.Errorf("per server (-want +got):\n%s", diff)
	}
}

func TestLicenseUsageErrors(t *testing.T) {
	v := newEnv(t)
	for _, c := range []struct{ path, want string }{
		{"/api/sam/v2/license_usage?criteria=" + q(`{"and": [["publisher", "contains", "IBM"]]}`), `criteria: at character 11: unknown column "publisher"`},
		{"/api/sam/v2/license_usage?criteria=" + q(`{"and": [["product_name", "like", "IBM"]]}`), `criteria: at character 27: unknown operator "like"`},
		{"/api/sam/v2/license_usage?criteria=" + q(`{"and": [["hwm_quantity", "contains", "1"]]}`), `operator contains does not apply to hwm_quantity, a number column`},
		{"/api/sam/v2/license_usage?criteria=" + q(`{"and": [["hwm_quantity", ">", 1]`), `criteria: at character 34: the criteria end too early`},
		{"/api/sam/v2/license_usage?limit=ten", `limit: "ten" is not a whole number >= 0`},
		{"/api/sam/v2/license_usage?order[]=nothing", `order[]: value 1: unknown column "nothing"`},
		{"/api/sam/v2/license_usage?columns[]=product_id&columns[]=nothing", `columns[]: value 2: unknown column "nothing"`},
		{"/api/sam/v2/license_usage?startdate=2026-13-01", `startdate: "2026-13-01" is not a date YYYY-MM-DD`},
		{"/api/sam/v2/license_usage?startdate=2026-03-01&enddate=2026-02-01", `enddate: 2026-02-01 is before startdate 2026-03-01`},
		{"/api/sam/v2/license_usage?computerGroupId=x", `computerGroupId: "x" is not a computer group id`},
		{"/api/sam/v2/license_usage_per_server", `date: missing`},
	} {
		v.wantError(request{user: "viewer", path: c.path}, 400, c.want)
	}
	v.wantError(request{user: "viewer", path: "/api/sam/v2/license_usage?computerGroupId=7"}, 403, "no computer group 7")
	v.wantError(request{user: "manager", path: "/api/sam/v2/license_usage"}, 403, "needs one of the roles [view_license_metrics]")
	resp := v.call(request{user: "viewer", path: "/api/sam/v2/license_usage"}, 200, nil)
	if resp.Header.Get("Import-Mode") != "none" || resp.Header.Get("Import-Last-Status") != "" {
		t.Errorf("before any import: %v", resp.Header)
	}
}

// TestDeprecatedLicenseUsages is GET /api/sam/license_usages, exactly as
// its seed documents it.
func TestDeprecatedLicenseUsages(t *testing.T) {
	v := newEnv(t)
	v.apply("byol-ibm-three-vms.json")
	v.importNow()
	v.wantError(request{user: "root", path: "/api/sam/license_usages"}, 404, "set expose_deprecated_api to true")
	v.call(request{user: "root", method: "PUT", path: "/api/sam/configs", body: `{"expose_deprecated_api": true}`}, 200, nil)
	var all []map[string]any
	resp := v.call(request{user: "viewer", path: "/api/sam/license_usages"}, 200, &all)
	// Per computer: three VMs with VIRTUAL_PROCESSOR_CORE, the shared one
	// with its own PVU; the dedicated host with PVU once.
	if len(all) != 7 || resp.Header.Get("Import-Mode") != "idle" {
		t.Fatalf("%d rows, headers %v", len(all), resp.Header)
	}
	wantKeys := []string{"computer_system_id", "metric_name", "peak_date", "peak_time", "peak_value", "reporting_period_end_date", "reporting_period_start_date", "software_title_id"}
	var keys []string
	for k := range all[0] {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if diff := cmp.Diff(wantKeys, keys); diff != "" {
		t.Errorf("default columns (-want +got):\n%s", diff)
	}
	if all[0]["peak_date"] != "2026-03-02" || all[0]["peak_time"] != "2026-03-02T09:30:00Z" || all[0]["reporting_period_start_date"] != "2025-12-03" || all[0]["reporting_period_end_date"] != "2026-03-02" {
		t.Errorf("row: %v", all[0])
	}
	// Default order: computer_system_id, software_title_id, metric_name.
	for i := 1; i < len(all); i++ {
		a, b := all[i-1], all[i]
		if a["computer_system_id"].(float64) > b["computer_system_id"].(float64) ||
			a["computer_system_id"] == b["computer_system_id"] && a["metric_name"].(string) > b["metric_name"].(string) {
			t.Errorf("rows %d and %d out of order: %v %v", i-1, i, a, b)
		}
	}
	// The hidden dimension, the documentation's criteria example, descending order.
	var top []map[string]any
	v.call(request{user: "viewer", path: "/api/sam/license_usages?columns[]=software_title_dimension.name&columns[]=peak_value&columns[]=metric_name&order[]=" + q("peak_value desc") +
		"&limit=2&criteria=" + q(`{ "and": [["publisher_name", "contains", "IBM"]]}`)}, 200, &top)
	want := []map[string]any{
		{"software_title_dimension": map[string]any{"name": was}, "peak_value": 2240.0, "metric_name": "PVU_FULL_CAP"},
		{"software_title_dimension": map[string]any{"name": was}, "peak_value": 560.0, "metric_name": "PVU_FULL_CAP"},
	}
	if diff := cmp.Diff(want, top); diff != "" {
		t.Errorf("top two (-want +got):\n%s", diff)
	}
	// A bad parameter: 500 "Bad Request", as the seed documents.
	v.wantError(request{user: "viewer", path: "/api/sam/license_usages?criteria=" + q(`{"and": [["peak_value", "last", "P1D"]]}`)}, 500,
		"Bad Request: criteria: at character 25: operator last does not apply to peak_value, a number column")
}

// TestImportStatus: the state and who may start an import.
func TestImportStatus(t *testing.T) {
	v := newEnv(t)
	var st map[string]any
	resp := v.call(request{user: "viewer", path: "/api/import_status.json"}, 200, &st)
	if st["mode"] != "none" || resp.Header.Get("Import-Mode") != "none" {
		t.Errorf("before any import: %v %v", st, resp.Header)
	}
	v.wantError(request{user: "viewer", path: "/api/import_status.json?run=complete"}, 403, "needs the admin role")
	v.wantError(request{user: "root", path: "/api/import_status.json?run=delta"}, 400, `run: "delta" is not an import irego runs; give run=complete or run=raw_only`)
	v.wantError(request{user: "viewer", path: "/api/import_status.json?run=raw_only"}, 403, "run=raw_only: starting an import needs the admin role")
	v.apply("byol-dedicated-vm.json")
	v.importNow()
	v.call(request{user: "viewer", path: "/api/management/imports.json"}, 200, &st)
	if st["mode"] != "idle" || st["installs"] != 1.0 || st["usages"] != 3.0 {
		t.Errorf("after an import: %v", st)
	}
	// A rule-free change of settings does not make it pending; the state is
	// the same through both paths.
	if !strings.Contains(fmt.Sprint(st["last_success_time"]), "2026-03-02T09:30:00") {
		t.Errorf("last success: %v", st["last_success_time"])
	}
}

// TestRawOnlyImport: run=raw_only reads the graph and records it, and the
// usage served stays that of the last complete import.
func TestRawOnlyImport(t *testing.T) {
	v := newEnv(t)
	v.apply("byol-dedicated-vm.json")
	v.importNow()
	v.apply("byol-ibm-three-vms.json")
	var st map[string]any
	v.call(request{user: "root", path: "/api/import_status.json?run=raw_only&wait=true"}, 200, &st)
	if st["mode"] != "idle" || st["last_status"] != "successful" || st["last_run"] != "raw_only" || st["installs"] != 5.0 || st["usages"] != 3.0 {
		t.Errorf("after raw_only: %v", st)
	}
	got := v.list("viewer", "/api/sam/v2/license_usage")
	if diff := cmp.Diff([]string{"SQL Server 2017 PVU_FULL_CAP=2240", "SQL Server 2017 PVU_SUB_CAP=280", "SQL Server 2017 VIRTUAL_PROCESSOR_CORE=4"}, summary(got, "hwm_quantity")); diff != "" {
		t.Errorf("usage after raw_only (-want +got):\n%s", diff)
	}
	v.importNow()
	if got := v.list("viewer", "/api/sam/v2/license_usage"); *got.Total != 6 {
		t.Errorf("after a complete import: %v", summary(got, "hwm_quantity"))
	}
	v.call(request{user: "viewer", path: "/api/import_status.json"}, 200, &st)
	if st["last_run"] != "complete" {
		t.Errorf("last run: %v", st["last_run"])
	}
}
