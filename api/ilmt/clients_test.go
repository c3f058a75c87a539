package ilmt_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
)

// usageRow is a v2 license_usage row with the types License Metric Tool
// documents, as a client written against its documentation declares it.
type usageRow struct {
	ProductPublisherName      string  `json:"product_publisher_name"`
	ProductID                 int     `json:"product_id"`
	ProductName               string  `json:"product_name"`
	ProductFamilyGUID         string  `json:"product_family_guid"`
	MetricID                  string  `json:"metric_id"`
	MetricName                string  `json:"metric_name"`
	MetricCodeName            string  `json:"metric_code_name"`
	HwmQuantity               int     `json:"hwm_quantity"`
	BundleGUID                *string `json:"bundle_guid"`
	BundleID                  *int    `json:"bundle_id"`
	BundleMetricContribution  *int    `json:"bundle_metric_contribution"`
	BundleName                *string `json:"bundle_name"`
	BundleType                []int   `json:"bundle_type"`
	FlexID                    *int    `json:"flex_id"`
	ProductBundleRatioFactor  *int    `json:"product_bundle_ratio_factor"`
	ProductBundleRatioDivider *int    `json:"product_bundle_ratio_divider"`
}

type perServerRow struct {
	ProductID      int    `json:"product_id"`
	MetricID       string `json:"metric_id"`
	MetricCodeName string `json:"metric_code_name"`
	BundleID       *int   `json:"bundle_id"`
	ServerID       int    `json:"server_id"`
	HwmQuantity    int    `json:"hwm_quantity"`
	HwmCores       int    `json:"hwm_cores"`
}

type v1Row struct {
	SoftwareTitleID  int    `json:"software_title_id"`
	MetricName       string `json:"metric_name"`
	ComputerSystemID int    `json:"computer_system_id"`
	PeakValue        int    `json:"peak_value"`
	PeakDate         string `json:"peak_date"`
	Dimension        struct {
		Name string `json:"name"`
	} `json:"software_title_dimension"`
}

// TestTypedClient decodes the replies as a typed client does: every column
// with its documented type, numbers as numbers, nulls where there is no
// bundle. Decoding into int fails on "" as it did before.
func TestTypedClient(t *testing.T) {
	v := newEnv(t)
	v.apply("byol-ibm-three-vms.json")
	v.importNow()
	var usage struct {
		Total int        `json:"total"`
		Rows  []usageRow `json:"rows"`
	}
	v.call(request{user: "viewer", path: "/api/sam/v2/license_usage"}, 200, &usage)
	var got []string
	for _, r := range usage.Rows {
		if r.ProductID <= 0 || r.MetricID == "" || r.ProductFamilyGUID == "" || r.BundleID != nil || r.BundleType != nil || r.BundleMetricContribution != nil || r.FlexID != nil {
			t.Errorf("row %+v", r)
		}
		got = append(got, fmt.Sprintf("%s %s=%d", r.ProductName, r.MetricCodeName, r.HwmQuantity))
	}
	if diff := cmp.Diff([]string{was + " PVU_FULL_CAP=2800", was + " PVU_SUB_CAP=980", was + " VIRTUAL_PROCESSOR_CORE=14"}, got); diff != "" || usage.Total != 3 {
		t.Errorf("license_usage total %d (-want +got):\n%s", usage.Total, diff)
	}
	var per struct {
		Total int            `json:"total"`
		Rows  []perServerRow `json:"rows"`
	}
	v.call(request{user: "viewer", path: "/api/sam/v2/license_usage_per_server?date=2026-03-02"}, 200, &per)
	if per.Total != 6 || per.Rows[0].ServerID <= 0 || per.Rows[0].BundleID != nil {
		t.Errorf("per server: %+v", per)
	}
	v.call(request{user: "root", method: "PUT", path: "/api/sam/configs", body: `{"expose_deprecated_api": true}`}, 200, nil)
	var v1 []v1Row
	v.call(request{user: "viewer", path: "/api/sam/license_usages"}, 200, &v1)
	if len(v1) != 7 || v1[0].ComputerSystemID <= 0 || v1[0].SoftwareTitleID <= 0 {
		t.Errorf("v1: %+v", v1)
	}
	// The schema says so too.
	var schema struct {
		Properties struct {
			Rows struct {
				Items struct {
					Properties map[string]struct {
						Type any `json:"type"`
					} `json:"properties"`
				} `json:"items"`
			} `json:"rows"`
		} `json:"properties"`
	}
	v.call(request{user: "viewer", path: "/api/sam/v2/schemas/license_usage.json"}, 200, &schema)
	types := map[string]string{}
	for _, k := range []string{"bundle_id", "bundle_type", "bundle_metric_contribution", "metric_id", "product_id"} {
		types[k] = fmt.Sprint(schema.Properties.Rows.Items.Properties[k].Type)
	}
	want := map[string]string{"bundle_id": "[number null]", "bundle_type": "[array null]", "bundle_metric_contribution": "[number null]", "metric_id": "string", "product_id": "number"}
	if diff := cmp.Diff(want, types); diff != "" {
		t.Errorf("schema types (-want +got):\n%s", diff)
	}
}

