package ilmt_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// importReply is the reply of a contract import.
type importReply struct {
	IncorrectRows int `json:"incorrectRows"`
	AllRows       int `json:"allRows"`
	Created       int `json:"created"`
	Updated       int `json:"updated"`
	Message       struct{ Code, Text string }
	RowErrors     map[string][]string `json:"rowErrors"`
	Detail        string              `json:"detail"`
}

// sevenRows is the seed's failed import: seven contracts, custom field 2
// required and given by none, row 3 repeating row 2's id, row 7 repeating
// row 6's name and type, row 1 without an id.
const sevenRows = `[
  {"name": "No id", "type": 1},
  {"contract_id": "CO2", "name": "Two", "type": 1},
  {"contract_id": "CO2", "name": "Three", "type": 1},
  {"contract_id": "CO4", "name": "Four", "type": 2},
  {"contract_id": "CO5", "name": "Five", "type": 3},
  {"contract_id": "CO6", "name": "Six", "type": 1},
  {"contract_id": "CO7", "name": "Six", "type": 1}
]`

func TestContractImportAllOrNothing(t *testing.T) {
	v := newEnv(t)
	v.call(request{user: "root", method: "PUT", path: "/api/sam/configs", body: `{"contract_required_custom_fields": "2"}`}, 200, nil)
	var rep importReply
	v.call(request{user: "manager", method: "PUT", path: "/api/sam/v2/contracts.json", body: sevenRows}, 400, &rep)
	want := importReply{IncorrectRows: 7, AllRows: 7,
		Message: struct{ Code, Text string }{"CODUI4099E", "Contract processing failed. The contracts have not been imported."},
		RowErrors: map[string][]string{
			"1": {"|CODUI4047E|Required field contract_id is empty", "|CODUI4057E|Custom field with ID 2 is required"},
			"2": {"|CODUI4057E|Custom field with ID 2 is required"},
			"3": {"|CODUI4042E|A contract with the specified contract ID already exists (row 2)", "|CODUI4057E|Custom field with ID 2 is required"},
			"4": {"|CODUI4057E|Custom field with ID 2 is required"},
			"5": {"|CODUI4057E|Custom field with ID 2 is required"},
			"6": {"|CODUI4057E|Custom field with ID 2 is required"},
			"7": {"|CODUI4057E|Custom field with ID 2 is required", "|CODUI4040E|A contract with the specified name and type already exists"},
		}}
	if diff := cmp.Diff(want, rep); diff != "" {
		t.Errorf("reply (-want +got):\n%s", diff)
	}
	if got := v.list("manager", "/api/sam/v2/contracts"); *got.Total != 0 {
		t.Fatalf("a failed import stored contracts: %+v", got)
	}
	// Fixed, the same import goes through whole.
	fixed := strings.NewReplacer(`{"name": "No id"`, `{"contract_id": "CO1", "name": "One"`, `"contract_id": "CO2", "name": "Three"`, `"contract_id": "CO3", "name": "Three"`,
		`"contract_id": "CO7", "name": "Six"`, `"contract_id": "CO7", "name": "Seven"`, `"type":`, `"contract_custom_field_2": "cc-1", "type":`).Replace(sevenRows)
	v.call(request{user: "manager", method: "POST", path: "/api/sam/v2/contracts", body: fixed}, 200, &rep)
	if rep.AllRows != 7 || rep.Created != 7 || rep.Message.Code != "CODUI4098I" {
		t.Errorf("fixed import: %+v", rep)
	}
	got := v.list("manager", "/api/sam/v2/contracts?columns[]=contract_id&columns[]=contract_custom_field_2&criteria="+q(`{"and": [["type", "=", 1]]}`))
	wantRows := []map[string]any{
		{"contract_id": "CO1", "contract_custom_field_2": "cc-1"}, {"contract_id": "CO2", "contract_custom_field_2": "cc-1"},
		{"contract_id": "CO3", "contract_custom_field_2": "cc-1"}, {"contract_id": "CO6", "contract_custom_field_2": "cc-1"},
		{"contract_id": "CO7", "contract_custom_field_2": "cc-1"},
	}
	if diff := cmp.Diff(wantRows, got.Rows); diff != "" {
		t.Errorf("export (-want +got):\n%s", diff)
	}
}

