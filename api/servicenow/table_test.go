package servicenow_test

import (
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/api/servicenow"
)

// byolEnv is a server holding the BYOL example, and its sys_ids by class.
func byolEnv(t *testing.T) (*env, map[string]string) {
	t.Helper()
	v := newEnv(t)
	var res applyResult
	v.call(t, request{user: "ann", method: "POST", path: "/api/now/identifyreconcile?sysparm_data_source=ServiceNow", body: byol(t)}, 200, &res)
	return v, res.sysIDs()
}

type rows struct{ Result []map[string]string }

func (r rows) names() []string {
	var out []string
	for _, m := range r.Result {
		out = append(out, m["name"])
	}
	return out
}

func TestTableClassesAndSubclasses(t *testing.T) {
	v, ids := byolEnv(t)
	for class, want := range map[string]int{"cmdb_ci": 5, "cmdb_ci_hardware": 2, "cmdb_ci_logical_datacenter": 1, "cmdb_ci_server": 0, "cmdb_sam_sw_install": 1} {
		var r rows
		resp := v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/" + class}, 200, &r)
		if len(r.Result) != want || resp.Header.Get("X-Total-Count") != strconv.Itoa(want) {
			t.Errorf("%s: %d rows (X-Total-Count %s), want %d", class, len(r.Result), resp.Header.Get("X-Total-Count"), want)
		}
	}
	var one struct{ Result map[string]string }
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/cmdb_ci/" + ids["cmdb_ci_computer"]}, 200, &one)
	for k, want := range map[string]string{"name": "Comp - Dedicated AWS - 1", "cpu_count": "1", "virtual": "true",
		"sys_id": ids["cmdb_ci_computer"], "sys_class_name": "cmdb_ci_computer", "discovery_source": "ServiceNow"} {
		if one.Result[k] != want {
			t.Errorf("computer %s = %q, want %q", k, one.Result[k], want)
		}
	}
	if len(one.Result["sys_created_on"]) != len("2006-01-02 15:04:05") {
		t.Errorf("sys_created_on = %q", one.Result["sys_created_on"])
	}
	var installs rows
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/cmdb_sam_sw_install?sysparm_fields=display_name,installed_on"}, 200, &installs)
	if diff := cmp.Diff([]map[string]string{{"display_name": "SQL Server", "installed_on": ids["cmdb_ci_computer"]}}, installs.Result); diff != "" {
		t.Errorf("installs with sysparm_fields (-want +got):\n%s", diff)
	}
}

