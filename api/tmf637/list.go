package tmf637

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/store"
)

// Page sizes, the same on both APIs: ServiceNow documents a default of 20
// and a maximum of 100; a larger limit is served as 100.
const (
	defaultLimit = 20
	maxLimit     = 100
)

// listQuery is a parsed list (or single read) request.
type listQuery struct {
	where  []engine.Condition // served by the engine, from indexes where the rules declare them
	post   []postFilter       // TMF637 filters on what no attribute holds, checked on the shown product
	offset int
	limit  int
	fields []string
}

// postFilter holds when an attribute of the shown product, at a dotted path
// that may pass through arrays, has one of the values.
type postFilter struct {
	path   []string
	values []string
}

// tmfFilters are the TMF637 filters a stored attribute answers. Others
// (relatedParty.id, productCharacteristic.name, ...) are checked on each
// product the stored ones leave; status is mapped to states.
var tmfFilters = map[string]string{
	"id":                      "sys_id",
	"pid":                     aPID,
	"name":                    aName,
	"description":             aDescription,
	"isBundle":                aIsBundle,
	"productOffering.id":      "product_offering",
	"productSpecification.id": "product_specification",
	"billingAccount.id":       "billing_account",
	"place.id":                aPlace,
}

// tmfQuery reads a TMF637 list request: fields, offset, limit, and every
// other parameter a filter, all of which must hold (a comma separates
// values any of which may match).
func tmfQuery(r *http.Request) (*listQuery, *api.Error) {
	params := r.URL.Query()
	q, e := paging(params, "offset", "limit")
	if e != nil {
		return nil, e
	}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		if k == "fields" || k == "offset" || k == "limit" {
			continue
		}
		for _, raw := range params[k] {
			values := splitList(raw)
			if len(values) == 0 {
				return nil, api.Errorf(http.StatusBadRequest, "Invalid filter", "filter %s has no value", k)
			}
			attr, stored := tmfFilters[k]
			switch {
			case k == "status":
				var codes []string
				for _, v := range values {
					c := tmfCodes(v)
					if c == nil {
						return nil, api.Errorf(http.StatusBadRequest, "Invalid filter", "status %q is not a product status; use one of %s", v, stateNames(true))
					}
					codes = append(codes, c...)
				}
				q.where = append(q.where, engine.Condition{Attribute: aState, Values: codes})
			case stored:
				q.where = append(q.where, engine.Condition{Attribute: attr, Values: values})
			default:
				q.post = append(q.post, postFilter{path: strings.Split(k, "."), values: values})
			}
		}
	}
	return q, nil
}

// snQuery reads a ServiceNow list request: customer, place and status
// filters, fields, limit and offset. Other parameters are ignored.
func snQuery(r *http.Request) (*listQuery, *api.Error) {
	params := r.URL.Query()
	q, e := paging(params, "offset", "limit")
	if e != nil {
		return nil, e
	}
	for _, f := range []struct{ param, attr string }{{"customer", aCustomer}, {"place", aPlace}, {"place.id", aPlace}} {
		v := strings.TrimSpace(params.Get(f.param))
		if v == "" {
			continue
		}
		id, e := refParam(f.param, v)
		if e != nil {
			return nil, e
		}
		q.where = append(q.where, engine.Condition{Attribute: f.attr, Values: []string{id}})
	}
	if s := params.Get("status"); s != "" {
		codes := snCodes(s)
		if codes == nil {
			return nil, api.Errorf(http.StatusBadRequest, "Invalid status", "%q is not a product status; use one of %s", s, stateNames(false))
		}
		q.where = append(q.where, engine.Condition{Attribute: aState, Values: codes})
	}
	return q, nil
}

// refParam reads a filter naming a record: its id, or an object holding
// it, as ServiceNow documents place ({"id": "..."}) and clients send it.
func refParam(param, v string) (string, *api.Error) {
	if !strings.HasPrefix(v, "{") {
		return v, nil
	}
	x, err := api.DecodeRelaxed([]byte(v), decodeJSON)
	obj, _ := x.(map[string]any)
	id, _ := obj["id"].(string)
	if err != nil || id == "" {
		return "", api.Errorf(http.StatusBadRequest, "Invalid "+param, `%s: give the id, or an object {"id": "..."}; got %s`, param, v)
	}
	return id, nil
}

// paging reads fields, offset and limit.
func paging(params url.Values, offsetName, limitName string) (*listQuery, *api.Error) {
	q := &listQuery{limit: defaultLimit, fields: splitList(params.Get("fields"))}
	for _, p := range []struct {
		name string
		to   *int
	}{{offsetName, &q.offset}, {limitName, &q.limit}} {
		s := params.Get(p.name)
		if s == "" {
			continue
		}
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 {
			return nil, api.Errorf(http.StatusBadRequest, "Invalid "+p.name, "%q is not a whole number >= 0", s)
		}
		*p.to = n
	}
	q.limit = min(q.limit, maxLimit)
	return q, nil
}

func splitList(s string) []string {
	var out []string
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// find answers a query: the page of products, shown by show, how many
// match in all, and, when the engine read its scan limit of records before
// it had checked every candidate, how many it read (else 0) (filters on what no attribute
// holds are checked on each candidate's shown product, a page's worth of
// which is kept).
func (h *handler) find(ctx context.Context, q *listQuery, base string, show func(*view) map[string]any) ([]map[string]any, int, int, error) {
	eq := engine.Query{Class: productClass, Where: q.where, Offset: q.offset, Limit: q.limit}
	if len(q.post) > 0 {
		eq.Keep = func(rec *store.Record) (bool, error) {
			v, err := h.load(ctx, rec.SysID)
			if errors.Is(err, engine.ErrNotFound) {
				return false, nil // deleted since, or not a product
			}
			return err == nil && matches(v.tmf(base), q.post), err
		}
	}
	pg, err := h.e.Find(ctx, eq)
	if err != nil {
		return nil, 0, 0, err
	}
	items := []map[string]any{}
	for _, rec := range pg.Records {
		v, err := h.load(ctx, rec.SysID)
		if errors.Is(err, engine.ErrNotFound) {
			continue // deleted since the page was read
		}
		if err != nil {
			return nil, 0, 0, err
		}
		items = append(items, show(v))
	}
	capped := 0
	if pg.Capped {
		capped = pg.Reads
	}
	return items, pg.Total, capped, nil
}

func matches(m map[string]any, filters []postFilter) bool {
	for _, f := range filters {
		if !slices.ContainsFunc(leaves(m, f.path), func(x any) bool { return slices.Contains(f.values, text(x)) }) {
			return false
		}
	}
	return true
}

// leaves returns the values at path in v, through arrays.
func leaves(v any, path []string) []any {
	switch x := v.(type) {
	case []any:
		var out []any
		for _, el := range x {
			out = append(out, leaves(el, path)...)
		}
		return out
	case map[string]any:
		if len(path) == 0 {
			return nil
		}
		return leaves(x[path[0]], path[1:])
	case nil:
		return nil
	}
	if len(path) > 0 {
		return nil
	}
	return []any{v}
}