// TestContractMerge: a column left out stays, null clears, purchase orders
// merge by number, the documented example round-trips.
func TestContractMerge(t *testing.T) {
	v := newEnv(t)
	putTo := func(path, body string, status int) importReply {
		t.Helper()
		var rep importReply
		v.call(request{user: "manager", method: "PUT", path: path, body: body}, status, &rep)
		return rep
	}
	put := func(body string, status int) importReply {
		t.Helper()
		return putTo("/api/sam/v2/contracts.json", body, status)
	}
	// The documentation's PUT example, whose software no import found:
	// created as asked.
	putTo("/api/sam/v2/contracts.json?createSoftware=true", `[{"contract_id": "CO1", "name": "Contract1", "type": 2, "threshold": 100,
	       "metric": {"id": 9, "code_name": "INTERNAL_INSTALL"}, "computer_group": {"id": 0, "name": "All Computers"},
	       "purchase_orders": [{"purchase_number": "PO1", "quantity": 5000, "entitlement_start": "2021-08-03", "entitlement_end": "2030-05-21"},
	                           {"purchase_number": "PO2", "quantity": 2, "entitlement_start": "2030-05-21", "entitlement_end": "2030-06-21"}],
	       "software_products": [{"name": "Notepad++", "publisher_name": "don.h@free.fr"}]}]`, 200)
	rep := put(`[{"contract_id": "CO1", "threshold": null, "purchase_orders": [{"purchase_number": "PO2", "quantity": -1}, {"purchase_number": "PO3", "quantity": 7, "expense": 12.5}]}]`, 200)
	if rep.Updated != 1 || rep.Created != 0 {
		t.Errorf("update: %+v", rep)
	}
	var out struct {
		Rows []json.RawMessage `json:"rows"`
	}
	v.call(request{user: "manager", path: "/api/sam/v2/contracts.json"}, 200, &out)
	want := `{"contract_id":"CO1","name":"Contract1","type":2,"threshold":null,"threshold_type":null,` +
		`"computer_group":{"id":0,"name":"All Computers"},"metric":{"id":9,"code_name":"INTERNAL_INSTALL"},` +
		`"purchase_orders":[{"purchase_number":"PO1","quantity":5000,"entitlement_start":"2021-08-03","entitlement_end":"2030-05-21"},` +
		`{"purchase_number":"PO2","quantity":-1},{"purchase_number":"PO3","quantity":7,"expense":12.5}],` +
		`"software_products":[{"name":"Notepad++","publisher_name":"don.h@free.fr"}]}`
	if len(out.Rows) != 1 || string(out.Rows[0]) != want {
		t.Errorf("after the update:\n got %s\nwant %s", out.Rows, want)
	}
	// Every fault of every row, and nothing changes.
	rep = put(`[{"contract_id": "CO1", "metric": {"code_name": "INTERNAL_PVU"}, "type": 9, "colour": "red"},
	            {"contract_id": "CO8", "metric": {"id": 424242}, "computer_group": {"name": "Nowhere"},
	             "purchase_orders": [{"purchase_number": "A", "quantity": 1, "entitlement_start": "2026-02-01", "entitlement_end": "2026-01-01"},
	                                 {"purchase_number": "A", "quantity": -2}, {"quantity": "many"}]}]`, 400)
	wantErrors := map[string][]string{
		"1": {"|CODUI4049E|Unknown column colour", "|CODUI4041E|Field type must be 1 (license), 2 (support), 3 (service), 4 (hardware) or 5 (other), not 9",
			"|CODUI4044E|Metric INTERNAL_PVU cannot be assigned to a contract"},
		"2": {"|CODUI4041E|Field purchase_orders[3].quantity must be a whole number, not \"many\"",
			`|CODUI4045E|Computer group with name "Nowhere" does not exist or you cannot access it`,
			"|CODUI4043E|Metric with ID 424242 does not exist",
			"|CODUI4048E|Purchase order \"A\" ends (2026-01-01) before it starts (2026-02-01)",
			"|CODUI4046E|Purchase number \"A\" is given twice in the contract (purchase orders 1 and 2)",
			"|CODUI4047E|Required field purchase_orders[3].purchase_number is empty"},
	}
	if diff := cmp.Diff(wantErrors, rep.RowErrors); diff != "" {
		t.Errorf("row errors (-want +got):\n%s", diff)
	}
	var again struct {
		Rows []json.RawMessage `json:"rows"`
	}
	v.call(request{user: "manager", path: "/api/sam/v2/contracts.json"}, 200, &again)
	if len(again.Rows) != 1 || string(again.Rows[0]) != want {
		t.Errorf("a failed import changed the contract: %s", again.Rows)
	}
	// Not JSON at all.
	rep = put(`[{"contract_id": "CO9",]`, 400)
	if rep.Message.Code != "CODUI4099E" || !strings.Contains(rep.Detail, "not JSON") {
		t.Errorf("bad body: %+v", rep)
	}
	// A new code name makes a custom metric.
	put(`{"contract_id": "CO9", "metric": {"code_name": "MY_METRIC"}}`, 200)
	metrics := v.list("manager", "/api/sam/v2/metrics?criteria="+q(`{"and": [["code_name", "=", "MY_METRIC"]]}`))
	if len(metrics.Rows) != 1 || metrics.Rows[0]["source_type"] != 2.0 || metrics.Rows[0]["id"] != 100001.0 {
		t.Errorf("custom metric: %+v", metrics)
	}
	v.wantError(request{user: "viewer", path: "/api/sam/v2/contracts"}, 403, "manage_contracts")
	var schema map[string]any
	v.call(request{user: "manager", path: "/api/sam/v2/schemas/contract.json"}, 200, &schema)
	if req, _ := schema["required"].([]any); len(req) != 1 || req[0] != "contract_id" {
		t.Errorf("schema: %v", schema)
	}
}