// TestNumericCriteria compares number columns numerically, with the value
// sent as a number or as a string, and sets of numbers by their members.
func TestNumericCriteria(t *testing.T) {
	v := newEnv(t)
	v.apply("byol-ibm-three-vms.json")
	v.importNow()
	for criteria, want := range map[string][]string{
		`{"and": [["hwm_quantity", ">", "1000"]]}`:                 {was + " PVU_FULL_CAP=2800"},
		`{"and": [["hwm_quantity", ">", 1000]]}`:                   {was + " PVU_FULL_CAP=2800"},
		`{"and": [["hwm_quantity", "<", "100"]]}`:                  {was + " VIRTUAL_PROCESSOR_CORE=14"},
		`{"and": [["hwm_quantity", ">=", "980.0"]]}`:               {was + " PVU_FULL_CAP=2800", was + " PVU_SUB_CAP=980"},
		`{"and": [["bundle_type", ">", "-1"]]}`:                    nil,
		`{"and": [["bundle_id", "is_empty"]]}`:                     {was + " PVU_FULL_CAP=2800", was + " PVU_SUB_CAP=980", was + " VIRTUAL_PROCESSOR_CORE=14"},
		`{"and": [["bundle_metric_contribution", "!=", "5"]]}`:     {was + " PVU_FULL_CAP=2800", was + " PVU_SUB_CAP=980", was + " VIRTUAL_PROCESSOR_CORE=14"},
		`{"or": [["metric_id", "=", "2"], ["metric_id", "=", 5]]}`: {was + " PVU_SUB_CAP=980", was + " VIRTUAL_PROCESSOR_CORE=14"},
	} {
		got := v.list("viewer", "/api/sam/v2/license_usage?criteria="+q(criteria))
		if diff := cmp.Diff(want, summary(got, "hwm_quantity")); diff != "" {
			t.Errorf("%s (-want +got):\n%s", criteria, diff)
		}
	}
	v.wantError(request{user: "viewer", path: "/api/sam/v2/license_usage?criteria=" + q(`{"and": [["hwm_quantity", ">", "many"]]}`)}, 400,
		`hwm_quantity > takes a number, got "many"`)
}

