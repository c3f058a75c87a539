package ilmt_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/irego/irego/internal/servertest"
)

// TestTokens: POST /api/get_token, the Token header, token= in the URL
// while the setting allows it, and the header winning over the URL.
func TestTokens(t *testing.T) {
	v := newEnv(t)
	tok := v.token("viewer")
	if len(tok) != 40 {
		t.Fatalf("token %q", tok)
	}
	// Another token (only digests are stored, so the first cannot be shown
	// again), also for a form as curl -d sends it; both work.
	var out struct{ Token string }
	form := url.Values{"user": {"viewer"}, "password": {servertest.Password("viewer")}}.Encode()
	v.call(request{method: "POST", path: "/api/get_token", body: form, header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"}}, 200, &out)
	if out.Token == tok || len(out.Token) != 40 {
		t.Errorf("second token %q, want a new one besides %q", out.Token, tok)
	}
	v.call(request{path: "/api/sam/v2/metrics?limit=1", header: map[string]string{"Token": out.Token}}, 200, nil)
	// Failures answer 500 "Bad Request", as License Metric Tool documents.
	v.wantError(request{method: "POST", path: "/api/get_token", body: `{"user": "viewer", "password": "wrong-password"}`}, 500, "Bad Request: Invalid user name or password")
	v.wantError(request{method: "POST", path: "/api/get_token", body: `{"user": "nobody", "password": "x"}`}, 500, "Bad Request: Invalid user name or password")
	v.wantError(request{method: "POST", path: "/api/get_token", body: `{"user": "viewer"}`}, 500, `Bad Request: give "user" and "password"`)
	v.wantError(request{method: "POST", path: "/api/get_token", body: `not json`}, 500, `Bad Request: the body must be`)

	const path = "/api/sam/v2/metrics?limit=1"
	v.wantError(request{path: path}, 401, "Required to provide a token")
	v.wantError(request{path: path, header: map[string]string{"Token": "nope"}}, 401, "Invalid token")
	v.call(request{path: path + "&token=" + tok}, 200, nil)
	// The header wins: a good URL token does not save a bad header.
	v.wantError(request{path: path + "&token=" + tok, header: map[string]string{"Token": "nope"}}, 401, "Invalid token")
	v.call(request{path: path + "&token=nope", header: map[string]string{"Token": tok}}, 200, nil)
	// HTTP Basic is the ServiceNow APIs' scheme, not this one's.
	req, _ := http.NewRequest("GET", v.url+path, nil)
	req.SetBasicAuth("viewer", servertest.Password("viewer"))
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 || resp.Header.Get("WWW-Authenticate") != "" {
		t.Errorf("Basic auth on a token route: %v %v", resp, err)
	}
	// Without URL tokens, the header is the only way.
	v.call(request{user: "root", method: "PUT", path: "/api/sam/configs", body: `[{"name": "api_token_in_url_enabled", "value": false}]`}, 200, nil)
	v.wantError(request{path: path + "&token=" + tok}, 401, "api_token_in_url_enabled is false")
	v.call(request{path: path, header: map[string]string{"Token": tok}}, 200, nil)
	// Roles still apply.
	v.wantError(request{user: "itil", path: path}, 403, "needs one of the roles [manage_contracts view_license_metrics]")
}

func TestConfigs(t *testing.T) {
	v := newEnv(t)
	var all []map[string]any
	v.call(request{user: "root", path: "/api/sam/configs"}, 200, &all)
	got := map[string]any{}
	for _, s := range all {
		got[fmt.Sprint(s["name"])] = s["value"]
	}
	if got["api_token_in_url_enabled"] != true || got["expose_deprecated_api"] != false || got["import_interval"] != "1d" {
		t.Errorf("defaults: %v", got)
	}
	v.wantError(request{user: "root", method: "PUT", path: "/api/sam/configs", body: `{"expose_deprecated_api": "maybe", "nonsense": 1}`}, 400,
		`expose_deprecated_api: "maybe" is not true or false; unknown setting "nonsense"`)
	v.wantError(request{user: "root", method: "PUT", path: "/api/sam/configs", body: `{"import_interval": "soon"}`}, 400, `bad duration "soon"`)
	v.call(request{user: "root", method: "PUT", path: "/api/sam/configs", body: `{"import_interval": "12h", "contract_required_custom_fields": [3, 1]}`}, 200, &all)
	for _, s := range all {
		if s["name"] == "import_interval" && s["value"] != "12h0m0s" || s["name"] == "contract_required_custom_fields" && s["value"] != "1,3" {
			t.Errorf("after PUT: %v", s)
		}
	}
	v.wantError(request{user: "viewer", path: "/api/sam/configs"}, 403, "needs one of the roles [admin]")
}

// TestComputerGroups: a user sees the groups granted to them and below.
func TestComputerGroups(t *testing.T) {
	v := newEnv(t)
	v.apply("byol-ibm-three-vms.json")
	v.importNow()
	v.call(request{user: "root", method: "PUT", path: "/api/sam/v2/computer_groups", body: `[
	  {"id": 0, "users": ["manager"]},
	  {"name": "Dedicated", "condition": "name startsWith \"ibm-dedicated\"", "users": ["viewer"]},
	  {"name": "Dedicated 2", "parent_id": 1, "condition": "cpu_core_count < 4"}]`}, 200, nil)
	groups := v.list("viewer", "/api/sam/v2/computer_groups?columns[]=id&columns[]=name")
	if fmt.Sprint(groups.Rows) != "[map[id:1 name:Dedicated] map[id:2 name:Dedicated 2]]" {
		t.Errorf("viewer's groups: %v", groups.Rows)
	}
	// The viewer's default group is Dedicated: the shared VM is not in it.
	resp := v.call(request{user: "viewer", path: "/api/sam/v2/license_usage"}, 200, nil)
	if resp.Header.Values("computerGroupId")[0] != "1" {
		t.Errorf("default group: %v", resp.Header)
	}
	if got := summary(v.list("viewer", "/api/sam/v2/license_usage"), "hwm_quantity"); fmt.Sprint(got) != "["+was+" PVU_FULL_CAP=2240 "+was+" PVU_SUB_CAP=420 "+was+" VIRTUAL_PROCESSOR_CORE=6]" {
		t.Errorf("Dedicated: %v", got)
	}
	if got := summary(v.list("viewer", "/api/sam/v2/license_usage?computerGroupId=2"), "hwm_quantity"); fmt.Sprint(got) != "["+was+" PVU_FULL_CAP=2240 "+was+" PVU_SUB_CAP=140 "+was+" VIRTUAL_PROCESSOR_CORE=2]" {
		t.Errorf("Dedicated 2: %v", got)
	}
	v.wantError(request{user: "viewer", path: "/api/sam/v2/license_usage?computerGroupId=0"}, 403, `no computer group 0 that user "viewer" may see`)
	v.call(request{user: "root", method: "PUT", path: "/api/sam/configs", body: `{"expose_deprecated_api": true}`}, 200, nil)
	v.wantError(request{user: "viewer", path: "/api/sam/license_usages"}, 403, "needs the All Computers computer group")
	// Contracts follow their group.
	v.call(request{user: "manager", method: "PUT", path: "/api/sam/v2/contracts", body: `[{"contract_id": "D", "computer_group": {"name": "Dedicated"}}]`}, 200, nil)
	var rep importReply
	v.call(request{user: "root", method: "PUT", path: "/api/sam/v2/computer_groups", body: `[{"id": 0, "users": []}, {"id": 1, "users": ["manager"]}, {"id": 2, "users": []}]`}, 200, nil)
	v.call(request{user: "manager", method: "PUT", path: "/api/sam/v2/contracts", body: `[{"contract_id": "E"}]`}, 400, &rep)
	if !strings.Contains(fmt.Sprint(rep.RowErrors), "goes to All Computers, which you cannot access") {
		t.Errorf("a new contract in All Computers without access to it: %v", rep.RowErrors)
	}
	// Group administration errors.
	v.wantError(request{user: "root", method: "PUT", path: "/api/sam/v2/computer_groups", body: `[{"name": "Bad", "condition": "name startsWith"}]`}, 400, `bad condition "name startsWith"`)
	v.wantError(request{user: "root", method: "PUT", path: "/api/sam/v2/computer_groups", body: `[{"id": 1, "parent_id": 2}]`}, 400, "parent 2 is below it")
	v.wantError(request{user: "root", method: "DELETE", path: "/api/sam/v2/computer_groups/1"}, 409, "has groups or contracts under it")
	v.call(request{user: "root", method: "DELETE", path: "/api/sam/v2/computer_groups/2"}, 204, nil)
	v.wantError(request{user: "root", method: "DELETE", path: "/api/sam/v2/computer_groups/2"}, 404, "no computer group 2")
	v.wantError(request{user: "viewer", method: "PUT", path: "/api/sam/v2/computer_groups", body: `[]`}, 403, "admin")
}
