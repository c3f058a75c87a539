package servicenow_test

import (
	"strings"
	"testing"
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
