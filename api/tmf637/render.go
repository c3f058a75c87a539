package tmf637

import (
	"cmp"
	"context"
	"errors"
	"maps"
	"slices"
	"strings"

	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// view is a stored product with its characteristics and its relations to
// other products, ready to be shown in either API's shape.
type view struct {
	ci    *engine.CI
	chars []*store.Record // by position, then name
	links []viewLink      // in the engine's order: by type, then product
}

type viewLink struct {
	kind     linkKind
	id, name string
	pending  bool // a relation to a product not stored yet: id is as the client named it
}

// load reads a product. It returns engine.ErrNotFound when id names no
// product.
func (h *handler) load(ctx context.Context, id string) (*view, error) {
	ci, err := h.e.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if c, ok := h.e.Rules().Class(ci.Class); !ok || !c.IsA(productClass) {
		return nil, engine.ErrNotFound
	}
	v := &view{ci: ci}
	for _, r := range ci.Related {
		if r.Class != charClass {
			continue
		}
		rec, err := h.e.Record(ctx, r.SysID)
		if err != nil {
			return nil, err
		}
		v.chars = append(v.chars, rec)
	}
	slices.SortFunc(v.chars, func(a, b *store.Record) int {
		return cmp.Or(cmp.Compare(order(a), order(b)), cmp.Compare(text(a.Values[cName]), text(b.Values[cName])))
	})
	for _, l := range ci.Outbound {
		k, ok := kindOf(l.Type)
		if !ok {
			continue
		}
		vl := viewLink{kind: k, id: l.Other.SysID}
		rec, err := h.e.Record(ctx, l.Other.SysID)
		if err != nil && !errors.Is(err, engine.ErrNotFound) {
			return nil, err
		}
		if rec != nil {
			vl.name = text(rec.Values[aName])
		}
		v.links = append(v.links, vl)
	}
	for _, l := range pendingOf(ci.Values) {
		if k, ok := kindOf(l.Rel); ok {
			v.links = append(v.links, viewLink{kind: k, id: l.Ref, pending: true})
		}
	}
	return v, nil
}

func order(r *store.Record) int64 {
	n, _ := r.Values[cOrder].(int64)
	return n
}

// text is a stored value as text ("" when absent).
func text(v any) string { return payload.Canonical(v) }

// tmf shows the product as TMF637 v4 does. Every attribute the conformance
// profile makes mandatory is there: arrays empty rather than absent, a
// productOffering and billingAccount the product lacks as null.
func (v *view) tmf(base string) map[string]any {
	vals := v.ci.Values
	m := map[string]any{}
	if extra, ok := fromJSON(vals[aExtra]).(map[string]any); ok {
		maps.Copy(m, extra)
	}
	v.common(m)
	m["href"] = base + tmfProducts + "/" + v.ci.SysID
	m["status"] = stateOf(text(vals[aState])).tmf
	for _, r := range refs {
		switch ref := v.ref(r.attr); {
		case ref != nil:
			m[r.json] = ref
		case r.json != "productSpecification":
			m[r.json] = nil // mandatory in TMF637's profile: present, if only as null
		}
	}
	if places := v.places(); places != nil {
		m["place"] = places
	}
	m["productPrice"] = orEmpty(fromJSON(vals[aPrice]))
	rel, svc, res := []any{}, []any{}, []any{}
	for _, l := range v.links {
		ref := map[string]any{"id": l.id, "href": base + tmfProducts + "/" + l.id, "name": l.name}
		switch l.kind.json {
		case "productRelationship":
			rel = append(rel, map[string]any{"relationshipType": l.kind.tmf, "product": ref})
		case "realizingService":
			svc = append(svc, ref)
		default:
			res = append(res, ref)
		}
	}
	m["productRelationship"], m["realizingService"], m["realizingResource"] = rel, svc, res
	return m
}

// servicenow shows the product as ServiceNow's Product Inventory Open API
// does; deprecated gives the smaller shape of /productinventory.
func (v *view) servicenow(deprecated bool) map[string]any {
	vals := v.ci.Values
	m := map[string]any{}
	v.common(m)
	m["status"] = stateOf(text(vals[aState])).display
	for _, r := range refs[:2] {
		ref := v.ref(r.attr)
		if ref == nil {
			ref = map[string]any{"id": "", "name": ""}
		}
		if deprecated {
			ref = map[string]any{"id": ref["id"], "name": cmp.Or(ref["name"], any(""))}
		} else if _, ok := ref["internalId"]; !ok && ref["id"] != "" {
			ref["internalId"] = ref["id"]
		}
		m[r.json] = ref
	}
	m["place"] = ""
	if places := v.places(); len(places) > 0 {
		first, _ := places[0].(map[string]any)
		m["place"] = map[string]any{"id": cmp.Or(first["id"], any("")), "name": cmp.Or(first["name"], any(""))}
	}
	rel, svc, res := []any{}, []any{}, []any{}
	for _, l := range v.links {
		switch l.kind.json {
		case "productRelationship":
			rel = append(rel, map[string]any{"id": l.id, "name": l.name, "relationshipType": l.kind.sn})
		case "realizingService":
			svc = append(svc, map[string]any{"id": l.id, "name": l.name})
		default:
			res = append(res, map[string]any{"id": l.id, "name": l.name})
		}
	}
	m["productRelationship"], m["realizingService"], m["realizingResource"] = rel, svc, res
	if !deprecated {
		m["href"] = snProducts + "/" + v.ci.SysID
		m["productPrice"] = []any{}
		m["billingAccount"] = "Not Specified."
		if ref := v.ref("billing_account"); ref != nil {
			m["billingAccount"] = ref
		}
	}
	return m
}

// common sets what both shapes show alike.
func (v *view) common(m map[string]any) {
	vals := v.ci.Values
	m["id"] = v.ci.SysID
	for _, k := range []string{aName, aDescription, aPID} {
		if x, ok := vals[k]; ok && x != nil {
			m[k] = text(x)
		}
	}
	if b, ok := vals[aIsBundle].(bool); ok {
		m["isBundle"] = b
	}
	m["relatedParty"] = v.parties()
	chars := make([]any, 0, len(v.chars))
	for _, c := range v.chars {
		obj := map[string]any{}
		if extra, ok := fromJSON(c.Values[cExtra]).(map[string]any); ok {
			maps.Copy(obj, extra)
		}
		obj["name"], obj["value"] = text(c.Values[cName]), c.Values[cValue]
		if c.Values[cIsJSON] == true {
			obj["value"] = fromJSON(c.Values[cValue])
		}
		if t, ok := c.Values[cValueType]; ok {
			obj["valueType"] = text(t)
		}
		chars = append(chars, obj)
	}
	m["productCharacteristic"] = chars
}

// ref is a reference object as the client sent it, its id (and name) as
// stored; nil when the product has none.
func (v *view) ref(attr string) map[string]any {
	vals := v.ci.Values
	obj, _ := fromJSON(vals[attr+refJSON]).(map[string]any)
	id, hasID := vals[attr]
	if obj == nil && !hasID {
		return nil
	}
	if obj == nil {
		obj = map[string]any{}
	}
	if hasID {
		obj["id"] = text(id)
	}
	if name, ok := vals[attr+"_name"]; ok && obj["name"] == nil {
		obj["name"] = text(name)
	}
	return obj
}

func (v *view) parties() []any {
	vals := v.ci.Values
	if list, ok := fromJSON(vals[aRelatedParty]).([]any); ok {
		return list
	}
	if id, ok := vals[aCustomer]; ok {
		return []any{map[string]any{"id": text(id), "@referredType": "Customer"}}
	}
	return []any{}
}

func (v *view) places() []any {
	vals := v.ci.Values
	if list, ok := fromJSON(vals[aPlaces]).([]any); ok {
		return list
	}
	if id, ok := vals[aPlace]; ok {
		p := map[string]any{"id": text(id)}
		if name, ok := vals[aPlaceName]; ok {
			p["name"] = text(name)
		}
		return []any{p}
	}
	return nil
}

func orEmpty(v any) any {
	if list, ok := v.([]any); ok {
		return list
	}
	return []any{}
}

// project keeps the attributes fields names (their first level: "a.b"
// keeps a), and those in always; no fields keeps everything. Unknown
// names are ignored.
func project(m map[string]any, fields []string, always ...string) map[string]any {
	if len(fields) == 0 {
		return m
	}
	out := map[string]any{}
	for _, f := range append(fields, always...) {
		f, _, _ = strings.Cut(f, ".")
		if x, ok := m[f]; ok {
			out[f] = x
		}
	}
	return out
}
