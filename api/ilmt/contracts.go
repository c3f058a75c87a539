package ilmt

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/irego/irego/api"
	"github.com/irego/irego/license"
)

// customField matches the custom field columns of contracts.
var customField = regexp.MustCompile(`^contract_custom_field_([1-9][0-9]{0,5})$`)

// contractsTable is GET /api/sam/v2/contracts; custom fields are hidden
// columns, asked for by name.
var contractsTable = &table{
	columns: []column{
		{name: "contract_id"}, {name: "name"}, {name: "type", kind: number},
		{name: "threshold", kind: number}, {name: "threshold_type", kind: number},
		{name: "computer_group.id", kind: number}, {name: "computer_group.name"},
		{name: "metric.id", kind: number}, {name: "metric.code_name"},
		{name: "purchase_orders", kind: list}, {name: "software_products", kind: list},
	},
	order: []string{"contract_id"},
	dynamic: func(name string) (column, bool) {
		return column{name: name, hidden: true}, customField.MatchString(name)
	},
}

// GET /api/sam/v2/contracts(.json): the contracts of the caller's groups.
func (h *handler) contracts(w http.ResponseWriter, r *http.Request) {
	h.serveRows(w, r, contractsTable, func(p *pager) *api.Error {
		cs, err := h.m.Contracts(viewer(r))
		if err != nil {
			return internal(err)
		}
		p.addAll(contractRows(cs))
		return nil
	})
}

func contractRows(cs []license.ContractView) []row {
	rows := make([]row, 0, len(cs))
	for _, c := range cs {
		rw := row{"contract_id": c.ID, "name": c.Name, "type": nilIfZero(c.Type),
			"threshold": deref(c.Threshold), "threshold_type": deref(c.ThresholdType),
			"computer_group.id": c.Group, "computer_group.name": c.GroupName,
			"metric.id": nil, "metric.code_name": nil}
		if c.Metric != nil {
			rw["metric.id"], rw["metric.code_name"] = c.Metric.ID, c.Metric.CodeName
		}
		pos := make([]object, 0, len(c.PurchaseOrders))
		for _, po := range c.PurchaseOrders {
			pos = append(pos, poObject(po))
		}
		products := make([]object, 0, len(c.Products))
		for _, p := range c.Products {
			products = append(products, object{{"name", p.Name}, {"publisher_name", p.Publisher}})
		}
		rw["purchase_orders"], rw["software_products"] = pos, products
		for id, v := range c.Custom {
			rw[fmt.Sprintf("contract_custom_field_%d", id)] = v
		}
		rows = append(rows, rw)
	}
	return rows
}

func poObject(po license.PurchaseOrder) object {
	o := object{{"purchase_number", po.Number}}
	opt := func(k, v string) {
		if v != "" {
			o = append(o, field{k, v})
		}
	}
	opt("document_link", po.DocumentLink)
	opt("vendor", po.Vendor)
	o = append(o, field{"quantity", po.Quantity})
	if po.Expense != nil {
		o = append(o, field{"expense", *po.Expense})
	}
	opt("cost_center", po.CostCenter)
	opt("project", po.Project)
	opt("entitlement_start", po.Start)
	opt("entitlement_end", po.End)
	return o
}

