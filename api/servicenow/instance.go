package servicenow

import (
	"errors"
	"net/http"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
)

// instanceRelation is one relation of a CI as ServiceNow's CMDB Instance
// API shows it. The type's value is the relation type's name (irego has no
// cmdb_rel_type records).
type instanceRelation struct {
	SysID  string   `json:"sys_id"`
	Type   refValue `json:"type"`
	Target refValue `json:"target"`
}

type refValue struct {
	DisplayValue string `json:"display_value"`
	Link         string `json:"link,omitempty"`
	Value        string `json:"value"`
}

// GET /api/now/cmdb/instance/{class}: sys_id and name of each CI.
func (h *handler) instanceList(w http.ResponseWriter, r *http.Request) {
	h.list(w, r, []string{"sys_id", "name"})
}

// GET /api/now/cmdb/instance/{class}/{sys_id}: the CI's attributes and its
// relations both ways.
func (h *handler) instanceGet(w http.ResponseWriter, r *http.Request) {
	rec, e := h.record(r)
	if e != nil {
		writeError(w, r, e)
		return
	}
	ci, err := h.e.Get(r.Context(), rec.SysID)
	if errors.Is(err, engine.ErrNotFound) {
		writeError(w, r, notFound())
		return
	}
	if err != nil {
		writeError(w, r, engineError(err))
		return
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"result": map[string]any{
		"attributes":         row(rec),
		"outbound_relations": h.relations(r, ci.Outbound),
		"inbound_relations":  h.relations(r, ci.Inbound),
	}})
}

// relations renders links, naming each far end by its name when it has one.
func (h *handler) relations(r *http.Request, links []engine.Link) []instanceRelation {
	out := make([]instanceRelation, 0, len(links))
	for _, l := range links {
		name := l.Other.SysID
		if rec, err := h.e.Record(r.Context(), l.Other.SysID); err == nil {
			if n := payload.Canonical(rec.Values["name"]); n != "" {
				name = n
			}
		}
		out = append(out, instanceRelation{
			SysID: l.SysID,
			Type:  refValue{DisplayValue: l.Type, Value: l.Type},
			Target: refValue{DisplayValue: name, Value: l.Other.SysID,
				Link: baseURL(r) + "/api/now/cmdb/instance/" + l.Other.Class + "/" + l.Other.SysID},
		})
	}
	return out
}
