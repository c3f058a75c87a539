package tmf637

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
)

// GET /tmf-api/productInventory/v4/product and /product/{id}
func (h *handler) tmfRead(w http.ResponseWriter, r *http.Request) {
	q, e := tmfQuery(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	base := api.BaseURL(r)
	show := func(v *view) map[string]any { return project(v.tmf(base), q.fields, "id", "href") }
	if h.readOne(w, r, q, show) {
		return
	}
	items, total, capped, err := h.find(r.Context(), q, base, show)
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	if capped > 0 {
		api.NoteScanCapped(w, capped)
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	w.Header().Set("X-Result-Count", strconv.Itoa(len(items)))
	api.WriteJSON(w, http.StatusOK, items)
}

// readOne answers a read of the product {id}, which must also pass q's
// filters, when the path names one; it reports whether it did.
func (h *handler) readOne(w http.ResponseWriter, r *http.Request, q *listQuery, show func(*view) map[string]any) bool {
	id := r.PathValue("id")
	if id == "" {
		return false
	}
	filtered := len(q.where)+len(q.post) > 0
	q.where = append(q.where, engine.Condition{Attribute: "sys_id", Values: []string{id}})
	q.offset, q.limit = 0, 1
	var version *uint64 // of the product shown, for its ETag
	items, _, _, err := h.find(r.Context(), q, api.BaseURL(r), func(v *view) map[string]any {
		version = &v.ci.Version
		return show(v)
	})
	switch {
	case err != nil:
		writeError(w, r, engineError(err))
	case len(items) == 0 || version == nil:
		detail := "no product has the id " + id
		if filtered {
			detail += " and matches the filters"
		}
		writeError(w, r, &api.Error{Status: http.StatusNotFound, Message: "No Record found", Detail: detail})
	default:
		w.Header().Set("ETag", api.ETag(*version))
		api.WriteJSON(w, http.StatusOK, items[0])
	}
	return true
}

// POST /tmf-api/productInventory/v4/product: 201 with the product and a
// Location header equal to its href; 200 when its pid named a stored
// product, which it updated.
func (h *handler) tmfCreate(w http.ResponseWriter, r *http.Request) {
	obj, e := readObject(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	in, err := parseProduct(obj, "product")
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	if !in.status {
		writeError(w, r, api.Errorf(http.StatusBadRequest, "Missing mandatory attribute: status",
			"TMF637 requires a status to create a product; one of %s", stateNames(true)))
		return
	}
	out, err := h.create(r.Context(), tmfSource, []*input{in})
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	h.answer(w, r, out[0])
}

// answer replies with the product s wrote, as TMF637 shows it. Its
// events reach the listeners from the engine's outbox (hub.go).
func (h *handler) answer(w http.ResponseWriter, r *http.Request, s saved) {
	v, err := h.load(r.Context(), s.id)
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	m := v.tmf(api.BaseURL(r))
	w.Header().Set("ETag", api.ETag(v.ci.Version))
	status := http.StatusOK
	if s.insert {
		status = http.StatusCreated
		w.Header().Set("Location", m["href"].(string))
	}
	api.WriteJSON(w, status, m)
}

// PATCH /tmf-api/productInventory/v4/product/{id}: a JSON merge patch.
func (h *handler) tmfPatch(w http.ResponseWriter, r *http.Request) {
	if ct := r.Header.Get("Content-Type"); strings.Contains(ct, "json-patch") {
		writeError(w, r, api.Errorf(http.StatusUnsupportedMediaType, "Unsupported patch format",
			"%s is not supported; send a JSON merge patch (application/merge-patch+json)", ct))
		return
	}
	obj, e := readObject(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	s, err := h.patch(r, tmfSource, r.PathValue("id"), obj)
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	h.answer(w, r, s)
}

// DELETE /tmf-api/productInventory/v4/product/{id}[?cascade=true], and
// ServiceNow's DELETE /api/sn_prd_invt/order/product/{id}: 204, 404 for an
// unknown id, 409 while other products relate to it (unless cascade).
func (h *handler) tmfDelete(w http.ResponseWriter, r *http.Request) {
	cascade := false
	if s := r.URL.Query().Get("cascade"); s != "" {
		var err error
		if cascade, err = strconv.ParseBool(s); err != nil {
			writeError(w, r, api.Errorf(http.StatusBadRequest, "Invalid cascade", "%q is not true or false", s))
			return
		}
	}
	id := r.PathValue("id")
	before, err := h.load(r.Context(), id)
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	conditional, e := api.IfMatch(r, before.ci.Version)
	if e != nil {
		writeError(w, r, e)
		return
	}
	o := engine.DeleteOptions{Cascade: cascade, Source: tmfSource}
	if !strings.HasPrefix(r.URL.Path, tmfBase+"/") {
		o.Source = snSource
	}
	if conditional {
		o.IfVersions = map[string]uint64{id: before.ci.Version}
	}
	_, err = h.e.Delete(r.Context(), id, o)
	var re *engine.ReferencedError
	if errors.As(err, &re) {
		writeError(w, r, h.referenced(r, re))
		return
	}
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// referenced says which products point at the one a client would delete.
func (h *handler) referenced(r *http.Request, re *engine.ReferencedError) *api.Error {
	var refs []string
	for _, l := range re.By {
		name := ""
		if rec, err := h.e.Record(r.Context(), l.Other.SysID); err == nil {
			name = text(rec.Values[aName])
		}
		how := l.Type
		if k, ok := kindOf(l.Type); ok {
			how = k.json
		}
		refs = append(refs, fmt.Sprintf("%s %q (%s)", l.Other.SysID, name, how))
	}
	return api.Errorf(http.StatusConflict, "Product is referenced",
		"product %s is referenced by %s; remove those relations first, or delete with ?cascade=true to remove them with it",
		re.SysID, strings.Join(refs, ", "))
}

// POST /tmf-api/productInventory/v4/hub
func (h *handler) register(w http.ResponseWriter, r *http.Request) {
	obj, e := readObject(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	callback, _ := obj["callback"].(string)
	query, ok := obj["query"].(string)
	if !ok && obj["query"] != nil {
		writeError(w, r, engineError(badField("query", "want a string such as eventType=%s", createEvent)))
		return
	}
	s, err := h.hub.register(callback, query)
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	w.Header().Set("Location", api.BaseURL(r)+tmfHub+"/"+s.ID)
	api.WriteJSON(w, http.StatusCreated, s)
}

// DELETE /tmf-api/productInventory/v4/hub/{id}
func (h *handler) unregister(w http.ResponseWriter, r *http.Request) {
	ok, err := h.hub.unregister(r.PathValue("id"))
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	if !ok {
		writeError(w, r, &api.Error{Status: http.StatusNotFound, Message: "No such listener", Detail: "no event subscription has the id " + r.PathValue("id")})
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// readObject reads a body that must be one JSON object.
func readObject(r *http.Request) (map[string]any, *api.Error) {
	body, e := api.ReadBody(r)
	if e != nil {
		return nil, e
	}
	v, err := decodeJSON(body)
	if err != nil {
		return nil, &api.Error{Status: http.StatusBadRequest, Message: "Invalid JSON body", Detail: err.Error()}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, api.Errorf(http.StatusBadRequest, "Invalid JSON body", "want a JSON object, got %s", describe(v))
	}
	return obj, nil
}