// TestCompliance sets contracts beside the peaks: enough, too little,
// unlimited.
func TestCompliance(t *testing.T) {
	v := newEnv(t)
	v.apply("byol-ibm-three-vms.json")
	v.apply("byol-dedicated-vm.json")
	v.importNow()
	v.call(request{user: "manager", method: "PUT", path: "/api/sam/v2/contracts", body: `[
	  {"contract_id": "WAS-SUB", "name": "WebSphere subcapacity", "type": 1, "metric": {"code_name": "PVU_SUB_CAP"},
	   "software_products": [{"name": "WebSphere Application Server", "publisher_name": "IBM"}],
	   "purchase_orders": [{"purchase_number": "P1", "quantity": 600, "entitlement_start": "2026-01-01", "entitlement_end": "9999-12-31"},
	                       {"purchase_number": "P2", "quantity": 400, "entitlement_start": "2026-01-01"},
	                       {"purchase_number": "P-old", "quantity": 5000, "entitlement_end": "2025-12-31"}]},
	  {"contract_id": "WAS-FULL", "name": "WebSphere full capacity", "type": 1, "metric": {"id": 1},
	   "software_products": [{"name": "WebSphere Application Server 9.0"}],
	   "purchase_orders": [{"purchase_number": "P3", "quantity": 2000}]},
	  {"contract_id": "SQL-ELA", "name": "SQL Server ELA", "type": 1, "metric": {"code_name": "VIRTUAL_PROCESSOR_CORE"},
	   "software_products": [{"name": "SQL Server", "publisher_name": "Microsoft"}],
	   "purchase_orders": [{"purchase_number": "ELA", "quantity": -1}]}]`}, 200, nil)
	got := v.list("viewer", "/api/sam/v2/compliance?columns[]=product_name&columns[]=metric_code_name&columns[]=entitled_quantity&columns[]=peak_quantity&columns[]=difference&columns[]=status&columns[]=contract_ids")
	want := []map[string]any{
		{"product_name": "SQL Server 2017", "metric_code_name": "PVU_FULL_CAP", "entitled_quantity": 0.0, "peak_quantity": 2240.0, "difference": -2240.0, "status": "not_compliant", "contract_ids": ""},
		{"product_name": "SQL Server 2017", "metric_code_name": "PVU_SUB_CAP", "entitled_quantity": 0.0, "peak_quantity": 280.0, "difference": -280.0, "status": "not_compliant", "contract_ids": ""},
		{"product_name": "SQL Server 2017", "metric_code_name": "VIRTUAL_PROCESSOR_CORE", "entitled_quantity": -1.0, "peak_quantity": 4.0, "difference": nil, "status": "compliant", "contract_ids": "SQL-ELA"},
		{"product_name": was, "metric_code_name": "PVU_FULL_CAP", "entitled_quantity": 2000.0, "peak_quantity": 2800.0, "difference": -800.0, "status": "not_compliant", "contract_ids": "WAS-FULL"},
		{"product_name": was, "metric_code_name": "PVU_SUB_CAP", "entitled_quantity": 1000.0, "peak_quantity": 980.0, "difference": 20.0, "status": "compliant", "contract_ids": "WAS-SUB"},
		{"product_name": was, "metric_code_name": "VIRTUAL_PROCESSOR_CORE", "entitled_quantity": 0.0, "peak_quantity": 14.0, "difference": -14.0, "status": "not_compliant", "contract_ids": ""},
	}
	if diff := cmp.Diff(want, got.Rows); diff != "" {
		t.Errorf("compliance (-want +got):\n%s", diff)
	}
}

