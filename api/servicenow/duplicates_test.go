package servicenow_test

import (
	"context"
	"net/url"
	"slices"
	"testing"

	"github.com/irego/irego/engine"
)

// De-duplication tasks read through the Table API as ServiceNow names them:
// reconcile_duplicate_task rows and a duplicate_audit_result row per CI.
func TestTableDuplicateTasks(t *testing.T) {
	v := newEnv(t)
	var ids []string
	for _, body := range []string{
		`{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S1","name":"localhost"}}]}`,
		`{"items":[{"className":"cmdb_ci_computer","values":{"serial_number":"S2","name":"localhost"}}]}`,
		`{"items":[{"className":"cmdb_ci_computer","values":{"name":"localhost","ram":4}}]}`,
	} {
		var res applyResult
		v.call(t, request{user: "ann", method: "POST", path: "/api/now/identifyreconcile?sysparm_data_source=SCCM", body: body}, 200, &res)
		ids = append(ids, res.sysIDs()["cmdb_ci_computer"])
	}
	if ids[2] != ids[0] {
		t.Fatalf("the report by name did not update the oldest localhost: %v", ids)
	}
	var tasks rows
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/reconcile_duplicate_task"}, 200, &tasks)
	if len(tasks.Result) != 1 {
		t.Fatalf("tasks: %v", tasks.Result)
	}
	task := tasks.Result[0]
	if task["number"] != "DUP0000001" || task["state"] != "1" || task["active"] != "true" || task["sys_class_name"] != "reconcile_duplicate_task" {
		t.Fatalf("task row: %v", task)
	}
	var audit rows
	q := url.QueryEscape("follow_on_task=" + task["sys_id"] + "^ORDERBYduplicate_ci")
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/duplicate_audit_result?sysparm_query=" + q + "&sysparm_fields=duplicate_ci,sys_id"}, 200, &audit)
	var cis []string
	for _, m := range audit.Result {
		cis = append(cis, m["duplicate_ci"])
	}
	if want := slices.Sorted(slices.Values(ids[:2])); !slices.Equal(cis, want) {
		t.Fatalf("audit rows name %v, want %v", cis, want)
	}
	var one struct{ Result map[string]string }
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/duplicate_audit_result/" + audit.Result[0]["sys_id"]}, 200, &one)
	if one.Result["follow_on_task"] != task["sys_id"] {
		t.Fatalf("one audit row: %v", one.Result)
	}
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/reconcile_duplicate_task/" + task["sys_id"]}, 200, &one)
	if one.Result["number"] != "DUP0000001" {
		t.Fatalf("one task: %v", one.Result)
	}
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/reconcile_duplicate_task/" + ids[0]}, 404, nil)

	if _, err := v.e.MergeDuplicates(context.Background(), "DUP0000001", engine.MergeOptions{}); err != nil {
		t.Fatal(err)
	}
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/reconcile_duplicate_task?sysparm_query=active=true"}, 200, &tasks)
	if len(tasks.Result) != 0 {
		t.Fatalf("active tasks after the merge: %v", tasks.Result)
	}
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/reconcile_duplicate_task?sysparm_query=state=3"}, 200, &tasks)
	if len(tasks.Result) != 1 {
		t.Fatalf("closed complete tasks after the merge: %v", tasks.Result)
	}
	var computers rows
	v.call(t, request{user: "reader", method: "GET", path: "/api/now/table/cmdb_ci_computer?sysparm_query=duplicate_ofISEMPTY"}, 200, &computers)
	if len(computers.Result) != 1 {
		t.Fatalf("computers not merged into another: %v", computers.Result)
	}
}