// TestRepeatedCriteria: every criteria parameter applies, combined with and.
func TestRepeatedCriteria(t *testing.T) {
	v := newEnv(t)
	v.apply("byol-ibm-three-vms.json")
	v.importNow()
	got := v.list("viewer", "/api/sam/v2/license_usage?criteria="+q(`{"and":[["metric_code_name","begins_with","PVU"]]}`)+
		"&criteria="+q(`{"and":[["hwm_quantity","<","1000"]]}`))
	if diff := cmp.Diff([]string{was + " PVU_SUB_CAP=980"}, summary(got, "hwm_quantity")); diff != "" {
		t.Errorf("two criteria (-want +got):\n%s", diff)
	}
	got = v.list("viewer", "/api/sam/v2/license_usage?criteria[]="+q(`{"or":[["metric_code_name","=","PVU_SUB_CAP"],["metric_code_name","=","VIRTUAL_PROCESSOR_CORE"]]}`)+
		"&criteria[]="+q(`{"and":[["hwm_quantity",">","100"]]}`)+"&criteria[]="+q(`{"and":[["product_publisher_name","=","IBM"]]}`))
	if diff := cmp.Diff([]string{was + " PVU_SUB_CAP=980"}, summary(got, "hwm_quantity")); diff != "" {
		t.Errorf("three criteria[] (-want +got):\n%s", diff)
	}
	v.wantError(request{user: "viewer", path: "/api/sam/v2/license_usage?criteria=" + q(`{"and":[]}`) + "&criteria=" + q(`{"and":[["nope","=","1"]]}`)}, 400,
		`criteria (value 2): at character 10: unknown column "nope"`)
}

// TestCountSwitch: 2 answers the total and no rows, 1 the rows and no
// total, anything else both.
func TestCountSwitch(t *testing.T) {
	v := newEnv(t)
	v.apply("byol-ibm-three-vms.json")
	v.importNow()
	for sw, want := range map[string]string{"2": `{"total":3,"rows":[]}`, "1": `rows 3, no total`, "": `total 3, rows 3`, "7": `total 3, rows 3`} {
		_, b := v.do(request{user: "viewer", path: "/api/sam/v2/license_usage?columns[]=product_id&countSwitch=" + sw})
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(b, &raw); err != nil {
			t.Fatal(err)
		}
		var rows []any
		json.Unmarshal(raw["rows"], &rows)
		got := strings.TrimSpace(string(b))
		switch {
		case sw == "2":
		case raw["total"] == nil:
			got = fmt.Sprintf("rows %d, no total", len(rows))
		default:
			got = fmt.Sprintf("total %s, rows %d", raw["total"], len(rows))
		}
		if got != want {
			t.Errorf("countSwitch=%q: %s, want %s", sw, got, want)
		}
	}
}

// TestV1AndV2TotalsOnExamples: after each example of examples/ (applied in
// turn, as a feed sends them), the deprecated per-system peaks add up to
// the v2 high-water marks, product by product and metric by metric.
func TestV1AndV2TotalsOnExamples(t *testing.T) {
	v := newEnv(t)
	v.call(request{user: "root", method: "PUT", path: "/api/sam/configs", body: `{"expose_deprecated_api": true}`}, 200, nil)
	files, err := filepath.Glob("../../examples/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("examples: %v %v", files, err)
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		p, err := payload.DecodeBytes(b)
		if err != nil {
			t.Fatal(err)
		}
		// Some examples fail on purpose (a datacenter before its account):
		// what they leave is counted all the same.
		if _, err := v.e.Apply(context.Background(), "AWS", p, engine.DefaultApplyOptions()); err != nil {
			t.Fatal(err)
		}
		v.importNow()
		var v1 []v1Row
		v.call(request{user: "viewer", path: "/api/sam/license_usages?columns[]=software_title_dimension.name&columns[]=metric_name&columns[]=peak_value"}, 200, &v1)
		v1Totals := map[string]int{}
		for _, r := range v1 {
			v1Totals[r.Dimension.Name+" "+r.MetricName] += r.PeakValue
		}
		var v2 struct{ Rows []usageRow }
		v.call(request{user: "viewer", path: "/api/sam/v2/license_usage"}, 200, &v2)
		v2Totals := map[string]int{}
		for _, r := range v2.Rows {
			v2Totals[r.ProductName+" "+r.MetricCodeName] += r.HwmQuantity
		}
		if diff := cmp.Diff(v2Totals, v1Totals); diff != "" {
			t.Errorf("after %s: v1 totals differ from v2 (-v2 +v1):\n%s", filepath.Base(f), diff)
		}
		t.Logf("after %s: %d products and metrics, %v", filepath.Base(f), len(v2Totals), v2Totals)
	}
}
