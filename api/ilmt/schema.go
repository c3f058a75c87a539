package ilmt

import (
	"net/http"
	"strings"

	"github.com/irego/irego/api"
)

// schemas are the JSON Schemas (draft 2020-12) GET
// /api/sam/v2/schemas/{name} answers: the contract import and export
// format, and the rows of the license usage APIs.
var schemas = map[string]func() object{
	"contract.json":                 contractSchema,
	"license_usage.json":            func() object { return rowsSchema("license_usage", usageTable) },
	"license_usage_per_server.json": func() object { return rowsSchema("license_usage_per_server", perServerTable) },
	"compliance.json":               func() object { return rowsSchema("compliance", complianceTable) },
}

// GET /api/sam/v2/schemas/{schema}.
func (h *handler) schema(w http.ResponseWriter, r *http.Request) {
	s, ok := schemas[r.PathValue("schema")]
	if !ok {
		writeError(w, r, api.Errorf(http.StatusNotFound, "Not Found", "no schema %q; the schemas are contract.json, license_usage.json, license_usage_per_server.json, compliance.json", r.PathValue("schema")))
		return
	}
	writeJSON(w, http.StatusOK, s())
}

func typed(t, description string) object {
	o := object{{"type", t}}
	if description != "" {
		o = append(o, field{"description", description})
	}
	return o
}

// contractSchema describes one contract as PUT takes it and GET returns it.
func contractSchema() object {
	text := func(d string) object { return typed("string", d) }
	integer := func(d string) object { return typed("integer", d) }
	nullable := func(t, d string) object { return object{{"type", []string{t, "null"}}, {"description", d}} }
	po := object{{"type", "object"}, {"required", []string{"purchase_number"}}, {"properties", object{
		{"purchase_number", text("unique within the contract; an order with a known number replaces it, a new number is added")},
		{"document_link", text("")}, {"vendor", text("")},
		{"quantity", integer("metric units bought; -1 for an enterprise license agreement (unlimited)")},
		{"expense", typed("number", "at most 2 decimals")}, {"cost_center", text("")}, {"project", text("")},
		{"entitlement_start", object{{"type", "string"}, {"format", "date"}}},
		{"entitlement_end", object{{"type", "string"}, {"format", "date"}, {"description", "9999-12-31 means never"}}},
	}}, {"additionalProperties", false}}
	product := object{{"type", "object"}, {"required", []string{"name"}}, {"properties", object{
		{"name", text("the software title's name, with or without its version")}, {"publisher_name", text("")},
	}}, {"additionalProperties", false}}
	return object{
		{"$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"$id", "/api/sam/v2/schemas/contract.json"},
		{"title", "contract"},
		{"description", "A license contract. PUT or POST /api/sam/v2/contracts takes a list of them: a column left out stays as it is, null clears it; any invalid row fails the whole import."},
		{"type", "object"},
		{"required", []string{"contract_id"}},
		{"properties", object{
			{"contract_id", text("unique; a contract is updated only by its id")},
			{"name", text("unique per type")},
			{"type", object{{"type", "integer"}, {"enum", []int{1, 2, 3, 4, 5}}, {"description", "1 license, 2 support, 3 service, 4 hardware, 5 other"}}},
			{"threshold", nullable("integer", "optional threshold of the contract's metric")},
			{"threshold_type", nullable("integer", "")},
			{"computer_group", object{{"type", []string{"object", "null"}}, {"description", "matched by id, else by name; without one a new contract goes to All Computers"},
				{"properties", object{{"id", typed("integer", "")}, {"name", typed("string", "")}}}}},
			{"metric", object{{"type", []string{"object", "null"}}, {"description", "matched by id, else by code_name (an unknown code name makes a custom metric); INTERNAL_PVU and INTERNAL_RVU_MAPC are not allowed"},
				{"properties", object{{"id", typed("integer", "")}, {"code_name", typed("string", "")}}}}},
			{"purchase_orders", object{{"type", "array"}, {"items", po}}},
			{"software_products", object{{"type", "array"}, {"items", product}}},
		}},
		{"patternProperties", object{{"^contract_custom_field_[1-9][0-9]*$", nullable("string", "custom field; required ones are named by the setting contract_required_custom_fields")}}},
		{"additionalProperties", false},
	}
}

// rowsSchema describes a {"total", "rows"} reply of a table.
func rowsSchema(name string, t *table) object {
	props := object{}
	for _, c := range t.columns {
		var s object
		switch c.kind {
		case number:
			s = typed("number", "")
		case date:
			s = object{{"type", "string"}, {"format", "date"}}
		case timestamp:
			s = object{{"type", "string"}, {"format", "date-time"}}
		case list:
			s = typed("array", "")
		case numbers:
			s = object{{"type", []string{"array", "null"}}, {"items", typed("integer", "")}}
		default:
			s = typed("string", "")
		}
		if c.null && c.kind != numbers {
			s[0].val = []any{s[0].val, "null"}
		}
		if c.hidden {
			s = append(s, field{"description", "returned only when asked for with columns[]"})
		}
		props = props.set(strings.Split(c.name, "."), s)
	}
	return object{
		{"$schema", "https://json-schema.org/draft/2020-12/schema"},
		{"$id", "/api/sam/v2/schemas/" + name + ".json"},
		{"type", "object"},
		{"properties", object{
			{"total", typed("integer", "rows that match, before limit and offset")},
			{"rows", object{{"type", "array"}, {"items", object{{"type", "object"}, {"properties", props}}}}},
		}},
	}
}
