package ilmt

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/irego/irego/api"
	"github.com/irego/irego/auth"
	"github.com/irego/irego/license"
	"github.com/irego/irego/settings"
)

// POST /api/get_token with {"user", "password"} (or a form with those
// fields): the user's API token. Any failure to get one (a body without
// both, a wrong password) is answered 500 "Bad Request", the one error
// License Metric Tool documents for it, with the reason as detail.
func (h *handler) getToken(w http.ResponseWriter, r *http.Request) {
	body, e := api.ReadBody(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	// JSON as documented; a form (user=...&password=...) as curl -d sends
	// by default works too.
	var cred struct{ User, Password string }
	if _, err := api.DecodeRelaxed(body, func(b []byte) (any, error) { return nil, json.Unmarshal(b, &cred) }); err != nil {
		form, ferr := url.ParseQuery(string(body))
		if ferr != nil || !form.Has("user") {
			writeError(w, r, api.Errorf(http.StatusInternalServerError, "Bad Request", `the body must be {"user": "...", "password": "..."}: %v`, err))
			return
		}
		cred.User, cred.Password = form.Get("user"), form.Get("password")
	}
	if cred.User == "" || cred.Password == "" {
		writeError(w, r, api.Errorf(http.StatusInternalServerError, "Bad Request", `give "user" and "password"`))
		return
	}
	if _, err := h.users.SignIn(r.Context(), cred.User, cred.Password, r.RemoteAddr); err != nil {
		if errors.Is(err, auth.ErrBadCredentials) {
			writeError(w, r, &api.Error{Status: http.StatusInternalServerError, Message: "Bad Request", Detail: "Invalid user name or password"})
		} else if e := api.Throttled(err); e != nil {
			w.Header().Set("Retry-After", strconv.Itoa(e.RetryAfter))
			writeError(w, r, e)
		} else {
			writeError(w, r, internal(err))
		}
		return
	}
	token, err := h.users.Token(cred.User)
	if err != nil {
		writeError(w, r, internal(err))
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"token": token})
}

// GET /api/import_status.json[?run=complete|raw_only[&wait=true]]: the
// import state; run (admin) starts an import: complete computes usage,
// raw_only only refreshes the computer systems and titles. wait=true
// answers once it has ended.
func (h *handler) importStatus(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	if run := params.Get("run"); run != "" {
		kind := license.Run(strings.ToLower(strings.TrimSpace(run)))
		if kind != license.RunComplete && kind != license.RunRawOnly {
			writeError(w, r, api.Errorf(http.StatusBadRequest, "Bad Request", "run: %q is not an import irego runs; give run=complete or run=raw_only", run))
			return
		}
		if !viewer(r).Admin {
			writeError(w, r, api.Errorf(http.StatusForbidden, "Forbidden", "run=%s: starting an import needs the %s role", kind, auth.Admin))
			return
		}
		h.m.StartRun(h.m.Context(), kind) // false: one runs already, which is what was asked for
		if wait, _ := strconv.ParseBool(params.Get("wait")); wait {
			if err := h.m.Wait(r.Context()); err != nil {
				writeError(w, r, &api.Error{Status: http.StatusServiceUnavailable, Message: "Request abandoned", Detail: err.Error()})
				return
			}
		}
	}
	st, err := h.m.State()
	if err != nil {
		writeError(w, r, internal(err))
		return
	}
	importHeaders(w, st)
	writeJSON(w, http.StatusOK, st)
}

// GET /api/sam/configs: every advanced server setting.
func (h *handler) getConfigs(w http.ResponseWriter, r *http.Request) {
	all, err := h.set.All()
	if err != nil {
		writeError(w, r, internal(err))
		return
	}
	writeJSON(w, http.StatusOK, all)
}

// PUT /api/sam/configs with {"name": value, ...} or [{"name", "value"}]:
// change settings, all or nothing.
func (h *handler) putConfigs(w http.ResponseWriter, r *http.Request) {
	body, e := api.ReadBody(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	changes, err := decodeConfigs(body)
	if err != nil {
		writeError(w, r, api.Errorf(http.StatusBadRequest, "Bad Request", "%v", err))
		return
	}
	var invalid *settings.InvalidError
	if err := h.set.Set(changes); errors.As(err, &invalid) {
		writeError(w, r, api.Errorf(http.StatusBadRequest, "Bad Request", "%v", err))
		return
	} else if err != nil {
		writeError(w, r, internal(err))
		return
	}
	h.getConfigs(w, r)
}

func decodeConfigs(body []byte) (map[string]string, error) {
	var v any
	if _, err := api.DecodeRelaxed(body, func(b []byte) (any, error) { return nil, json.Unmarshal(b, &v) }); err != nil {
		return nil, fmt.Errorf("body: not JSON: %v", err)
	}
	out := map[string]string{}
	add := func(name string, value any) error {
		text, ok := settings.Text(value)
		if !ok {
			return fmt.Errorf("body: %s: give the value as text, a number or a boolean", name)
		}
		out[name] = text
		return nil
	}
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if err := add(k, val); err != nil {
				return nil, err
			}
		}
	case []any:
		for i, it := range x {
			m, ok := it.(map[string]any)
			name, _ := m["name"].(string)
			if !ok || name == "" {
				return nil, fmt.Errorf(`body: item %d: want {"name": ..., "value": ...}`, i+1)
			}
			if err := add(name, m["value"]); err != nil {
				return nil, err
			}
		}
	default:
		return nil, fmt.Errorf(`body: want {"name": value, ...} or [{"name": ..., "value": ...}]`)
	}
	return out, nil
}

