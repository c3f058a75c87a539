package servicenow_test

import (
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/irego/irego/engine"
)

// testClock is a settable clock shared with the server's engine.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) set(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now, _ = time.Parse(time.DateTime, s)
}

// TestTableShowsDiscoveryAndSystemTimes: the Table and CMDB Instance APIs
// show discovery_source, first_discovered, last_discovered, sys_created_on
// and sys_updated_on as the engine keeps them, and sysparm_query filters
// on them.
func TestTableShowsDiscoveryAndSystemTimes(t *testing.T) {
	c := &testClock{}
	c.set("2026-01-01 08:00:00")
	e, err := engine.Open(t.TempDir(), engine.Options{Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	v := serveEngine(t, e)
	post := func(source, body string) applyResult {
		var res applyResult
		v.call(t, request{user: "ann", method: "POST", path: "/api/now/identifyreconcile?sysparm_data_source=" + source, body: body}, 200, &res)
		return res
	}
	body := `{"items":[{"className":"cmdb_ci_computer","values":{"name":"pc1","first_discovered":"2025-12-24 10:00:00"}}]}`
	id := post("SCCM", body).Result.Items[0].SysID
	c.set("2026-01-02 09:30:00")
	if op := post("ServiceNow", body).Result.Items[0].Operation; op != "NO_CHANGE" {
		t.Fatalf("second report: %s", op)
	}
	want := map[string]string{"discovery_source": "SCCM", "first_discovered": "2025-12-24 10:00:00", "last_discovered": "2026-01-02 09:30:00",
		"sys_created_on": "2026-01-01 08:00:00", "sys_updated_on": "2026-01-01 08:00:00"}
	var one struct{ Result map[string]string }
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/cmdb_ci_computer/" + id}, 200, &one)
	var inst struct {
		Result struct{ Attributes map[string]string }
	}
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/cmdb/instance/cmdb_ci_computer/" + id}, 200, &inst)
	for k, w := range want {
		if one.Result[k] != w {
			t.Errorf("table: %s = %q, want %q", k, one.Result[k], w)
		}
		if inst.Result.Attributes[k] != w {
			t.Errorf("instance: %s = %q, want %q", k, inst.Result.Attributes[k], w)
		}
	}
	var found rows
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/cmdb_ci?sysparm_query=" + url.QueryEscape("last_discovered>2026-01-02 00:00:00")}, 200, &found)
	if len(found.Result) != 1 || found.Result[0]["sys_id"] != id {
		t.Errorf("query on last_discovered: %v", found.Result)
	}

	// A source outside the list is refused, naming the allowed ones.
	res := post("Nagios", body)
	if !res.Result.HasError || res.Result.Items[0].Errors[0].Error != "INVALID_INPUT_DATA" ||
		!strings.Contains(res.Result.Items[0].Errors[0].Message, "ManualEntry") {
		t.Errorf("unknown source: %+v", res.Result.Items[0])
	}
}
