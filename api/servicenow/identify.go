package servicenow

import (
	"net/http"

	"github.com/irego/irego/api"
	"github.com/irego/irego/engine"
	"github.com/irego/irego/payload"
)

// identify serves the four identifyreconcile calls: commit says Apply (or
// only Identify), enhanced says the options parameter applies (else the
// plain call's all-or-nothing options).
func (h *handler) identify(commit, enhanced bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		opts := engine.StrictApplyOptions()
		if enhanced {
			var err error
			if opts, err = engine.ParseApplyOptions(r.URL.Query().Get("options")); err != nil {
				// Documented: a malformed chunk is a 500 naming the chunk.
				writeError(w, r, &api.Error{Status: http.StatusInternalServerError, Message: "Invalid options parameter", Detail: err.Error()})
				return
			}
		}
		body, e := api.ReadBody(r)
		if e != nil {
			writeError(w, r, e)
			return
		}
		p, err := api.DecodeRelaxed(body, payload.DecodeBytes)
		if err != nil {
			writeError(w, r, badBody(err))
			return
		}
		run := h.e.Identify
		if commit {
			run = h.e.Apply
		}
		res, err := run(r.Context(), r.URL.Query().Get("sysparm_data_source"), p, opts)
		if err != nil {
			writeError(w, r, engineError(err))
			return
		}
		api.WriteAppendedJSON(w, http.StatusOK, func(b []byte) []byte {
			b = append(b, `{"result":`...)
			return append(res.AppendJSON(b), '}')
		})
	}
}