// metricsTable is GET /api/sam/v2/metrics.
var metricsTable = &table{
	columns: []column{{name: "id", kind: number}, {name: "code_name"}, {name: "display_name"}, {name: "source_type", kind: number}},
	order:   []string{"id"},
}

// GET /api/sam/v2/metrics: the metric catalogue.
func (h *handler) metrics(w http.ResponseWriter, r *http.Request) {
	h.serveRows(w, r, metricsTable, func(p *pager) *api.Error {
		ms, err := h.m.Metrics()
		if err != nil {
			return internal(err)
		}
		for _, m := range ms {
			p.add(row{"id": m.ID, "code_name": m.CodeName, "display_name": m.DisplayName, "source_type": m.SourceType})
		}
		return nil
	})
}

// groupsTable is GET /api/sam/v2/computer_groups.
var groupsTable = &table{
	columns: []column{{name: "id", kind: number}, {name: "name"}, {name: "parent_id", kind: number}, {name: "condition"}, {name: "users", kind: list}},
	order:   []string{"id"},
}

// GET /api/sam/v2/computer_groups: the groups the caller may see.
func (h *handler) groups(w http.ResponseWriter, r *http.Request) {
	h.serveRows(w, r, groupsTable, func(p *pager) *api.Error {
		gs, err := h.m.Groups(viewer(r))
		if err != nil {
			return internal(err)
		}
		p.addAll(groupRows(gs))
		return nil
	})
}

func groupRows(gs []license.Group) []row {
	rows := make([]row, 0, len(gs))
	for _, g := range gs {
		rw := row{"id": g.ID, "name": g.Name, "condition": g.Condition, "users": g.Users, "parent_id": nil}
		if g.ParentID != nil {
			rw["parent_id"] = *g.ParentID
		}
		rows = append(rows, rw)
	}
	return rows
}

// PUT /api/sam/v2/computer_groups with a list of groups (or one): create
// or change them, all or nothing.
func (h *handler) putGroups(w http.ResponseWriter, r *http.Request) {
	body, e := api.ReadBody(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	var changes []license.GroupChange
	if _, err := api.DecodeRelaxed(body, func(b []byte) (any, error) { return nil, decodeList(b, &changes) }); err != nil {
		writeError(w, r, api.Errorf(http.StatusBadRequest, "Bad Request", "the body must be a list of computer groups {id, name, parent_id, condition, users}: %v", err))
		return
	}
	gs, err := h.m.PutGroups(changes)
	var invalid *license.InvalidError
	switch {
	case errors.As(err, &invalid):
		writeError(w, r, api.Errorf(http.StatusBadRequest, "Bad Request", "%v", err))
	case err != nil:
		writeError(w, r, internal(err))
	default:
		q, _ := groupsTable.parseQuery(&http.Request{URL: &url.URL{}}, h.now()) // every column, every group
		writeJSON(w, http.StatusOK, q.list(groupsTable, groupRows(gs)))
	}
}

// DELETE /api/sam/v2/computer_groups/{id}.
func (h *handler) deleteGroup(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err == nil {
		err = h.m.DeleteGroup(id)
	}
	var invalid *license.InvalidError
	switch {
	case errors.Is(err, strconv.ErrSyntax), errors.As(err, &invalid):
		writeError(w, r, api.Errorf(http.StatusBadRequest, "Bad Request", "%v", err))
	case errors.Is(err, license.ErrNoGroup):
		writeError(w, r, api.Errorf(http.StatusNotFound, "Not Found", "no computer group %s", r.PathValue("id")))
	case errors.Is(err, license.ErrGroupInUse):
		writeError(w, r, api.Errorf(http.StatusConflict, "Conflict", "computer group %s has groups or contracts under it; move them first", r.PathValue("id")))
	case err != nil:
		writeError(w, r, internal(err))
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// decodeList decodes a JSON list into out, or a single object as a list of
// one.
func decodeList[T any](b []byte, out *[]T) error {
	if err := json.Unmarshal(b, out); err == nil {
		return nil
	}
	var one T
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	*out = []T{one}
	return nil
}