// TestCreateSoftware: a contract may name software no import found only
// with createSoftware=true, which creates it for later imports too.
func TestCreateSoftware(t *testing.T) {
	v := newEnv(t)
	v.apply("byol-ibm-three-vms.json")
	v.importNow()
	put := func(query, body string, status int) importReply {
		t.Helper()
		var rep importReply
		v.call(request{user: "manager", method: "PUT", path: "/api/sam/v2/contracts" + query, body: body}, status, &rep)
		return rep
	}
	notepad := `[{"contract_id": "N1", "name": "Editors", "type": 1, "software_products": [{"name": "Notepad++", "publisher_name": "don.h@free.fr"}]}]`
	rep := put("", notepad, 400)
	if want := []string{`|CODUI4050E|Software product "Notepad++" of publisher "don.h@free.fr" does not exist; import it with createSoftware=true to create it`}; !cmp.Equal(want, rep.RowErrors["1"]) {
		t.Errorf("unknown software: %+v", rep)
	}
	put("?createSoftware=false", notepad, 400)
	rep = put("?createSoftware=maybe", notepad, 400)
	if !strings.Contains(rep.Detail, `createSoftware: "maybe" is not true or false`) {
		t.Errorf("bad flag: %+v", rep)
	}
	// A title an import found needs no flag, with or without its version.
	put("", `[{"contract_id": "W1", "name": "WAS", "type": 1, "software_products": [{"name": "WebSphere Application Server", "publisher_name": "IBM"}, {"name": "WebSphere Application Server 9.0"}]}]`, 200)
	put("?createSoftware=true", notepad, 200)
	// Created once, it is known to the next import without the flag.
	put("", `[{"contract_id": "N2", "name": "Editors 2", "type": 1, "software_products": [{"name": "notepad++"}]}]`, 200)
}
