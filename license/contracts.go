package license

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/irego/irego/settings"
	"github.com/irego/irego/store"
)

// Contract is a license contract: what was bought (purchase orders) of
// which software (products), counted by which metric, for which computer
// group.
type Contract struct {
	ID            string `json:"contract_id"`
	Name          string `json:"name,omitempty"`
	Type          int    `json:"type,omitempty"`
	Threshold     *int   `json:"threshold,omitempty"`
	ThresholdType *int   `json:"threshold_type,omitempty"`
	// Group is the computer group's id.
	Group int `json:"computer_group"`
	// Metric is the metric's id; nil when the contract names none.
	Metric         *int            `json:"metric,omitempty"`
	PurchaseOrders []PurchaseOrder `json:"purchase_orders"`
	Products       []Product       `json:"software_products"`
	// Custom holds the custom fields, by id.
	Custom  map[int]string `json:"custom_fields,omitempty"`
	Created time.Time      `json:"created"`
	Updated time.Time      `json:"updated"`
}

// Contract types.
const (
	TypeLicense = 1 + iota
	TypeSupport
	TypeService
	TypeHardware
	TypeOther
)

// PurchaseOrder is one purchase of a contract.
type PurchaseOrder struct {
	Number       string `json:"purchase_number"`
	DocumentLink string `json:"document_link,omitempty"`
	Vendor       string `json:"vendor,omitempty"`
	// Quantity is the number of metric units bought; Unlimited (-1) for an
	// enterprise license agreement.
	Quantity   int      `json:"quantity"`
	Expense    *float64 `json:"expense,omitempty"`
	CostCenter string   `json:"cost_center,omitempty"`
	Project    string   `json:"project,omitempty"`
	// Start and End bound the entitlement (YYYY-MM-DD, both included; End
	// Never means no end). Empty means unbounded.
	Start string `json:"entitlement_start,omitempty"`
	End   string `json:"entitlement_end,omitempty"`
}

// Unlimited is the quantity of an enterprise license agreement; Never the
// entitlement end that never comes.
const (
	Unlimited = -1
	Never     = "9999-12-31"
)

// Active reports whether the purchase entitles on day d.
func (po *PurchaseOrder) Active(d string) bool {
	return (po.Start == "" || po.Start <= d) && (po.End == "" || d <= po.End)
}

// Product is a software product a contract covers.
type Product struct {
	Name      string `json:"name"`
	Publisher string `json:"publisher_name,omitempty"`
}

// covers reports whether the product names title: its name with or
// without the version, and its publisher when the product gives one.
func (p Product) covers(t *Title) bool {
	name := strings.EqualFold(p.Name, t.Product) || strings.EqualFold(p.Name, t.Name())
	return name && (p.Publisher == "" || strings.EqualFold(p.Publisher, t.Publisher))
}

// Field is one column of a contract import row: absent (not Set), null
// (Set and Null: clear it) or a value.
type Field[T any] struct {
	Set, Null bool
	Value     T
}

// Val returns a field holding v.
func Val[T any](v T) Field[T] { return Field[T]{Set: true, Value: v} }

// GroupRef names a computer group by id, else by name.
type GroupRef struct {
	ID   *int
	Name string
}

// MetricRef names a metric by id, else by code name (a code name not in
// the catalogue makes a custom metric).
type MetricRef struct {
	ID       *int
	CodeName string
}

// ContractRow is one row of a contract import: the columns it sets.
// Faults found while decoding the row are passed in, so that the import
// reports them with the rest.
type ContractRow struct {
	ID             Field[string]
	Name           Field[string]
	Type           Field[int]
	Threshold      Field[int]
	ThresholdType  Field[int]
	Group          Field[GroupRef]
	Metric         Field[MetricRef]
	PurchaseOrders Field[[]PurchaseOrder]
	Products       Field[[]Product]
	Custom         map[int]Field[string]
	Faults         []Fault
}

