package tmf637

import (
	"bytes"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"

	"github.com/irego/irego/api"
)

// snRequired are the attributes ServiceNow requires to create a product.
var snRequired = []string{"name", "productOffering.id", "productSpecification.id"}

// GET /api/sn_prd_invt/product[/{id}] and the deprecated
// /productinventory[/{inventoryId}]. A list answers 200 with every match,
// 206 with a page of them, 404 when none matches (or the offset is past
// the last).
func (h *handler) snRead(deprecated bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q, e := snQuery(r)
		if e != nil {
			writeError(w, r, e)
			return
		}
		show := func(v *view) map[string]any { return project(v.servicenow(deprecated), q.fields) }
		if h.readOne(w, r, q, show) {
			return
		}
		items, total, capped, err := h.find(r.Context(), q, "", show)
		if err != nil {
			writeError(w, r, engineError(err))
			return
		}
		if capped > 0 {
			api.NoteScanCapped(w, capped)
		}
		w.Header().Set("X-Total-Count", strconv.Itoa(total))
		switch {
		case total == 0:
			writeError(w, r, &api.Error{Status: http.StatusNotFound, Message: "No Record found", Detail: "no product matches the query"})
			return
		case len(items) == 0:
			writeError(w, r, api.Errorf(http.StatusNotFound, "No Record found", "offset %d is past the last of the %d matching products", q.offset, total))
			return
		}
		w.Header().Set("Content-Range", fmt.Sprintf("items %d-%d", q.offset+1, q.offset+len(items)))
		if link := api.PageLinksRel(r, "offset", "limit", q.offset, q.limit, total, "previous"); link != "" {
			w.Header().Set("Link", link)
		}
		status := http.StatusOK
		if q.offset > 0 || len(items) < total {
			status = http.StatusPartialContent
		}
		api.WriteJSON(w, status, items)
	}
}

// POST /api/sn_prd_invt/product and /productinventory: an array of products
// (or one object), stored all or none. The reply echoes each product with
// its id (and, on /product, its href and an empty productPrice): one object
// for one product, else an array; 201, or 200 when every product's pid
// named a stored product, which it updated.
func (h *handler) snCreate(deprecated bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		objs, single, e := readProducts(r)
		if e != nil {
			writeError(w, r, e)
			return
		}
		ins := make([]*input, len(objs))
		for i, obj := range objs {
			at := fmt.Sprintf("product[%d]", i)
			for _, f := range snRequired {
				if !present(obj, f) {
					writeError(w, r, &api.Error{Status: http.StatusBadRequest, Message: "Invalid payload. Mandatory field missing: " + f, Detail: at + "." + f + " is required"})
					return
				}
			}
			in, err := parseProduct(obj, at)
			if err != nil {
				writeError(w, r, engineError(err))
				return
			}
			ins[i] = in
		}
		out, err := h.create(r.Context(), snSource, ins)
		if err != nil {
			writeError(w, r, engineError(err))
			return
		}
		replies := make([]any, len(objs))
		status := http.StatusOK
		for i, s := range out {
			if s.insert {
				status = http.StatusCreated
			}
			replies[i] = echo(objs[i], s.id, deprecated)
		}
		if single || len(replies) == 1 {
			api.WriteJSON(w, status, replies[0])
			return
		}
		api.WriteJSON(w, status, replies)
	}
}

// readProducts reads a POST body: an array of product objects or one
// object, in strict JSON or ServiceNow's single-quoted style.
func readProducts(r *http.Request) ([]map[string]any, bool, *api.Error) {
	body, e := api.ReadBody(r)
	if e != nil {
		return nil, false, e
	}
	empty := &api.Error{Status: http.StatusBadRequest, Message: "Empty payload.", Detail: "send a product, or an array of products"}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, false, empty
	}
	v, err := api.DecodeRelaxed(body, decodeJSON)
	if err != nil {
		return nil, false, &api.Error{Status: http.StatusBadRequest, Message: "Exception while reading request", Detail: err.Error()}
	}
	var objs []map[string]any
	switch x := v.(type) {
	case map[string]any:
		objs = append(objs, x)
	case []any:
		for i, el := range x {
			obj, ok := el.(map[string]any)
			if !ok {
				return nil, false, api.Errorf(http.StatusBadRequest, "Invalid payload.", "product[%d] is %s, not an object", i, describe(el))
			}
			objs = append(objs, obj)
		}
	default:
		return nil, false, api.Errorf(http.StatusBadRequest, "Invalid payload.", "want a product object or an array of them, got %s", describe(v))
	}
	if len(objs) == 0 || (len(objs) == 1 && len(objs[0]) == 0) {
		return nil, false, empty
	}
	_, single := v.(map[string]any)
	return objs, single, nil
}

// present reports whether a dotted path holds a non-empty string.
func present(obj map[string]any, path string) bool {
	var cur any = obj
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return false
		}
		cur = m[k]
	}
	s, ok := cur.(string)
	return ok && s != ""
}

// echo is ServiceNow's reply to a created product: what the client sent,
// with the product's id; on /product also its href, an empty productPrice
// and the internalId of its offering and specification.
func echo(obj map[string]any, id string, deprecated bool) map[string]any {
	out := maps.Clone(obj)
	out["id"] = id
	if deprecated {
		return out
	}
	out["href"] = snProducts + "/" + id
	out["productPrice"] = []any{}
	for _, k := range []string{"productOffering", "productSpecification"} {
		if ref, ok := out[k].(map[string]any); ok {
			ref = maps.Clone(ref)
			if _, has := ref["internalId"]; !has {
				ref["internalId"] = ref["id"]
			}
			out[k] = ref
		}
	}
	return out
}

// PATCH /api/sn_prd_invt/order/product/{id} (and /product/{id}): the
// attributes the body sets, in either API's shape, replace the product's;
// null removes one and a list replaces the whole list. 200 with the
// product as ServiceNow shows it; relations may name products not stored
// yet, as on POST.
func (h *handler) snPatch(w http.ResponseWriter, r *http.Request) {
	objs, _, e := readProducts(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	if len(objs) != 1 {
		writeError(w, r, api.Errorf(http.StatusBadRequest, "Invalid payload.", "send one product to update, not %d", len(objs)))
		return
	}
	obj := objs[0]
	// ServiceNow's state is TMF637's status, which the patch is merged over.
	if st, ok := obj["state"]; ok {
		if _, both := obj["status"]; !both {
			obj["status"] = st
			delete(obj, "state")
		}
	}
	s, err := h.patch(r, snSource, r.PathValue("id"), obj)
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	v, err := h.load(r.Context(), s.id)
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	w.Header().Set("ETag", api.ETag(v.ci.Version))
	api.WriteJSON(w, http.StatusOK, v.servicenow(false))
}

// DELETE /api/sn_prd_invt/order/product/{id} (and /product/{id}): as on
// TMF637's path, answered in ServiceNow's error envelope.
func (h *handler) snDelete(w http.ResponseWriter, r *http.Request) { h.tmfDelete(w, r) }