func TestTableQuery(t *testing.T) {
	v, _ := byolEnv(t)
	for _, c := range []struct {
		query string
		want  []string
	}{
		{"name=AWS DataCenter - 1", []string{"AWS DataCenter - 1"}},
		{"name=aws datacenter - 1", []string{"AWS DataCenter - 1"}},
		{"name!=AWS DataCenter - 1^ORDERBYname", []string{"AWS Dedicated Host - 1", "Cloud Service Account AWS - 1", "Comp - Dedicated AWS - 1", "VM Dedicated AWS - 1"}},
		{"nameSTARTSWITHaws^ORDERBYname", []string{"AWS DataCenter - 1", "AWS Dedicated Host - 1"}},
		{"nameLIKEdedicated^ORDERBYDESCname", []string{"VM Dedicated AWS - 1", "Comp - Dedicated AWS - 1", "AWS Dedicated Host - 1"}},
		{"nameLIKEdedicated^sys_class_name=cmdb_ci_vm_instance", []string{"VM Dedicated AWS - 1"}},
		{"nameLIKEdedicated^sys_class_name=cmdb_ci_vm_instance^ORsys_class_name=cmdb_ci_computer^ORDERBYname", []string{"Comp - Dedicated AWS - 1", "VM Dedicated AWS - 1"}},
		{"cpu_core_count>4", []string{"AWS Dedicated Host - 1"}},
		{"cpu_core_count>=4^ORDERBYDESCcpu_core_count", []string{"AWS Dedicated Host - 1", "Comp - Dedicated AWS - 1"}},
		{"name=AWS DataCenter - 1^NQsys_class_name=cmdb_ci_computer^ORDERBYname", []string{"AWS DataCenter - 1", "Comp - Dedicated AWS - 1"}},
		{"account_idISNOTEMPTY", []string{"Cloud Service Account AWS - 1"}},
		{"name=nothing", nil},
		{"sys_class_name=CMDB_CI_COMPUTER", []string{"Comp - Dedicated AWS - 1"}},
		{"sys_class_nameINcmdb_ci_vm_instance, cmdb_ci_computer^ORDERBYname", []string{"Comp - Dedicated AWS - 1", "VM Dedicated AWS - 1"}},
		{"sys_class_nameINcmdb_ci_vm_instance,cmdb_ci_computer^sys_class_name=cmdb_ci_computer", []string{"Comp - Dedicated AWS - 1"}},
		{"sys_class_name=cmdb_ci_computer^sys_class_name=cmdb_ci_vm_instance", nil},
		{"sys_class_name=cmdb_ci_computer^NQsys_class_name=cmdb_ci_vm_instance^ORDERBYname", []string{"Comp - Dedicated AWS - 1", "VM Dedicated AWS - 1"}},
	} {
		var r rows
		v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/cmdb_ci?sysparm_query=" + url.QueryEscape(c.query)}, 200, &r)
		if diff := cmp.Diff(c.want, r.names()); diff != "" {
			t.Errorf("%s (-want +got):\n%s", c.query, diff)
		}
	}
}

func TestTablePaging(t *testing.T) {
	v, _ := byolEnv(t)
	var all, page rows
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/cmdb_ci?sysparm_query=ORDERBYname"}, 200, &all)
	resp := v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/cmdb_ci?sysparm_query=ORDERBYname&sysparm_limit=2&sysparm_offset=2&sysparm_fields=name"}, 200, &page)
	if diff := cmp.Diff(all.names()[2:4], page.names()); diff != "" {
		t.Errorf("page 2 (-want +got):\n%s", diff)
	}
	if len(page.Result[0]) != 1 {
		t.Errorf("sysparm_fields=name gave %v", page.Result[0])
	}
	if got := resp.Header.Get("X-Total-Count"); got != "5" {
		t.Errorf("X-Total-Count = %s", got)
	}
	link := resp.Header.Get("Link")
	for rel, offset := range map[string]string{"first": "0", "prev": "0", "next": "4", "last": "4"} {
		i := strings.Index(link, `rel="`+rel+`"`)
		start := strings.LastIndex(link[:max(i, 0)], "<")
		if i < 0 || start < 0 {
			t.Errorf("Link has no %s: %s", rel, link)
			continue
		}
		u, err := url.Parse(strings.TrimSuffix(link[start+1:i], ">;"))
		if err != nil || u.Query().Get("sysparm_offset") != offset || u.Query().Get("sysparm_limit") != "2" || u.Query().Get("sysparm_query") != "ORDERBYname" {
			t.Errorf("Link %s: %s (%v)", rel, link[start:i], err)
		}
	}
	resp = v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/cmdb_ci?sysparm_offset=10"}, 200, &page)
	if len(page.Result) != 0 || strings.Contains(resp.Header.Get("Link"), `rel="next"`) {
		t.Errorf("past the end: %v, Link %s", page.Result, resp.Header.Get("Link"))
	}
}

