package servicenow

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
	"github.com/irego/irego/store"
)

// defaultLimit is the page size when sysparm_limit is absent, as on a
// ServiceNow instance.
const defaultLimit = 10000

// row renders a record as ServiceNow's Table API does: every value a
// string, plus the system fields and the discovery fields the engine keeps
// (they win over values of the same name stored by older versions).
func row(rec *store.Record) map[string]string {
	m := make(map[string]string, len(rec.Values)+8)
	for k, v := range rec.Values {
		m[k] = payload.Canonical(v)
	}
	if rec.Source != "" {
		m["discovery_source"] = rec.Source
	}
	// Records written before the discovery times were kept fall back to
	// their creation and last change.
	first, last := rec.FirstDiscovered, rec.LastDiscovered
	if first.IsZero() {
		first = rec.Created
	}
	if last.IsZero() {
		last = rec.Updated
	}
	m["first_discovered"] = first.UTC().Format(time.DateTime)
	m["last_discovered"] = last.UTC().Format(time.DateTime)
	m["sys_id"] = rec.SysID
	m["sys_class_name"] = rec.Class
	m["sys_created_on"] = rec.Created.UTC().Format(time.DateTime)
	m["sys_updated_on"] = rec.Updated.UTC().Format(time.DateTime)
	return m
}

// project keeps only fields (all of them when fields is empty); a field the
// row lacks is rendered empty.
func project(m map[string]string, fields []string) map[string]string {
	if len(fields) == 0 {
		return m
	}
	out := make(map[string]string, len(fields))
	for _, f := range fields {
		out[f] = m[f]
	}
	return out
}

// fieldsParam reads sysparm_fields, a comma-separated list.
func fieldsParam(r *http.Request) []string {
	var out []string
	for _, f := range strings.Split(r.URL.Query().Get("sysparm_fields"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// GET /api/now/table/{class}
func (h *handler) tableList(w http.ResponseWriter, r *http.Request) {
	if dedupTables[r.PathValue("class")] {
		h.page(w, r, fieldsParam(r), h.dedupRows)
		return
	}
	h.list(w, r, fieldsParam(r))
}

// GET /api/now/table/{class}/{sys_id}
func (h *handler) tableGet(w http.ResponseWriter, r *http.Request) {
	if dedupTables[r.PathValue("class")] {
		h.dedupGet(w, r)
		return
	}
	rec, e := h.record(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	w.Header().Set("ETag", api.ETag(rec.Version))
	api.WriteJSON(w, http.StatusOK, map[string]any{"result": project(row(rec), fieldsParam(r))})
}

// list answers a page of the records of a class and its subclasses that
// match sysparm_query, with X-Total-Count and Link headers. The engine
// pages: without a filter or an order the page and the count cost class
// membership keys; with one, it reads at most its scan limit of records
// and keeps only the page's worth of sort keys (api.NoteScanCapped says
// when the limit cut the reading short).
func (h *handler) list(w http.ResponseWriter, r *http.Request, fields []string) {
	q, offset, limit, e := listParams(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	class := r.PathValue("class")
	own, rest := q.ownClasses()
	filters, rest := rest.filters()
	sel := engine.Selection{Class: class, Classes: own, Filters: filters, Offset: offset, Limit: limit}
	if len(rest.alternatives) > 0 {
		sel.Match = func(rec *store.Record) bool { return rest.match(row(rec)) }
	}
	if len(q.order) > 0 && q.order[0] != (orderTerm{field: "sys_id"}) { // sys_id order is the membership keys' own
		sel.SortKey = func(rec *store.Record) []string { return q.sortKey(row(rec)) }
		sel.Compare = q.compareKeys
		if o := q.order[0]; len(q.order) == 1 && !systemFields[o.field] {
			sel.OrderBy, sel.Desc = o.field, o.desc // from the index when the field is indexed
		}
	}
	pg, err := h.e.Select(r.Context(), sel)
	if errors.Is(err, engine.ErrUnknownClass) {
		writeError(w, r, invalidTable(class))
		return
	}
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	rows := make([]map[string]string, 0, len(pg.Records))
	for _, rec := range pg.Records {
		rows = append(rows, project(row(rec), fields))
	}
	if pg.Capped {
		api.NoteScanCapped(w, pg.Scanned)
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(pg.Total))
	if link := pageLinks(r, offset, limit, pg.Total); link != "" {
		w.Header().Set("Link", link)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"result": rows})
}

// listParams reads a list's sysparm_query, sysparm_offset and sysparm_limit.
func listParams(r *http.Request) (q *query, offset, limit int, e *api.Error) {
	params := r.URL.Query()
	q, err := parseQuery(params.Get("sysparm_query"))
	if err != nil {
		return nil, 0, 0, &api.Error{Status: http.StatusBadRequest, Message: "Invalid sysparm_query", Detail: err.Error()}
	}
	if limit, e = intParam(params, "sysparm_limit", defaultLimit); e != nil {
		return nil, 0, 0, e
	}
	if offset, e = intParam(params, "sysparm_offset", 0); e != nil {
		return nil, 0, 0, e
	}
	return q, offset, limit, nil
}

// page answers the page sysparm_offset and sysparm_limit ask for of the
// rows load finds matching sysparm_query, ordered as it says: for the small
// tables load holds whole (the de-duplication tasks).
func (h *handler) page(w http.ResponseWriter, r *http.Request, fields []string, load func(*http.Request, *query) ([]map[string]string, *api.Error)) {
	q, offset, limit, e := listParams(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	rows, e := load(r, q)
	if e != nil {
		writeError(w, r, e)
		return
	}
	q.sort(rows)
	total := len(rows)
	start, end := min(offset, total), total
	if limit < total-start {
		end = start + limit
	}
	page := make([]map[string]string, 0, end-start)
	for _, m := range rows[start:end] {
		page = append(page, project(m, fields))
	}
	w.Header().Set("X-Total-Count", strconv.Itoa(total))
	if link := pageLinks(r, offset, limit, total); link != "" {
		w.Header().Set("Link", link)
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"result": page})
}

func intParam(params url.Values, name string, def int) (int, *api.Error) {
	s := params.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0, api.Errorf(http.StatusBadRequest, "Invalid "+name, "%q is not a whole number >= 0", s)
	}
	return n, nil
}

// pageLinks is the Link header: first, prev, next and last pages.
func pageLinks(r *http.Request, offset, limit, total int) string {
	return api.PageLinks(r, "sysparm_offset", "sysparm_limit", offset, limit, total)
}

// baseURL is the scheme and host the client reached the server by.
func baseURL(r *http.Request) string { return api.BaseURL(r) }

// record reads the {sys_id} of a request, which must be of {class} or one
// of its subclasses.
func (h *handler) record(r *http.Request) (*store.Record, *api.Error) {
	class := r.PathValue("class")
	if _, ok := h.e.Rules().Class(class); !ok {
		return nil, invalidTable(class)
	}
	rec, err := h.e.Record(r.Context(), r.PathValue("sys_id"))
	if errors.Is(err, engine.ErrNotFound) {
		return nil, notFound()
	}
	if err != nil {
		return nil, engineError(err)
	}
	if c, ok := h.e.Rules().Class(rec.Class); !ok || !c.IsA(class) {
		return nil, notFound()
	}
	return rec, nil
}

func invalidTable(class string) *api.Error {
	return &api.Error{Status: http.StatusBadRequest, Message: "Invalid table " + class}
}

func notFound() *api.Error {
	return &api.Error{Status: http.StatusNotFound, Message: "No Record found", Detail: "Record doesn't exist or ACL restricts the record retrieval"}
}