func nilIfZero(n int) any {
	if n == 0 {
		return nil
	}
	return n
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

// importReply is the reply to a contract import:
//
//	{"incorrectRows", "allRows", ["created", "updated",] "message": {"code", "text"}, "rowErrors": {"1": [...]}}
type importReply struct {
	incorrect, all   int
	created, updated *int
	message          license.Fault
	rowErrors        object
	detail           string
}

func (ir importReply) object() object {
	o := object{{"incorrectRows", ir.incorrect}, {"allRows", ir.all}}
	if ir.created != nil {
		o = append(o, field{"created", *ir.created}, field{"updated", *ir.updated})
	}
	o = append(o, field{"message", object{{"code", ir.message.Code}, {"text", ir.message.Text}}})
	if ir.created == nil {
		o = append(o, field{"rowErrors", append(object{}, ir.rowErrors...)})
	}
	if ir.detail != "" {
		o = append(o, field{"detail", ir.detail})
	}
	return o
}

var importFailed = license.Fault{Code: license.CodeImportFailed, Text: "Contract processing failed. The contracts have not been imported."}

// PUT or POST /api/sam/v2/contracts(.json)[?createSoftware=true] with a
// list of contracts (or {"rows": [...]} as GET answers, or one contract):
// create or update them, all or nothing. A software product no title
// names is refused unless createSoftware=true, which creates it.
func (h *handler) importContracts(w http.ResponseWriter, r *http.Request) {
	body, e := api.ReadBody(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	var o license.ContractOptions
	if s := r.URL.Query().Get("createSoftware"); s != "" {
		var err error
		if o.CreateSoftware, err = strconv.ParseBool(s); err != nil {
			writeJSON(w, http.StatusBadRequest, importReply{message: importFailed, detail: fmt.Sprintf("createSoftware: %q is not true or false", s)}.object())
			return
		}
	}
	rows, err := decodeContracts(body)
	if err != nil {
		writeJSON(w, http.StatusBadRequest, importReply{message: importFailed, detail: err.Error()}.object())
		return
	}
	res, err := h.m.ImportContracts(rows, viewer(r), o)
	if err != nil {
		writeError(w, r, internal(err))
		return
	}
	if len(res.RowFaults) > 0 {
		rep := importReply{incorrect: len(res.RowFaults), all: res.AllRows, message: importFailed}
		for _, n := range slices.Sorted(maps.Keys(res.RowFaults)) {
			texts := make([]string, len(res.RowFaults[n]))
			for i, f := range res.RowFaults[n] {
				texts[i] = f.String()
			}
			rep.rowErrors = append(rep.rowErrors, field{strconv.Itoa(n), texts})
		}
		writeJSON(w, http.StatusBadRequest, rep.object())
		return
	}
	rep := importReply{all: res.AllRows, created: &res.Created, updated: &res.Updated,
		message: license.Fault{Code: license.CodeImported, Text: "The contracts have been imported."}}
	writeJSON(w, http.StatusOK, rep.object())
}

// decodeContracts reads an import body into rows; faults of a row's
// values travel with the row.
func decodeContracts(body []byte) ([]license.ContractRow, error) {
	items, err := decodeItems(body, "contracts [{\"contract_id\": ...}, ...]")
	if err != nil {
		return nil, err
	}
	out := make([]license.ContractRow, 0, len(items))
	for _, it := range items {
		out = append(out, decodeRow(it))
	}
	return out, nil
}

// decodeItems reads an import body: a list of rows, {"rows": [...]} as GET
// answers, or one row. Numbers stay json.Number.
func decodeItems(body []byte, what string) ([]any, error) {
	v, err := api.DecodeRelaxed(body, func(b []byte) (any, error) {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, err
		}
		if dec.More() {
			return nil, fmt.Errorf("more than one JSON value")
		}
		return v, nil
	})
	if err != nil {
		return nil, fmt.Errorf("the body is not JSON: %v", err)
	}
	var items []any
	switch x := v.(type) {
	case []any:
		items = x
	case map[string]any:
		if rows, ok := x["rows"].([]any); ok && len(x) <= 2 {
			items = rows
		} else {
			items = []any{x}
		}
	default:
		return nil, fmt.Errorf("the body must be a list of %s", what)
	}
	return items, nil
}

// rowDecoder collects the faults of one row.
type rowDecoder struct{ faults []license.Fault }

func (d *rowDecoder) bad(format string, args ...any) {
	d.faults = append(d.faults, license.Faultf(license.CodeInvalidValue, format, args...))
}

func decodeRow(it any) license.ContractRow {
	var row license.ContractRow
	m, ok := it.(map[string]any)
	if !ok {
		row.Faults = []license.Fault{license.Faultf(license.CodeInvalidValue, "The row is not a contract object")}
		return row
	}
	d := &rowDecoder{}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		switch k {
		case "contract_id":
			row.ID = textField(d, k, v)
		case "name":
			row.Name = textField(d, k, v)
		case "type":
			row.Type = intField(d, k, v)
		case "threshold":
			row.Threshold = intField(d, k, v)
		case "threshold_type":
			row.ThresholdType = intField(d, k, v)
		case "computer_group":
			row.Group = groupField(d, v)
		case "metric":
			row.Metric = metricField(d, v)
		case "purchase_orders", "purchase_order":
			row.PurchaseOrders = poField(d, k, v)
		case "software_products", "software_product":
			row.Products = productsField(d, k, v)
		default:
			sub := customField.FindStringSubmatch(k)
			if sub == nil {
				d.faults = append(d.faults, license.Faultf(license.CodeUnknownColumn, "Unknown column %s", k))
				continue
			}
			id, _ := strconv.Atoi(sub[1])
			if row.Custom == nil {
				row.Custom = map[int]license.Field[string]{}
			}
			row.Custom[id] = textField(d, k, v)
		}
	}
	row.Faults = d.faults
	return row
}

// textOf reads a text value; numbers and booleans count as their text.
func textOf(v any) (string, bool) {
	switch x := v.(type) {
	case string:
		return x, true
	case json.Number:
		return x.String(), true
	case bool:
		return strconv.FormatBool(x), true
	}
	return "", false
}

// intOf reads a whole number, also written as text.
func intOf(v any) (int, bool) {
	s, ok := textOf(v)
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	return n, err == nil
}

func textField(d *rowDecoder, name string, v any) license.Field[string] {
	if v == nil {
		return license.Field[string]{Set: true, Null: true}
	}
	s, ok := textOf(v)
	if !ok {
		d.bad("Field %s must be text, not %s", name, describeJSON(v))
	}
	return license.Val(s)
}