// Fault is one problem of an import row, with its message code.
type Fault struct {
	Code string
	Text string
}

// String renders a fault as License Metric Tool does: "|CODE|text".
func (f Fault) String() string { return "|" + f.Code + "|" + f.Text }

// Fault codes. Those of the License Metric Tool documentation keep their
// meaning; the others are irego's, in the same form.
const (
	CodeNameTypeExists   = "CODUI4040E" // a contract with the name and type exists
	CodeInvalidValue     = "CODUI4041E" // a column's value is of the wrong type or out of range
	CodeIDExists         = "CODUI4042E" // the contract id appears twice in one import
	CodeUnknownMetric    = "CODUI4043E" // no metric has the given id
	CodeMetricNotAllowed = "CODUI4044E" // INTERNAL_PVU and INTERNAL_RVU_MAPC
	CodeUnknownGroup     = "CODUI4045E" // no such computer group, or not the user's
	CodeDuplicatePO      = "CODUI4046E" // a purchase number twice in one contract
	CodeRequired         = "CODUI4047E" // a required field is empty
	CodeBadDates         = "CODUI4048E" // the entitlement ends before it starts
	CodeUnknownColumn    = "CODUI4049E" // a column contracts do not have
	CodeUnknownSoftware  = "CODUI4050E" // a software product no title names, without createSoftware
	CodeCustomRequired   = "CODUI4057E" // a required custom field is missing
	CodeImportFailed     = "CODUI4099E" // the whole import failed
	CodeImported         = "CODUI4098I" // the import succeeded
)

// Faultf makes a fault.
func Faultf(code, format string, args ...any) Fault {
	return Fault{Code: code, Text: fmt.Sprintf(format, args...)}
}

// ImportResult is the outcome of a contract import.
type ImportResult struct {
	AllRows, Created, Updated int
	// RowFaults holds the faults of each invalid row, by 1-based row
	// number; when any row has one nothing was changed.
	RowFaults map[int][]Fault
}

// ContractView is a contract with its group and metric resolved, as the
// contracts API shows it.
type ContractView struct {
	Contract
	GroupName string
	Metric    *Metric
}

// Contracts returns the contracts of the groups v may see, by id, with
// their group and metric resolved.
func (m *Manager) Contracts(v Viewer) ([]ContractView, error) {
	var out []ContractView
	err := m.readTitles(func(s *snapshot) error {
		all, err := readContracts(s.r)
		if err != nil {
			return err
		}
		vis := s.groups.visible(v)
		for _, c := range all {
			if !vis[c.Group] {
				continue
			}
			cv := ContractView{Contract: c}
			if g := s.groups.get(c.Group); g != nil {
				cv.GroupName = g.Name
			}
			if c.Metric != nil {
				if mt, ok := s.cat.byID(*c.Metric); ok {
					cv.Metric = &mt
				}
			}
			out = append(out, cv)
		}
		return nil
	})
	return out, err
}

