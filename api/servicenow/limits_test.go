package servicenow_test

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// TestQueryLengthCap: a sysparm_query over the limit is a 400 naming it,
// and is never copied into a Link header.
func TestQueryLengthCap(t *testing.T) {
	v := newEnv(t)
	resp, body := v.do(t, request{user: "ann", method: "GET", path: "/api/now/table/cmdb_ci?sysparm_limit=1&sysparm_query=nameLIKE" + strings.Repeat("x", 5000)})
	if resp.StatusCode != 400 || !strings.Contains(string(body), "sysparm_query is 5008 bytes long, over the limit of 4096 bytes") || resp.Header.Get("Link") != "" {
		t.Fatalf("%d %s (Link %d bytes)", resp.StatusCode, body, len(resp.Header.Get("Link")))
	}
	if resp, body := v.do(t, request{user: "ann", method: "GET", path: "/api/now/table/cmdb_ci?sysparm_limit=1&sysparm_query=nameLIKE" + strings.Repeat("x", 4000)}); resp.StatusCode != 200 {
		t.Fatalf("a query under the limit: %d %s", resp.StatusCode, body)
	}
}

// TestHostileJSON: invalid UTF-8, a key given twice and keys that differ
// only in case are 400s naming the field, on both write APIs.
func TestHostileJSON(t *testing.T) {
	v := newEnv(t)
	for _, c := range []struct{ path, body, want string }{
		{"/api/now/identifyreconcile?sysparm_data_source=ServiceNow", "{\"items\": [{\"className\": \"cmdb_ci_computer\", \"values\": {\"name\": \"a\xff\"}}]}", "field items[0].values.name: not valid UTF-8"},
		{"/api/now/identifyreconcile?sysparm_data_source=ServiceNow", `{"items": [{"className": "cmdb_ci_computer", "values": {"name": "a"}}], "items": []}`, "field items: given twice"},
		{"/api/now/identifyreconcile?sysparm_data_source=ServiceNow", `{"items": [{"className": "cmdb_ci_computer", "values": {"name": "a", "Name": "b"}}]}`, `keys \"name\" and \"Name\" differ only in case`},
		{"/api/now/sam_software_usage_integration/createOrUpdate", "{\"items\": [{\"configuration_item\": \"c\xc3\", \"norm_product\": \"p\", \"reclamation_type\": \"total_usage\", \"year\": 2020, \"month_used\": 2, \"usage_count\": 1}]}", "field items[0].configuration_item: not valid UTF-8"},
	} {
		resp, body := v.do(t, request{user: "root", method: "POST", path: c.path, body: c.body})
		if resp.StatusCode != 400 || !strings.Contains(string(body), c.want) || !utf8.Valid(body) {
			t.Errorf("%s %s: %d %s, want 400 with %q", c.path, c.body, resp.StatusCode, body, c.want)
		}
	}
}

// TestKeyTextLimit: identifying values, source names and SAM's
// configuration_item over the store's key text limit are item errors
// naming the attribute and the limit, never a 500 with a key dump.
func TestKeyTextLimit(t *testing.T) {
	v := newEnv(t)
	big := strings.Repeat("x", 70000)
	for _, c := range []struct{ path, body, want string }{
		{"/api/now/identifyreconcile?sysparm_data_source=ServiceNow",
			`{"items": [{"className": "cmdb_ci_computer", "values": {"name": "a", "serial_number": "` + big + `"}}]}`,
			"attribute serial_number is 70000 bytes long, over the limit of 4096 bytes"},
		{"/api/now/identifyreconcile?sysparm_data_source=" + strings.Repeat("S", 5000),
			`{"items": [{"className": "cmdb_ci_computer", "values": {"name": "a", "serial_number": "s1"}}]}`,
			"the data source name is 5000 bytes long, over the limit of 4096 bytes"},
		{"/api/now/identifyreconcile?sysparm_data_source=ServiceNow",
			`{"items": [{"className": "cmdb_ci_computer", "values": {"name": "a", "serial_number": "s1"}, "sys_object_source_info": {"source_name": "S", "source_native_key": "` + big + `"}}]}`,
			"sys_object_source_info.source_native_key is 70000 bytes long"},
		{"/api/now/sam_software_usage_integration/createOrUpdate",
			`{"items": [{"configuration_item": "` + big + `", "norm_product": "p", "reclamation_type": "total_usage", "year": 2020, "month_used": 2, "usage_count": 1}]}`,
			"configuration_item is 70000 bytes long, over the limit of 4096 bytes"},
	} {
		resp, body := v.do(t, request{user: "root", method: "POST", path: c.path, body: c.body})
		// SAM echoes each item as sent, as ServiceNow does; nothing else
		// may hold the long text (a key dump would).
		rest := strings.Replace(string(body), `"configuration_item":"`+big, "", 1)
		if resp.StatusCode >= 500 || !strings.Contains(rest, c.want) || strings.Contains(rest, "xxxxxxxx") || strings.Contains(rest, "v1/") {
			t.Errorf("%.80s: %d %.600s, want %q", c.path, resp.StatusCode, body, c.want)
		}
	}
}

// TestHostileXML: invalid UTF-8 in an XML body is a 400, and the reply is
// valid (it echoes nothing of the bad bytes).
func TestHostileXML(t *testing.T) {
	v := newEnv(t)
	body := "<request><items><configuration_item>c\xff</configuration_item><norm_product>p</norm_product><reclamation_type>total_usage</reclamation_type><year>2020</year><month_used>2</month_used><usage_count>1</usage_count></items></request>"
	resp, b := v.do(t, request{user: "sam", method: "POST", path: "/api/now/sam_software_usage_integration/createOrUpdate", body: body, contentType: "application/xml", accept: "application/json"})
	if resp.StatusCode != 400 || !utf8.Valid(b) || !strings.Contains(string(b), "UTF-8") {
		t.Fatalf("%d %q", resp.StatusCode, b)
	}
}