func intField(d *rowDecoder, name string, v any) license.Field[int] {
	if v == nil {
		return license.Field[int]{Set: true, Null: true}
	}
	n, ok := intOf(v)
	if !ok {
		d.bad("Field %s must be a whole number, not %s", name, describeJSON(v))
	}
	return license.Val(n)
}

// association reads an object column {"id": ..., <name>: ...} (null
// clears it); a bare number is the id, a bare text the name.
func association(d *rowDecoder, col, name string, v any) (id *int, text string, null bool) {
	switch x := v.(type) {
	case nil:
		return nil, "", true
	case map[string]any:
		if x["id"] != nil {
			n, ok := intOf(x["id"])
			if !ok {
				d.bad("Field %s.id must be a whole number, not %s", col, describeJSON(x["id"]))
			}
			id = &n
		}
		text, _ = textOf(x[name])
	case json.Number:
		n, _ := intOf(x)
		id = &n
	case string:
		text = x
	default:
		d.bad("Field %s must be {\"id\": ..., %q: ...}, not %s", col, name, describeJSON(v))
	}
	return id, text, false
}

func groupField(d *rowDecoder, v any) license.Field[license.GroupRef] {
	id, name, null := association(d, "computer_group", "name", v)
	return license.Field[license.GroupRef]{Set: true, Null: null, Value: license.GroupRef{ID: id, Name: name}}
}

func metricField(d *rowDecoder, v any) license.Field[license.MetricRef] {
	id, code, null := association(d, "metric", "code_name", v)
	return license.Field[license.MetricRef]{Set: true, Null: null, Value: license.MetricRef{ID: id, CodeName: code}}
}

// poColumns are the columns of a purchase order.
var poColumns = []string{"purchase_number", "document_link", "vendor", "quantity", "expense", "cost_center", "project", "entitlement_start", "entitlement_end"}

// listField reads a list column: null clears it, a single element counts
// as a list of one, elem reads each element (1-based i) or reports why not.
func listField[T any](v any, elem func(i int, it any) (T, bool)) license.Field[[]T] {
	if v == nil {
		return license.Field[[]T]{Set: true, Null: true}
	}
	items, ok := v.([]any)
	if !ok {
		items = []any{v}
	}
	out := []T{}
	for i, it := range items {
		if x, ok := elem(i+1, it); ok {
			out = append(out, x)
		}
	}
	return license.Val(out)
}

func poField(d *rowDecoder, name string, v any) license.Field[[]license.PurchaseOrder] {
	return listField(v, func(i int, it any) (license.PurchaseOrder, bool) {
		var po license.PurchaseOrder
		m, ok := it.(map[string]any)
		if !ok {
			d.bad("Field %s[%d] must be a purchase order object", name, i)
			return po, false
		}
		for _, k := range slices.Sorted(maps.Keys(m)) {
			path := fmt.Sprintf("%s[%d].%s", name, i, k)
			if !slices.Contains(poColumns, k) {
				d.faults = append(d.faults, license.Faultf(license.CodeUnknownColumn, "Unknown column %s", path))
				continue
			}
			val := m[k]
			if val == nil {
				continue
			}
			switch k {
			case "quantity":
				n, ok := intOf(val)
				if !ok {
					d.bad("Field %s must be a whole number, not %s", path, describeJSON(val))
				}
				po.Quantity = n
			case "expense":
				s, _ := textOf(val)
				f, err := strconv.ParseFloat(s, 64)
				if err != nil {
					d.bad("Field %s must be a number, not %s", path, describeJSON(val))
				}
				po.Expense = &f
			default:
				s, ok := textOf(val)
				if !ok {
					d.bad("Field %s must be text, not %s", path, describeJSON(val))
				}
				*poText(&po, k) = s
			}
		}
		return po, true
	})
}

// poText is the text field of a purchase order named k.
func poText(po *license.PurchaseOrder, k string) *string {
	switch k {
	case "purchase_number":
		return &po.Number
	case "document_link":
		return &po.DocumentLink
	case "vendor":
		return &po.Vendor
	case "cost_center":
		return &po.CostCenter
	case "project":
		return &po.Project
	case "entitlement_start":
		return &po.Start
	}
	return &po.End
}

func productsField(d *rowDecoder, name string, v any) license.Field[[]license.Product] {
	return listField(v, func(i int, it any) (license.Product, bool) {
		var p license.Product
		switch x := it.(type) {
		case string:
			p.Name = x
		case map[string]any:
			for k := range x {
				if k != "name" && k != "publisher_name" {
					d.faults = append(d.faults, license.Faultf(license.CodeUnknownColumn, "Unknown column %s[%d].%s", name, i, k))
				}
			}
			p.Name, _ = textOf(x["name"])
			p.Publisher, _ = textOf(x["publisher_name"])
		default:
			d.bad("Field %s[%d] must be {\"name\": ..., \"publisher_name\": ...}", name, i)
			return p, false
		}
		return p, true
	})
}

// describeJSON names a decoded JSON value for messages.
func describeJSON(v any) string {
	switch x := v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "a list"
	case string:
		return strconv.Quote(x)
	}
	return fmt.Sprint(v)
}