func readContracts(r store.Reader) ([]Contract, error) {
	var out []Contract
	err := r.Iterate(store.ContractPrefix(), func(_, v []byte) error {
		var c Contract
		if err := json.Unmarshal(v, &c); err != nil {
			return fmt.Errorf("license: corrupt contract: %w", err)
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// ImportContracts creates or updates contracts, all or nothing: a row
// updates the contract with its contract_id, or creates one. A column a
// row leaves out stays as it is; a null clears it. Purchase orders merge
// by purchase number and products by name and publisher; neither is ever
// removed but by a null. When any row is invalid nothing changes and the
// result lists every fault of every row.
//
// A software product must be known, a title an import found or one a
// contract import created; an unknown one is a fault of its row unless
// o.CreateSoftware, which creates it.
func (m *Manager) ImportContracts(rows []ContractRow, v Viewer, o ContractOptions) (*ImportResult, error) {
	var res *ImportResult
	err := m.update(func(txn store.Txn) error {
		var err error
		res, err = m.importContracts(txn, rows, v, o)
		return err
	})
	return res, err
}

// ContractOptions shape a contract import.
type ContractOptions struct {
	// CreateSoftware creates the software products rows name that no
	// title or earlier import knows.
	CreateSoftware bool
}

func (m *Manager) importContracts(txn store.Txn, rows []ContractRow, v Viewer, o ContractOptions) (*ImportResult, error) {
	stored, err := readContracts(txn)
	if err != nil {
		return nil, err
	}
	g, err := readGroups(txn)
	if err != nil {
		return nil, err
	}
	cat, err := readCatalogue(txn)
	if err != nil {
		return nil, err
	}
	catSize := len(cat)
	sw, err := readSoftware(txn)
	if err != nil {
		return nil, err
	}
	swSize := len(sw.created)
	byID := map[string]*Contract{}
	for i := range stored {
		byID[stored[i].ID] = &stored[i]
	}
	type final struct {
		row int
		c   *Contract
	}
	now := m.now().UTC()
	im := &contractImport{groups: g, visible: g.visible(v), cat: &cat, required: m.set.Ints(settings.ContractRequiredCustomFields),
		software: sw, create: o.CreateSoftware}
	res := &ImportResult{AllRows: len(rows), RowFaults: map[int][]Fault{}}
	rowOf := map[string]int{}
	var changed []*Contract
	var finals []final // every contract as the import would leave it, for the name check
	for i, row := range rows {
		n := i + 1
		faults := slices.Clone(row.Faults)
		id := strings.TrimSpace(row.ID.Value)
		if !row.ID.Set || row.ID.Null || id == "" {
			faults = append(faults, Faultf(CodeRequired, "Required field contract_id is empty"))
		} else if len(id) > store.MaxKeyText {
			faults = append(faults, Faultf(CodeInvalidValue, "contract_id is %d bytes long, over the limit of %d bytes", len(id), store.MaxKeyText))
			id = ""
		} else if first, dup := rowOf[id]; dup {
			faults = append(faults, Faultf(CodeIDExists, "A contract with the specified contract ID already exists (row %d)", first))
			id = ""
		}
		var c *Contract
		switch old := byID[id]; {
		case id == "":
			c = &Contract{}
		case old != nil:
			if !im.visible[old.Group] {
				faults = append(faults, Faultf(CodeUnknownGroup, "The contract belongs to a computer group you cannot access"))
			}
			c = old
			res.Updated++
		default:
			c = &Contract{ID: id, Group: AllComputers, Created: now, PurchaseOrders: []PurchaseOrder{}, Products: []Product{}}
			if !row.Group.Set && !im.visible[AllComputers] {
				faults = append(faults, Faultf(CodeUnknownGroup, "A contract without computer_group goes to All Computers, which you cannot access"))
			}
			res.Created++
		}
		if id != "" {
			rowOf[id] = n
		}
		next := *c
		faults = append(faults, im.merge(&next, row)...)
		next.Updated = now
		finals = append(finals, final{n, &next})
		if len(faults) > 0 {
			res.RowFaults[n] = faults
		} else if id != "" {
			changed = append(changed, &next)
		}
	}
	// Names are unique per type among the contracts the import leaves:
	// the untouched stored ones first, then the rows in order.
	var untouched []final
	for _, c := range stored {
		if _, touched := rowOf[c.ID]; !touched {
			untouched = append(untouched, final{0, &c})
		}
	}
	owner := map[string]bool{}
	for _, f := range append(untouched, finals...) {
		k := fmt.Sprintf("%d\x00%s", f.c.Type, f.c.Name)
		if f.c.Name == "" {
			continue
		}
		if owner[k] && f.row > 0 {
			res.RowFaults[f.row] = append(res.RowFaults[f.row], Faultf(CodeNameTypeExists, "A contract with the specified name and type already exists"))
		}
		owner[k] = true
	}
	if len(res.RowFaults) > 0 {
		res.Created, res.Updated = 0, 0
		return res, nil
	}
	for _, c := range changed {
		b, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		if err := txn.Set(store.ContractKey(c.ID), b); err != nil {
			return nil, err
		}
	}
	if len(cat) != catSize {
		if err := cat.write(txn); err != nil {
			return nil, err
		}
	}
	if len(sw.created) != swSize {
		if err := sw.write(txn); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// contractImport is what every row of an import is checked against.
type contractImport struct {
	groups   *groups
	visible  map[int]bool
	cat      *catalogue
	required []int
	software *software
	create   bool
}

// merge applies a row's columns to c and returns the row's faults.
func (im *contractImport) merge(c *Contract, row ContractRow) []Fault {
	var faults []Fault
	bad := func(code, format string, args ...any) { faults = append(faults, Faultf(code, format, args...)) }
	setField(&c.Name, row.Name, "")
	if row.Type.Set && !row.Type.Null && (row.Type.Value < TypeLicense || row.Type.Value > TypeOther) {
		bad(CodeInvalidValue, "Field type must be 1 (license), 2 (support), 3 (service), 4 (hardware) or 5 (other), not %d", row.Type.Value)
	}
	setField(&c.Type, row.Type, 0)
	if row.Threshold.Set && !row.Threshold.Null && row.Threshold.Value < 0 {
		bad(CodeInvalidValue, "Field threshold must not be negative")
	}
	setPtr(&c.Threshold, row.Threshold)
	setPtr(&c.ThresholdType, row.ThresholdType)
	if f := row.Group; f.Set {
		id, fault := im.group(f)
		if fault != nil {
			faults = append(faults, *fault)
		}
		c.Group = id
	}
	if f := row.Metric; f.Set {
		id, fault := im.metric(f)
		if fault != nil {
			faults = append(faults, *fault)
		}
		c.Metric = id
	}
	if f := row.PurchaseOrders; f.Set {
		if f.Null {
			c.PurchaseOrders = []PurchaseOrder{}
		} else {
			var pos []PurchaseOrder
			pos, faults = mergePOs(c.PurchaseOrders, f.Value, faults)
			c.PurchaseOrders = pos
		}
	}
	if f := row.Products; f.Set {
		if f.Null {
			c.Products = []Product{}
		} else {
			c.Products = slices.Clone(c.Products)
			for i, p := range f.Value {
				if strings.TrimSpace(p.Name) == "" {
					bad(CodeRequired, "Required field software_products[%d].name is empty", i+1)
					continue
				}
				if slices.Contains(c.Products, p) {
					continue
				}
				if !im.software.known(p) {
					if !im.create {
						bad(CodeUnknownSoftware, "Software product %q of publisher %q does not exist; import it with createSoftware=true to create it", p.Name, p.Publisher)
						continue
					}
					im.software.created = append(im.software.created, p)
				}
				c.Products = append(c.Products, p)
			}
		}
	}
	if len(row.Custom) > 0 {
		c.Custom = maps.Clone(c.Custom)
		if c.Custom == nil {
			c.Custom = map[int]string{}
		}
		for id, f := range row.Custom {
			if f.Null || f.Value == "" {
				delete(c.Custom, id)
			} else {
				c.Custom[id] = f.Value
			}
		}
	}
	for _, id := range im.required {
		if c.Custom[id] == "" {
			bad(CodeCustomRequired, "Custom field with ID %d is required", id)
		}
	}
	return faults
}

// group resolves a computer group reference (null: All Computers).
func (im *contractImport) group(f Field[GroupRef]) (int, *Fault) {
	ref := f.Value
	var g *Group
	switch {
	case f.Null || ref.ID == nil && ref.Name == "":
		g = im.groups.get(AllComputers)
	case ref.ID != nil:
		g = im.groups.get(*ref.ID)
	default:
		g = im.groups.named(ref.Name)
	}
	if g == nil || !im.visible[g.ID] {
		what := fmt.Sprintf("name %q", ref.Name)
		if ref.ID != nil {
			what = fmt.Sprintf("ID %d", *ref.ID)
		}
		fault := Faultf(CodeUnknownGroup, "Computer group with %s does not exist or you cannot access it", what)
		return AllComputers, &fault
	}
	return g.ID, nil
}

// metric resolves a metric reference (null: none), adding a custom metric
// for a code name the catalogue lacks.
func (im *contractImport) metric(f Field[MetricRef]) (*int, *Fault) {
	if f.Null {
		return nil, nil
	}
	ref := f.Value
	var mt Metric
	var ok bool
	switch {
	case ref.ID != nil:
		if mt, ok = im.cat.byID(*ref.ID); !ok {
			fault := Faultf(CodeUnknownMetric, "Metric with ID %d does not exist", *ref.ID)
			return nil, &fault
		}
	case strings.TrimSpace(ref.CodeName) != "":
		if mt, ok = im.cat.byCode(ref.CodeName); !ok {
			mt = im.cat.add(ref.CodeName, "")
		}
	default:
		fault := Faultf(CodeRequired, "Required field metric.id or metric.code_name is empty")
		return nil, &fault
	}
	if slices.Contains(internalMetrics, mt.CodeName) {
		fault := Faultf(CodeMetricNotAllowed, "Metric %s cannot be assigned to a contract", mt.CodeName)
		return nil, &fault
	}
	return &mt.ID, nil
}

// mergePOs merges purchase orders by purchase number: a given order
// replaces the stored one of the same number, new numbers are added.
func mergePOs(stored, given []PurchaseOrder, faults []Fault) ([]PurchaseOrder, []Fault) {
	out := slices.Clone(stored)
	seen := map[string]int{}
	for i, po := range given {
		n := i + 1
		num := strings.TrimSpace(po.Number)
		switch {
		case num == "":
			faults = append(faults, Faultf(CodeRequired, "Required field purchase_orders[%d].purchase_number is empty", n))
			continue
		case seen[num] > 0:
			faults = append(faults, Faultf(CodeDuplicatePO, "Purchase number %q is given twice in the contract (purchase orders %d and %d)", num, seen[num], n))
			continue
		}
		seen[num] = n
		if po.Quantity < Unlimited {
			faults = append(faults, Faultf(CodeInvalidValue, "Field purchase_orders[%d].quantity must be -1 (unlimited) or more, not %d", n, po.Quantity))
		}
		if po.Expense != nil && (*po.Expense < 0 || math.Abs(*po.Expense*100-math.Round(*po.Expense*100)) > 1e-6) {
			faults = append(faults, Faultf(CodeInvalidValue, "Field purchase_orders[%d].expense must be a positive amount with at most 2 decimals", n))
		}
		for _, d := range []struct{ name, v string }{{"entitlement_start", po.Start}, {"entitlement_end", po.End}} {
			if _, err := time.Parse(time.DateOnly, d.v); d.v != "" && err != nil {
				faults = append(faults, Faultf(CodeInvalidValue, "Field purchase_orders[%d].%s must be a date YYYY-MM-DD, not %q", n, d.name, d.v))
			}
		}
		if po.Start != "" && po.End != "" && po.End < po.Start {
			faults = append(faults, Faultf(CodeBadDates, "Purchase order %q ends (%s) before it starts (%s)", num, po.End, po.Start))
		}
		po.Number = num
		if k := slices.IndexFunc(out, func(x PurchaseOrder) bool { return x.Number == num }); k >= 0 {
			out[k] = po
		} else {
			out = append(out, po)
		}
	}
	return out, faults
}

func setField[T any](dst *T, f Field[T], zero T) {
	switch {
	case !f.Set:
	case f.Null:
		*dst = zero
	default:
		*dst = f.Value
	}
}

func setPtr[T any](dst **T, f Field[T]) {
	switch {
	case !f.Set:
	case f.Null:
		*dst = nil
	default:
		v := f.Value
		*dst = &v
	}
}