func TestTableErrors(t *testing.T) {
	v, ids := byolEnv(t)
	for _, c := range []struct {
		path   string
		status int
		want   string
	}{
		{"/api/now/table/nope", 400, "Invalid table nope"},
		{"/api/now/table/nope/" + ids["cmdb_ci_computer"], 400, "Invalid table nope"},
		{"/api/now/table/cmdb_ci/0123456789abcdef0123456789abcdef", 404, "No Record found"},
		{"/api/now/table/cmdb_ci_cloud_service_account/" + ids["cmdb_ci_computer"], 404, "No Record found"},
		{"/api/now/table/cmdb_ci?sysparm_query=name", 400, "expected a field name, an operator and a value"},
		{"/api/now/table/cmdb_ci?sysparm_query=nameFOOx", 400, "unknown operator"},
		{"/api/now/table/cmdb_ci?sysparm_query=ORname=x", 400, "^OR needs a term before it"},
		{"/api/now/table/cmdb_ci?sysparm_limit=ten", 400, "Invalid sysparm_limit"},
		{"/api/now/table/cmdb_ci?sysparm_offset=-1", 400, "Invalid sysparm_offset"},
		{"/api/now/cmdb/instance/cmdb_ci_vm_instance/" + ids["cmdb_ci_computer"], 404, "No Record found"},
	} {
		v.wantError(t, request{user: "reader", method: "GET", path: c.path}, c.status, c.want)
	}
	v.wantError(t, request{method: "GET", path: "/api/now/table/cmdb_ci"}, 401, "User Not Authenticated")
	v.call(t, request{user: "sam", method: "GET", path: "/api/now/v2/table/cmdb_ci"}, 200, nil)
	v.call(t, request{user: "ann", method: "GET", path: "/api/now/v1/cmdb/instance/cmdb_ci"}, 200, nil)
}

func TestCMDBInstance(t *testing.T) {
	v, ids := byolEnv(t)
	type ref struct {
		DisplayValue string `json:"display_value"`
		Link         string `json:"link"`
		Value        string `json:"value"`
	}
	type relation struct {
		SysID  string `json:"sys_id"`
		Type   ref    `json:"type"`
		Target ref    `json:"target"`
	}
	var ci struct {
		Result struct {
			Attributes map[string]string `json:"attributes"`
			Outbound   []relation        `json:"outbound_relations"`
			Inbound    []relation        `json:"inbound_relations"`
		}
	}
	vm := ids["cmdb_ci_vm_instance"]
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/cmdb/instance/cmdb_ci/" + vm}, 200, &ci)
	if a := ci.Result.Attributes; a["name"] != "VM Dedicated AWS - 1" || a["sys_id"] != vm || a["sys_class_name"] != "cmdb_ci_vm_instance" {
		t.Errorf("attributes: %v", a)
	}
	if len(ci.Result.Outbound) != 1 || len(ci.Result.Inbound) != 1 {
		t.Fatalf("relations: out %+v in %+v", ci.Result.Outbound, ci.Result.Inbound)
	}
	out, in := ci.Result.Outbound[0], ci.Result.Inbound[0]
	if out.Type.DisplayValue != "Runs on::Runs" || out.Target.Value != ids["cmdb_ci_cloud_host"] || out.Target.DisplayValue != "AWS Dedicated Host - 1" ||
		!strings.HasSuffix(out.Target.Link, "/api/now/cmdb/instance/cmdb_ci_cloud_host/"+ids["cmdb_ci_cloud_host"]) || len(out.SysID) != 32 {
		t.Errorf("outbound: %+v", out)
	}
	if in.Type.Value != "Virtualized by::Virtualizes" || in.Target.Value != ids["cmdb_ci_computer"] || in.Target.DisplayValue != "Comp - Dedicated AWS - 1" {
		t.Errorf("inbound: %+v", in)
	}
	var list rows
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/cmdb/instance/cmdb_ci_logical_datacenter"}, 200, &list)
	if diff := cmp.Diff([]map[string]string{{"name": "AWS DataCenter - 1", "sys_id": ids["cmdb_ci_aws_datacenter"]}}, list.Result); diff != "" {
		t.Errorf("instance list (-want +got):\n%s", diff)
	}
}

// TestRoles: the roles the package declares are those its routes accept,
// so irego users add accepts exactly the roles that open a route.
func TestRoles(t *testing.T) {
	if diff := cmp.Diff(servicenow.Roles, servicenow.Routes(nil).Roles()); diff != "" {
		t.Errorf("Roles (-declared +routes):\n%s", diff)
	}
}
