package ilmt_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestPutLicenseUsage sets thresholds and custom fields per product and
// metric in a computer group; GET shows them.
func TestPutLicenseUsage(t *testing.T) {
	v := newEnv(t)
	v.apply("byol-ibm-three-vms.json")
	v.importNow()
	var before struct{ Rows []usageRow }
	v.call(request{user: "viewer", path: "/api/sam/v2/license_usage?criteria=" + q(`{"and":[["metric_code_name","=","PVU_FULL_CAP"]]}`)}, 200, &before)
	if len(before.Rows) != 1 {
		t.Fatalf("rows %+v", before.Rows)
	}
	pid, mid := before.Rows[0].ProductID, before.Rows[0].MetricID
	put := func(user, body string, status int) {
		t.Helper()
		v.call(request{user: user, method: "PUT", path: "/api/sam/v2/license_usage?computerGroupId=0", body: body}, status, nil)
	}
	put("manager", fmt.Sprintf(`[{"product_id": %d, "metric_id": %q, "bundle_id": -1, "threshold": 3000, "custom_field_1": "cost center 12"}]`, pid, mid), 200)
	// Another call changes one column and leaves the other.
	put("manager", fmt.Sprintf(`[{"product_id": "%d", "metric_id": %s, "custom_field_2": "owner: ops"}]`, pid, mid), 200)
	type row struct {
		MetricCodeName string  `json:"metric_code_name"`
		Threshold      *int    `json:"threshold"`
		Custom1        *string `json:"custom_field_1"`
		Custom2        *string `json:"custom_field_2"`
	}
	read := func() []string {
		var got struct{ Rows []row }
		v.call(request{user: "viewer", path: "/api/sam/v2/license_usage"}, 200, &got)
		var out []string
		for _, r := range got.Rows {
			s := r.MetricCodeName
			if r.Threshold != nil {
				s += fmt.Sprintf(" threshold=%d", *r.Threshold)
			}
			if r.Custom1 != nil {
				s += " 1=" + *r.Custom1
			}
			if r.Custom2 != nil {
				s += " 2=" + *r.Custom2
			}
			out = append(out, s)
		}
		return out
	}
	if diff := cmp.Diff([]string{"PVU_FULL_CAP threshold=3000 1=cost center 12 2=owner: ops", "PVU_SUB_CAP", "VIRTUAL_PROCESSOR_CORE"}, read()); diff != "" {
		t.Errorf("after PUT (-want +got):\n%s", diff)
	}
	// null clears.
	put("manager", fmt.Sprintf(`{"product_id": %d, "metric_id": %q, "threshold": null, "custom_field_1": null}`, pid, mid), 200)
	if diff := cmp.Diff([]string{"PVU_FULL_CAP 2=owner: ops", "PVU_SUB_CAP", "VIRTUAL_PROCESSOR_CORE"}, read()); diff != "" {
		t.Errorf("after clearing (-want +got):\n%s", diff)
	}
	// All or nothing: a row naming an unknown product is a 404, and the
	// row before it is not applied.
	v.wantError(request{user: "manager", method: "PUT", path: "/api/sam/v2/license_usage",
		body: fmt.Sprintf(`[{"product_id": %d, "metric_id": %q, "threshold": 1}, {"product_id": 999999, "metric_id": %q, "threshold": 1}]`, pid, mid, mid)}, 404,
		"Not Found: row 2: product_id: no software product 999999")
	v.wantError(request{user: "manager", method: "PUT", path: "/api/sam/v2/license_usage", body: fmt.Sprintf(`[{"product_id": %d, "metric_id": "424242"}]`, pid)}, 404, "metric_id: no metric 424242")
	v.wantError(request{user: "manager", method: "PUT", path: "/api/sam/v2/license_usage", body: fmt.Sprintf(`[{"product_id": %d, "metric_id": %q, "bundle_id": 7}]`, pid, mid)}, 404, "bundle_id: no bundle 7")
	v.wantError(request{user: "manager", method: "PUT", path: "/api/sam/v2/license_usage", body: fmt.Sprintf(`[{"product_id": %d, "metric_id": %q, "threshold": "lots"}]`, pid, mid)}, 400, `row 1: threshold: "lots" is not a whole number`)
	v.wantError(request{user: "manager", method: "PUT", path: "/api/sam/v2/license_usage", body: `[{"metric_id": "1"}]`}, 400, "row 1: product_id is required")
	if diff := cmp.Diff([]string{"PVU_FULL_CAP 2=owner: ops", "PVU_SUB_CAP", "VIRTUAL_PROCESSOR_CORE"}, read()); diff != "" {
		t.Errorf("after refused PUTs (-want +got):\n%s", diff)
	}
	// Viewing is not managing.
	v.wantError(request{user: "viewer", method: "PUT", path: "/api/sam/v2/license_usage", body: `[]`}, 403, "needs one of the roles [manage_contracts]")
	// While an import runs, nothing can change: 406.
	release := v.startHeldImport()
	v.wantError(request{user: "manager", method: "PUT", path: "/api/sam/v2/license_usage", body: fmt.Sprintf(`[{"product_id": %d, "metric_id": %q, "threshold": 5}]`, pid, mid)}, 406,
		"Not Acceptable: license: an import is in progress")
	release()
	put("manager", fmt.Sprintf(`[{"product_id": %d, "metric_id": %q, "threshold": 5}]`, pid, mid), 200)
	if got := read(); got[0] != "PVU_FULL_CAP threshold=5 2=owner: ops" {
		t.Errorf("after the import: %v", got)
	}
}
